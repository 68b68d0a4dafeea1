import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Sql } from '../db/connect.ts'
import { transaction } from '../db/transaction.ts'

const migrationsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations')

export function listMigrations(): { name: string; sql: string }[] {
  return fs
    .readdirSync(migrationsDir)
    .filter((f) => /^\d{3}_.+\.sql$/.test(f))
    .sort()
    .map((name) => ({ name, sql: fs.readFileSync(path.join(migrationsDir, name), 'utf8') }))
}

/**
 * Applies the migrations not yet applied, each in its own transaction, under
 * an advisory lock so that two API processes starting together do not race.
 * Returns the names it applied.
 */
export async function migrate(sql: Sql): Promise<string[]> {
  const applied: string[] = []
  await transaction(sql, async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(7340021)`
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`
    const done = new Set((await tx`SELECT name FROM schema_migrations`).map((r) => r.name as string))
    for (const m of listMigrations()) {
      if (done.has(m.name)) continue
      await tx.unsafe(m.sql)
      await tx`INSERT INTO schema_migrations (name) VALUES (${m.name})`
      applied.push(m.name)
    }
  })
  return applied
}
