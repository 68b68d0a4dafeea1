import postgres from 'postgres'
import type { TestProject } from 'vitest/node'
import { startEmbedded } from '../../db/embedded.ts'
import type { Sql } from '../../db/connect.ts'
import { migrate } from '../../data/migrate.ts'
import { seed } from '../../data/seed/generate.ts'
import { scales } from '../../data/seed/scales.ts'

export const TEST_SEED = 7

declare module 'vitest' {
  export interface ProvidedContext {
    embeddedUrl: string
    postgisUrl: string | null
  }
}

async function prepare(url: string) {
  const sql = postgres(url, { onnotice: () => {}, max: 2 }) as Sql
  try {
    await migrate(sql)
    await seed(sql, { scale: scales.test, seed: TEST_SEED })
  } finally {
    await sql.end()
  }
}

/**
 * One embedded database for the whole run, and a fresh database on the real
 * PostGIS named by TEST_POSTGIS_URL. In CI a missing PostGIS fails the run:
 * a suite that silently skips proves nothing.
 */
export default async function setup(project: TestProject) {
  const embedded = await startEmbedded(undefined, { quiet: true })
  const embeddedUrl = `postgres://postgres@${embedded.host}:${embedded.port}/postgres`
  // A failed setup must not leave the embedded server keeping the run alive.
  await prepare(embeddedUrl).catch(async (err) => {
    await embedded.stop()
    throw err
  })
  project.provide('embeddedUrl', embeddedUrl)

  let postgisUrl: string | null = null
  const admin = process.env.TEST_POSTGIS_URL
  if (admin) {
    const u = new URL(admin)
    const name = `gridwatch_test_${process.pid}`
    const root = postgres(admin, { onnotice: () => {}, max: 1 })
    await root.unsafe(`DROP DATABASE IF EXISTS ${name}`)
    await root.unsafe(`CREATE DATABASE ${name}`)
    await root.end()
    u.pathname = `/${name}`
    postgisUrl = u.toString()
    await prepare(postgisUrl)
  } else if (process.env.CI) {
    throw new Error('CI must test against a real PostGIS: set TEST_POSTGIS_URL (.ci/run does)')
  }
  project.provide('postgisUrl', postgisUrl)

  return async () => {
    await embedded.stop()
    if (admin && postgisUrl) {
      const root = postgres(admin, { onnotice: () => {}, max: 1 })
      await root.unsafe(`DROP DATABASE IF EXISTS ${new URL(postgisUrl).pathname.slice(1)} WITH (FORCE)`).catch(() => {})
      await root.end()
    }
  }
}
