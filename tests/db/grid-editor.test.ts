import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Sql } from '../../api/db/connect.ts'
import { startServer, type RunningServer } from '../../api/server.ts'
import { TileCache } from '../../tiles/cache.ts'
import { tilesCovering } from '../../tiles/tile-math.ts'
import { loginAs, type Client } from '../helpers/session.ts'
import { targets } from '../helpers/targets.ts'

// Relative area error allowed between a parent and the union of its children (as in seed-invariants).
const TOL = 1e-7

/**
 * The invariants of tests/db/seed-invariants.test.ts, for one village: its
 * grids cover it with no gap and no overlap, each grid's micro-grids cover
 * the grid, every household is in exactly one grid and one micro-grid of
 * that grid (inside both), and the roll-ups equal direct counts. Without
 * ST_Intersection/ST_SymDifference, which PGlite's PostGIS fails on such
 * inputs: areas add up, every child is inside, the union has the parent's area.
 */
async function expectInvariants(sql: Sql, villageId: number) {
  const covers = await sql`
    WITH pairs AS (
      SELECT 'village' AS level, v.id, v.geom AS parent, g.geom AS child FROM admin_units v JOIN grids g ON g.village_id = v.id AND g.kind = 'basic' WHERE v.id = ${villageId}
      UNION ALL
      SELECT 'grid', p.id, p.geom, c.geom FROM grids p JOIN grids c ON c.parent_id = p.id WHERE p.village_id = ${villageId}),
    per AS (
      SELECT level, id, ST_Area(min(parent::text)::geometry) AS parent_area, sum(ST_Area(child)) AS child_sum, ST_Area(ST_Union(child)) AS union_area,
             count(*) FILTER (WHERE NOT ST_CoveredBy(child, ST_Buffer(parent, 1e-9))) AS outside,
             count(*) FILTER (WHERE NOT ST_IsValid(child)) AS invalid
      FROM pairs GROUP BY level, id)
    SELECT level, count(*)::int AS parents, max(abs(child_sum - parent_area) / parent_area) AS worst_sum,
           max(abs(union_area - parent_area) / parent_area) AS worst_union, sum(outside)::int AS outside, sum(invalid)::int AS invalid
    FROM per GROUP BY level ORDER BY level`
  expect(covers.map((r) => r.level)).toEqual(['grid', 'village'])
  for (const r of covers) {
    expect(r.worst_sum, r.level).toBeLessThan(TOL)
    expect(r.worst_union, r.level).toBeLessThan(TOL)
    expect({ outside: r.outside, invalid: r.invalid }).toEqual({ outside: 0, invalid: 0 })
  }
  // Every grid has micro-grids.
  const [bare] = await sql`SELECT count(*)::int AS n FROM grids g WHERE g.village_id = ${villageId} AND g.kind = 'basic'
                           AND NOT EXISTS (SELECT 1 FROM grids m WHERE m.parent_id = g.id)`
  expect(bare.n).toBe(0)
  const [h] = await sql`
    SELECT count(*)::int AS n,
           count(*) FILTER (WHERE h.micro_grid_id IS NULL OR m.parent_id <> h.grid_id)::int AS wrong_micro,
           count(*) FILTER (WHERE NOT ST_DWithin(g.geom, h.geom, 1e-9))::int AS outside_grid,
           count(*) FILTER (WHERE NOT ST_DWithin(m.geom, h.geom, 1e-9))::int AS outside_micro,
           count(*) FILTER (WHERE (SELECT count(*) FROM grids o WHERE o.kind = 'basic' AND ST_Contains(o.geom, h.geom)) > 1)::int AS in_two
    FROM households h JOIN grids g ON g.id = h.grid_id LEFT JOIN grids m ON m.id = h.micro_grid_id
    WHERE g.village_id = ${villageId}`
  expect(h.n).toBeGreaterThan(0)
  expect(h).toMatchObject({ wrong_micro: 0, outside_grid: 0, outside_micro: 0, in_two: 0 })
  const bad = await sql`
    WITH direct AS (
      SELECT 'grid' AS level, g.id, count(h.id)::int AS n, count(h.id) FILTER (WHERE h.risk_level = 'red')::int AS red
      FROM grids g LEFT JOIN households h ON h.grid_id = g.id WHERE g.village_id = ${villageId} AND g.kind = 'basic' GROUP BY g.id
      UNION ALL
      SELECT 'micro', g.id, count(h.id)::int, count(h.id) FILTER (WHERE h.risk_level = 'red')::int
      FROM grids g LEFT JOIN households h ON h.micro_grid_id = g.id WHERE g.village_id = ${villageId} AND g.kind = 'micro' GROUP BY g.id
      UNION ALL
      SELECT 'village', ${villageId}, count(*)::int, count(*) FILTER (WHERE h.risk_level = 'red')::int
      FROM households h JOIN grids g ON g.id = h.grid_id WHERE g.village_id = ${villageId})
    SELECT d.level, d.id, d.n, r.households FROM direct d
    LEFT JOIN household_rollups r ON r.level = d.level AND r.unit_id = d.id
    WHERE r.households IS DISTINCT FROM d.n OR r.red IS DISTINCT FROM d.red`
  expect(bad).toEqual([])
  // No roll-up row is left for a grid that is gone.
  const [orphans] = await sql`SELECT count(*)::int AS n FROM household_rollups r WHERE r.level IN ('grid', 'micro')
                              AND NOT EXISTS (SELECT 1 FROM grids g WHERE g.id = r.unit_id)`
  expect(orphans.n).toBe(0)
}

for (const target of targets()) {
  describe(`grid editor on ${target.name}`, () => {
    let s: RunningServer
    let sql: Sql
    let village: { id: number; code: string }
    let townA: Client, townB: Client, commander: Client, planner: Client, worker: Client
    const base = () => `/api/villages/${village.code}/cover`

    const cover = async () => (await (await townA.get(base())).json()) as {
      version: number; village: { geom: unknown }; grids: { key: string; code: string; kind: string; parent: string | null; households: number; geom: unknown }[]
    }
    /** Everything a refused request must leave alone. */
    const state = async () => {
      const [r] = await sql`
        SELECT (SELECT count(*)::int FROM grid_cover_versions WHERE village_id = ${village.id}) AS versions,
               (SELECT coalesce(sum(version), 0)::int FROM grids WHERE village_id = ${village.id}) AS grid_versions,
               (SELECT count(*)::int FROM grids WHERE village_id = ${village.id}) AS grids,
               (SELECT count(*)::int FROM audit_log) AS audit,
               (SELECT string_agg(h.id || ':' || h.grid_id || ':' || h.micro_grid_id, ',' ORDER BY h.id)
                FROM households h JOIN grids g ON g.id = h.grid_id WHERE g.village_id = ${village.id}) AS households`
      return r
    }
    /** A grid of the village grown by `m` metres (clipped to the village), as GeoJSON. */
    const grown = async (code: string, m: number) => {
      const [r] = await sql`SELECT ST_AsGeoJSON(ST_Intersection(ST_Buffer(g.geom::geography, ${m})::geometry, v.geom), 10)::json AS g
                            FROM grids g JOIN admin_units v ON v.id = g.village_id WHERE g.code = ${code}`
      return r.g
    }
    const save = (who: Client, change: unknown, version: number) => who.send('POST', base(), { change, version })

    beforeAll(async () => {
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true })
      sql = s.db.sql
      // A village with several grids and households, the first such in code order.
      const [v] = await sql`
        SELECT v.id, v.code FROM admin_units v JOIN grids g ON g.village_id = v.id AND g.kind = 'basic'
        WHERE EXISTS (SELECT 1 FROM households h WHERE h.grid_id = g.id)
        GROUP BY v.id, v.code HAVING count(*) >= 5 ORDER BY v.code LIMIT 1`
      village = { id: v.id as number, code: v.code as string }
      const township = village.code.slice(0, 9) + '000'
      const [other] = await sql`SELECT code FROM admin_units WHERE level = 'township' AND code <> ${township} ORDER BY code LIMIT 1`
      const [grid] = await sql`SELECT code FROM grids WHERE village_id = ${village.id} AND kind = 'basic' ORDER BY code LIMIT 1`
      ;[townA, townB, commander, planner, worker] = await Promise.all([
        loginAs(s, 'township', township), loginAs(s, 'township', other.code as string),
        loginAs(s, 'commander', village.code.slice(0, 6) + '000000'), loginAs(s, 'planner', village.code.slice(0, 6) + '000000'),
        loginAs(s, 'grid_worker', grid.code as string),
      ])
    })
    afterAll(() => s?.close())

    it('shows the village cover: grids and micro-grids with household counts, the outline, version 0', async () => {
      const c = await cover()
      expect(c.version).toBe(0)
      expect(c.village.geom).toMatchObject({ type: 'MultiPolygon' })
      const basic = c.grids.filter((g) => g.kind === 'basic')
      expect(basic.length).toBeGreaterThanOrEqual(5)
      const [n] = await sql`SELECT count(*)::int AS n FROM households h JOIN grids g ON g.id = h.grid_id WHERE g.village_id = ${village.id}`
      expect(basic.reduce((a, g) => a + g.households, 0)).toBe(n.n)
      expect(c.grids.filter((g) => g.kind === 'micro').reduce((a, g) => a + g.households, 0)).toBe(n.n)
      await expectInvariants(sql, village.id)
    })

    it('previews a reshape: the cover after it, who moves where, sizes; nothing written', async () => {
      const before = await state()
      const c = await cover()
      const code = c.grids.find((g) => g.kind === 'basic')!.code
      const r = await townA.send('POST', `${base()}/preview`, { change: { op: 'reshape', grid: code, geometry: await grown(code, 150) } })
      expect(r.status).toBe(200)
      const p = await r.json()
      expect(p.valid).toBe(true)
      expect(p.problems).toEqual([])
      expect(p.version).toBe(0)
      expect(p.changed).toContain(code)
      expect(p.changed.length).toBeGreaterThan(1) // neighbours were clipped
      expect(p.moves.length).toBeGreaterThan(0)
      expect(p.moves.every((m: { newGrid: string }) => m.newGrid === code)).toBe(true)
      expect(p.flows.every((f: { to: string }) => f.to === code)).toBe(true)
      // Counts after = counts before + what came in − what went out.
      const g = p.counts.find((x: { key: string }) => x.key === code)
      expect(g.after).toBe(g.before + p.flows.reduce((a: number, f: { households: number }) => a + f.households, 0))
      expect(['low', 'ok', 'high']).toContain(g.size)
      expect(p.guidance).toEqual({ basic: { min: 60, max: 100 }, micro: { min: 10, max: 30 } })
      expect(await state()).toEqual(before)
    })

    it('saves each kind of change in one transaction, and the village stays a valid cover', async () => {
      let version = (await cover()).version
      const ops = async (c: Awaited<ReturnType<typeof cover>>) => {
        const basic = c.grids.filter((g) => g.kind === 'basic')
        const [pair] = await sql`
          SELECT a.code AS a, b.code AS b FROM grids a JOIN grids b ON a.village_id = b.village_id AND a.code < b.code
          WHERE a.village_id = ${village.id} AND a.kind = 'basic' AND b.kind = 'basic' AND ST_Relate(a.geom, b.geom, 'F***1****')
          ORDER BY a.code DESC, b.code LIMIT 1`
        const [line] = await sql`
          SELECT ST_AsGeoJSON(ST_MakeLine(ST_MakePoint(ST_XMin(geom) - 0.001, c.y), ST_MakePoint(ST_XMax(geom) + 0.001, c.y)))::json AS l
          FROM grids, LATERAL (SELECT ST_Y(ST_PointOnSurface(geom)) AS y) c WHERE code = ${basic[1].code}`
        const [spot] = await sql`
          SELECT ST_AsGeoJSON(ST_Intersection(ST_Buffer(h.geom::geography, 120)::geometry, v.geom), 10)::json AS g
          FROM households h JOIN grids g ON g.id = h.grid_id JOIN admin_units v ON v.id = g.village_id
          WHERE g.village_id = ${village.id} ORDER BY h.id LIMIT 1`
        return { pair, line: line.l, spot: spot.g, basic }
      }
      const steps: ((c: Awaited<ReturnType<typeof cover>>) => Promise<unknown>)[] = [
        async (c) => ({ op: 'reshape', grid: c.grids[0].code, geometry: await grown(c.grids[0].code, 100) }),
        async (c) => ({ op: 'split', grid: (await ops(c)).basic[1].code, line: (await ops(c)).line }),
        async (c) => ({ op: 'merge', grids: [(await ops(c)).pair.a, (await ops(c)).pair.b] }),
        async (c) => ({ op: 'add', geometry: (await ops(c)).spot }),
        async (c) => ({ op: 'delete', grid: (await ops(c)).basic.at(-1)!.code }),
      ]
      for (const step of steps) {
        const c = await cover()
        const change = (await step(c)) as { op: string }
        const r = await save(townA, change, version)
        const body = await r.json()
        expect(r.status, `${change.op}: ${JSON.stringify(body.error ?? '')}`).toBe(200)
        expect(body.version).toBe(version + 1)
        version = body.version
        const after = await cover()
        expect(after.version).toBe(version)
        const basicBefore = c.grids.filter((g) => g.kind === 'basic').length
        const basicAfter = after.grids.filter((g) => g.kind === 'basic').length
        expect(basicAfter - basicBefore, change.op).toBe({ reshape: 0, split: 1, merge: -1, add: 1, delete: -1 }[change.op])
        // Codes nest: new grids are under the village, micro-grids under their grid.
        for (const g of after.grids) {
          expect(g.code.startsWith(g.kind === 'basic' ? village.code : g.parent!)).toBe(true)
        }
        await expectInvariants(sql, village.id)
      }
      const [v] = await sql`SELECT actor, actor_role, jsonb_array_length(before) AS b, jsonb_array_length(after) AS a, operation ->> 'op' AS op
                            FROM grid_cover_versions WHERE village_id = ${village.id} ORDER BY version DESC LIMIT 1`
      expect(v).toMatchObject({ actor: townA.username, actor_role: 'township', op: 'delete' })
      expect(v.b).toBeGreaterThan(v.a)
      // The audit log has who moved the grids.
      const [a] = await sql`SELECT count(*)::int AS n FROM audit_log WHERE actor = ${townA.username} AND table_name = 'grids'`
      expect(a.n).toBeGreaterThan(0)
    })

    it('refreshes the cached grid tiles after a save', async () => {
      const c = await cover()
      const code = c.grids.find((g) => g.kind === 'basic')!.code
      const [b] = await sql`SELECT ST_X(ST_PointOnSurface(geom)) AS x, ST_Y(ST_PointOnSurface(geom)) AS y FROM grids WHERE code = ${code}`
      const [t] = tilesCovering([b.x, b.y, b.x, b.y], 14)
      const path = `/tiles/grids/${t.z}/${t.x}/${t.y}.mvt`
      const first = await townA.get(path)
      expect(first.status).toBe(200)
      const etag = first.headers.get('ETag')
      expect(s.tiles.cache.get(TileCache.key('grids', t.z, t.x, t.y))).toBeDefined()
      const r = await save(townA, { op: 'reshape', grid: code, geometry: await grown(code, 80) }, c.version)
      expect(r.status).toBe(200)
      const started = Date.now()
      while (s.tiles.cache.get(TileCache.key('grids', t.z, t.x, t.y)) && Date.now() - started < 2000) await new Promise((x) => setTimeout(x, 20))
      expect(s.tiles.cache.get(TileCache.key('grids', t.z, t.x, t.y))).toBeUndefined()
      const second = await townA.get(path)
      expect(second.headers.get('ETag')).not.toBe(etag)
    })

    it('refuses the second of two saves from the same version with 409 and both versions', async () => {
      const c = await cover()
      const [g1, g2] = c.grids.filter((g) => g.kind === 'basic')
      const first = await save(townA, { op: 'reshape', grid: g1.code, geometry: await grown(g1.code, 40) }, c.version)
      expect(first.status).toBe(200)
      const before = await state()
      const second = await save(commander, { op: 'reshape', grid: g2.code, geometry: await grown(g2.code, 40) }, c.version)
      expect(second.status).toBe(409)
      const body = await second.json()
      expect(body.error.code).toBe('cover_conflict')
      expect(body.error.zh).toMatch(/他人/)
      expect(body.yours).toBe(c.version)
      expect(body.current).toBe(c.version + 1)
      expect(body.last).toMatchObject({ version: c.version + 1, actor: townA.username })
      expect(await state()).toEqual(before)
    })

    it('lets only grid editors inside their area save; refusals write nothing', async () => {
      const c = await cover()
      const code = c.grids.find((g) => g.kind === 'basic')!.code
      const change = { op: 'reshape', grid: code, geometry: await grown(code, 60) }
      const before = await state()
      for (const [who, status, err] of [[townB, 403, 'forbidden_scope'], [worker, 403, 'forbidden_role'], [planner, 403, 'forbidden_role']] as const) {
        for (const r of [
          await save(who, change, c.version),
          await who.send('POST', `${base()}/preview`, { change }),
          await who.send('POST', `${base()}/versions/0/restore`, { version: c.version }),
        ]) {
          expect(r.status, who.username).toBe(status)
          expect((await r.json()).error.code).toBe(err)
        }
      }
      // Without the CSRF token, even the right person is refused.
      expect((await townA.send('POST', base(), { change, version: c.version }, { csrf: false })).status).toBe(403)
      expect(await state()).toEqual(before)
    })

    it('refuses bad input with 4xx, a message in Chinese and English, and nothing written', async () => {
      const c = await cover()
      const code = c.grids.find((g) => g.kind === 'basic')!.code
      const [v] = await sql`SELECT ST_XMin(geom) AS x0, ST_YMin(geom) AS y0, ST_XMax(geom) AS x1, ST_YMax(geom) AS y1 FROM admin_units WHERE id = ${village.id}`
      const mx = (v.x0 + v.x1) / 2, my = (v.y0 + v.y1) / 2, d = (v.x1 - v.x0) / 10
      const bowtie = { type: 'Polygon', coordinates: [[[mx - d, my - d], [mx + d, my + d], [mx + d, my - d], [mx - d, my + d], [mx - d, my - d]]] }
      const far = { type: 'Polygon', coordinates: [[[mx + 1, my], [mx + 1.01, my], [mx + 1.01, my + 0.01], [mx + 1, my]]] }
      const before = await state()
      const cases: [string, unknown, number, string][] = [
        ['not GeoJSON', { change: { op: 'reshape', grid: code, geometry: { type: 'Polygon', coordinates: [[[1, 2], [3, 4]]] } }, version: c.version }, 400, 'bad_input'],
        ['unclosed ring', { change: { op: 'reshape', grid: code, geometry: { type: 'Polygon', coordinates: [[[mx, my], [mx + d, my], [mx, my + d], [mx - d, my]]] } }, version: c.version }, 400, 'bad_input'],
        ['self-intersection', { change: { op: 'reshape', grid: code, geometry: bowtie }, version: c.version }, 400, 'invalid_geometry'],
        ['outside the village', { change: { op: 'reshape', grid: code, geometry: far }, version: c.version }, 400, 'outside_village'],
        ['unknown grid', { change: { op: 'delete', grid: village.code + '999' }, version: c.version }, 404, 'unknown_grid'],
        ['grid of another village', { change: { op: 'delete', grid: '530602999999001' }, version: c.version }, 404, 'unknown_grid'],
        ['unknown operation', { change: { op: 'explode', grid: code }, version: c.version }, 400, 'bad_input'],
        ['no version', { change: { op: 'delete', grid: code } }, 400, 'bad_input'],
        ['a line that does not cut', { change: { op: 'split', grid: code, line: { type: 'LineString', coordinates: [[mx + 2, my], [mx + 2.1, my]] } }, version: c.version }, 400, 'line_does_not_split'],
      ]
      for (const [what, body, status, err] of cases) {
        // A preview needs no version: that case is the save's alone.
        for (const path of what === 'no version' ? [base()] : [base(), `${base()}/preview`]) {
          const r = await townA.send('POST', path, body)
          const b = await r.json()
          expect(r.status, `${what} ${path}`).toBe(status)
          expect(b.error.code, what).toBe(err)
          expect(b.error.zh, what).toMatch(/[\u4e00-\u9fff]/)
          expect(b.error.en, what).toMatch(/[a-z]/)
        }
      }
      const raw = await townA.fetch(base(), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"change":' })
      expect(raw.status).toBe(400)
      for (const [path, status] of [['/api/villages/12/cover', 400], ['/api/villages/530602000000/cover', 400], ['/api/villages/530602999999/cover', 404],
        [`${base()}/versions/x`, 400], [`${base()}/versions/999`, 404]] as const) {
        const r = await townA.get(path)
        expect(r.status, path).toBe(status)
        expect((await r.json()).error.en).toBeTruthy()
      }
      expect(await state()).toEqual(before)
    })

    it('lists versions and restores one: the cover as it was, households back in their grids', async () => {
      const list = await (await townA.get(`${base()}/versions`)).json()
      expect(list.versions.length).toBeGreaterThanOrEqual(6)
      expect(list.versions[0]).toMatchObject({ actor: expect.any(String), operation: { op: expect.any(String) } })
      const original = await sql`SELECT code, ST_Area(geom) AS a FROM grids WHERE false`
      const [v1] = await sql`SELECT before FROM grid_cover_versions WHERE village_id = ${village.id} AND version = 1`
      const c = await cover()
      const r = await townA.send('POST', `${base()}/versions/0/restore`, { version: c.version })
      const body = await r.json()
      expect(r.status, JSON.stringify(body.error ?? '')).toBe(200)
      const now = await cover()
      expect(now.version).toBe(c.version + 1)
      expect(now.grids.map((g) => g.code).sort()).toEqual((v1.before as { code: string }[]).map((g) => g.code).sort())
      // Each grid has its original shape again (compared by area; codes matched above).
      const diff = await sql`
        SELECT g.code FROM grids g JOIN jsonb_array_elements(${sql.json(v1.before as never)}::jsonb) x ON x ->> 'code' = g.code
        WHERE abs(ST_Area(g.geom) - ST_Area(ST_GeomFromGeoJSON(x ->> 'geom'))) > 1e-9 * ST_Area(g.geom)`
      expect(diff).toEqual(original)
      await expectInvariants(sql, village.id)
      // Households are back in the grids their codes were issued under.
      const [h] = await sql`SELECT count(*)::int AS n FROM households h JOIN grids g ON g.id = h.grid_id
                            WHERE g.village_id = ${village.id} AND substr(h.code, 1, 15) <> g.code`
      expect(h.n).toBe(0)
      const [last] = await sql`SELECT operation FROM grid_cover_versions WHERE village_id = ${village.id} ORDER BY version DESC LIMIT 1`
      expect(last.operation).toEqual({ op: 'restore', version: 0 })
    })
  })
}
