/**
 * The seed as `npm run seed` runs it on a real server: two counties at once on two connections, with the
 * households' indexes, foreign keys and unique code set aside around the whole load and put back after (the
 * suite's own seed is one county on one connection, which never takes that path). And the seed's SQL functions
 * rewritten for speed (023, 024) against the definitions they replace (003, 002): the same rows.
 */
import fs from 'node:fs'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { Sql } from '../../db/connect.ts'
import { transaction } from '../../db/transaction.ts'
import { migrate } from '../../data/migrate.ts'
import { seed } from '../../data/seed/generate.ts'
import type { Scale } from '../../data/seed/scales.ts'

const admin = inject('postgisUrl')
const migration = (name: string) => fs.readFileSync(new URL(`../../data/migrations/${name}`, import.meta.url), 'utf8')

/** Indexes, constraints and trigger states of the tables the seed sets aside, as text to compare. */
const catalog = (sql: Sql) => sql<{ kind: string; name: string; def: string }[]>`
  SELECT 'index' AS kind, indexname AS name, indexdef AS def FROM pg_indexes WHERE tablename IN ('households', 'hazard_sites')
  UNION ALL
  SELECT 'constraint', conname, pg_get_constraintdef(oid) FROM pg_constraint
  WHERE conrelid IN ('households'::regclass, 'hazard_sites'::regclass)
  UNION ALL
  SELECT 'trigger', tgrelid::regclass::text || '.' || tgname, tgenabled::text FROM pg_trigger
  WHERE NOT tgisinternal AND tgrelid IN ('households'::regclass, 'hazard_sites'::regclass)
  ORDER BY 1, 2`

describe.skipIf(!admin)('the seed with two workers on PostGIS', () => {
  const name = `gridwatch_seed_parallel_${process.pid}`
  let root: Sql
  let sql: Sql
  let before: { kind: string; name: string; def: string }[]
  // Two small counties: two workers, each its own county.
  const two = (density: number): Scale => ({ name: 'two', counties: ['530626', '530629'], density, minTownships: 2 })

  beforeAll(async () => {
    root = postgres(admin!, { onnotice: () => {}, max: 1 }) as Sql
    await root.unsafe(`DROP DATABASE IF EXISTS ${name}`)
    await root.unsafe(`CREATE DATABASE ${name}`)
    const u = new URL(admin!)
    u.pathname = `/${name}`
    sql = postgres(u.toString(), { onnotice: () => {}, max: 4 }) as Sql
    await migrate(sql)
    before = await catalog(sql)
  })

  afterAll(async () => {
    await sql?.end()
    await root?.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {})
    await root?.end()
  })

  it('reports the failure of a county, not a deadlock, and puts everything back after both workers stopped', async () => {
    // At a fiftieth of the real density one of these counties has fewer households than it needs units:
    // its worker throws while the other is still writing its own county.
    await expect(seed(sql, { scale: two(0.02), seed: 7, parallel: 2 })).rejects.toThrow(/cannot give/)
    expect(await catalog(sql)).toEqual(before)
    const [{ busy }] = await sql`SELECT count(*)::int AS busy FROM pg_stat_activity
                                 WHERE datname = current_database() AND state <> 'idle' AND pid <> pg_backend_pid()`
    expect(busy).toBe(0)
    await seed(sql, { scale: two(0.1), seed: 7, parallel: 2 })
  })

  it('puts back every index, foreign key, unique constraint and trigger it set aside', async () => {
    const after = await catalog(sql)
    expect(after).toEqual(before)
    expect(after.find((r) => r.name === 'households_code_key')).toMatchObject({ kind: 'constraint', def: 'UNIQUE (code)' })
    const [{ invalid }] = await sql`SELECT count(*)::int AS invalid FROM pg_index WHERE NOT indisvalid`
    expect(invalid).toBe(0)
  })

  it('writes both counties, each household once in a micro-grid of its grid', async () => {
    const [r] = await sql`
      SELECT count(*)::int AS n, count(DISTINCT h.code)::int AS codes,
             count(DISTINCT substr(h.code, 1, 6))::int AS counties,
             count(*) FILTER (WHERE m.parent_id IS DISTINCT FROM h.grid_id)::int AS wrong_micro,
             count(*) FILTER (WHERE NOT ST_DWithin(m.geom, h.geom, 1e-9))::int AS outside_micro
      FROM households h LEFT JOIN grids m ON m.id = h.micro_grid_id`
    expect(r.n).toBeGreaterThan(1000)
    expect(r).toMatchObject({ codes: r.n, counties: 2, wrong_micro: 0, outside_micro: 0 })
  })

  it('computes the roll-ups once at the end, equal to direct counts', async () => {
    const bad = await sql`
      WITH direct AS (
        SELECT a.county_id AS id, count(*) AS hh, count(*) FILTER (WHERE h.risk_level = 'red') AS red, sum(h.members) AS people
        FROM households h JOIN grid_ancestry a ON a.grid_id = h.grid_id GROUP BY 1)
      SELECT d.id FROM direct d LEFT JOIN household_rollups r ON r.level = 'county' AND r.unit_id = d.id
      WHERE r.households IS DISTINCT FROM d.hh OR r.red IS DISTINCT FROM d.red OR r.people IS DISTINCT FROM d.people`
    expect(bad).toEqual([])
    const [t] = await sql`
      SELECT count(*)::int AS sites,
             count(*) FILTER (WHERE s.threatened_households <> (SELECT count(*) FROM hazard_threats x WHERE x.hazard_id = s.id))::int AS bad_counts
      FROM hazard_sites s`
    expect(t.sites).toBeGreaterThan(0)
    expect(t.bad_counts).toBe(0)
    const [h] = await sql`SELECT count(*)::int AS n FROM hazard_rollups`
    expect(h.n).toBeGreaterThan(0)
  })

  it("refresh_household_rollups (024) writes 002's rows, zeros for units with no household included", async () => {
    const old = migration('002_rollups.sql').match(/CREATE FUNCTION refresh_household_rollups\(\)[\s\S]*?END \$fn\$;/)![0]
      .replace('CREATE FUNCTION refresh_household_rollups()', 'CREATE FUNCTION pg_temp.refresh_002()')
    const rows = await transaction(sql, async (tx) => {
      await tx.unsafe(old)
      await tx`SELECT pg_temp.refresh_002()`
      const a = await tx`SELECT * FROM household_rollups ORDER BY level, unit_id`
      await tx`SELECT refresh_household_rollups()`
      const b = await tx`SELECT * FROM household_rollups ORDER BY level, unit_id`
      return { a, b }
    })
    expect(rows.a.length).toBeGreaterThan(1000)
    expect(rows.a.some((r) => r.households === 0)).toBe(true)
    expect(rows.b).toEqual(rows.a)
  })

  it("gw_subdivide (023) cuts 003's pieces, byte for byte, with and without relaxing and given seeds", async () => {
    const old = migration('003_subdivide.sql').match(/CREATE FUNCTION gw_subdivide\([\s\S]*?END \$fn\$;/)![0]
      .replace('CREATE FUNCTION gw_subdivide(', 'CREATE FUNCTION pg_temp.subdivide_003(')
    const cuts = await transaction(sql, async (tx) => {
      await tx.unsafe(old)
      const cut = (fn: string) => tx.unsafe(`
        SELECT u.id, c.n, c.relax, encode(ST_AsEWKB(s.geom), 'hex') AS geom, encode(ST_AsEWKB(s.label_point), 'hex') AS label
        FROM admin_units u
        CROSS JOIN (VALUES (0, 1), (1, 1), (7, 0), (7, 1), (12, 2)) c(n, relax),
        LATERAL ${fn}(u.geom, c.n, 11 + u.id, c.relax) s
        WHERE u.level IN ('township', 'village')
        UNION ALL
        SELECT u.id, -1, 1, encode(ST_AsEWKB(s.geom), 'hex'), encode(ST_AsEWKB(s.label_point), 'hex')
        FROM admin_units u, LATERAL ${fn}(u.geom, 0, 0, 1, ST_GeneratePoints(u.geom, 5, 3)) s
        WHERE u.level = 'township'
        ORDER BY 1, 2, 3, 4`)
      return { a: await cut('pg_temp.subdivide_003'), b: await cut('gw_subdivide') }
    })
    expect(cuts.a.length).toBeGreaterThan(500)
    expect(cuts.b).toEqual(cuts.a)
  })
})
