import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { restoreSeedCovers } from '../helpers/grid-covers.ts'
import type { Sql } from '../../db/connect.ts'
import { expectInvariants } from '../helpers/cover-invariants.ts'
import { startServer, type RunningServer } from '../../api/server.ts'
import { TileCache } from '../../tiles/cache.ts'
import { tilesCovering } from '../../tiles/tile-math.ts'
import { loginAs, type Client } from '../helpers/session.ts'
import { targets } from '../helpers/targets.ts'

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
    afterAll(async () => {
      if (s) await restoreSeedCovers(s.db.sql)
      await s?.close()
    })

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

    it('redraws, splits and merges micro-grids within their grid: same checks, households re-assigned inside the grid, basic grids untouched', async () => {
      const c = await cover()
      // A grid with at least three micro-grids, two of them sharing an edge.
      const [pair] = await sql`
        SELECT p.code AS grid, a.code AS a, b.code AS b FROM grids p
        JOIN grids a ON a.parent_id = p.id JOIN grids b ON b.parent_id = p.id AND a.code < b.code AND ST_Relate(a.geom, b.geom, '****1****')
        WHERE p.village_id = ${village.id} AND (SELECT count(*) FROM grids m WHERE m.parent_id = p.id) >= 3
        ORDER BY p.code, a.code, b.code LIMIT 1`
      expect(pair, 'a grid with neighbouring micro-grids').toBeTruthy()
      const basicBefore = await sql`SELECT code, ST_AsText(geom) AS g FROM grids WHERE village_id = ${village.id} AND kind = 'basic' ORDER BY code`
      const gridOf = async () => (await sql`SELECT string_agg(h.id || ':' || h.grid_id, ',' ORDER BY h.id) AS s FROM households h JOIN grids g ON g.id = h.grid_id WHERE g.village_id = ${village.id}`)[0].s
      const homes = await gridOf()
      const micro = async (grid: string) => (await sql`SELECT m.code FROM grids m JOIN grids p ON p.id = m.parent_id WHERE p.code = ${grid} ORDER BY m.code`).map((r) => r.code as string)

      // Reshape: micro-grid a grown 40 m, kept inside its grid; its siblings give way.
      const [g] = await sql`SELECT ST_AsGeoJSON(ST_Intersection(ST_Buffer(m.geom::geography, 40)::geometry, p.geom), 10)::json AS g
                            FROM grids m JOIN grids p ON p.id = m.parent_id WHERE m.code = ${pair.a}`
      const pr = await townA.send('POST', `${base()}/preview`, { change: { op: 'reshape', grid: pair.a, geometry: g.g } })
      const pb = await pr.json()
      expect(pr.status, JSON.stringify(pb.error ?? '')).toBe(200)
      expect(pb.valid).toBe(true)
      expect(pb.changed).toContain(pair.a)
      // Counts per micro-grid against the micro guidance (10–30).
      expect(pb.guidance.micro).toEqual({ min: 10, max: 30 })
      expect(pb.counts.filter((x: { kind: string; parent: string }) => x.kind === 'micro' && x.parent === pair.grid).length).toBeGreaterThanOrEqual(3)
      expect(pb.flows).toEqual([])
      let r = await save(townA, { op: 'reshape', grid: pair.a, geometry: g.g }, c.version)
      expect(r.status, JSON.stringify((await r.clone().json()).error ?? '')).toBe(200)
      await expectInvariants(sql, village.id)

      // Split micro-grid b with a line through its middle, from side to side.
      const [line] = await sql`
        SELECT ST_AsGeoJSON(ST_MakeLine(ST_Translate(ST_Centroid(geom), -1, 0), ST_Translate(ST_Centroid(geom), 1, 0)), 10)::json AS l,
               (SELECT count(*)::int FROM households WHERE micro_grid_id = m.id) AS n
        FROM grids m WHERE code = ${pair.b}`
      const countBefore = (await micro(pair.grid)).length
      r = await save(townA, { op: 'split', grid: pair.b, line: line.l }, c.version + 1)
      const sb = await r.json()
      expect(r.status, JSON.stringify(sb.error ?? '')).toBe(200)
      expect(sb.added).toHaveLength(1)
      const after = await micro(pair.grid)
      expect(after.length).toBe(countBefore + 1)
      // The new micro-grid is numbered under its grid.
      expect(after.every((m) => m.startsWith(pair.grid) && m.length === 17)).toBe(true)
      await expectInvariants(sql, village.id)

      // Merge a with a micro-grid it shares an edge with now.
      const [nb] = await sql`
        SELECT n.code FROM grids a JOIN grids n ON n.parent_id = a.parent_id AND n.id <> a.id AND ST_Relate(a.geom, n.geom, '****1****')
        WHERE a.code = ${pair.a} ORDER BY n.code LIMIT 1`
      r = await save(townA, { op: 'merge', grids: [pair.a, nb.code] }, c.version + 2)
      const mb = await r.json()
      expect(r.status, JSON.stringify(mb.error ?? '')).toBe(200)
      expect(mb.removed).toEqual([nb.code])
      expect(await micro(pair.grid)).not.toContain(nb.code)
      await expectInvariants(sql, village.id)

      // None of it moved a basic grid or a household's grid.
      expect(await sql`SELECT code, ST_AsText(geom) AS g FROM grids WHERE village_id = ${village.id} AND kind = 'basic' ORDER BY code`).toEqual(basicBefore)
      expect(await gridOf()).toBe(homes)
      const [v] = await sql`SELECT operation FROM grid_cover_versions WHERE village_id = ${village.id} ORDER BY version DESC LIMIT 1`
      expect(v.operation).toEqual({ op: 'merge', grids: [pair.a, nb.code] })
    })

    it('refuses micro-grid changes that leave their grid or mix two grids, with nothing written', async () => {
      const before = await state()
      const c = await cover()
      const [m] = await sql`
        SELECT m.code, ST_AsGeoJSON(ST_Buffer(m.geom, 0.002), 10)::json AS big FROM grids m JOIN grids p ON p.id = m.parent_id
        WHERE p.village_id = ${village.id} ORDER BY m.code LIMIT 1`
      let r = await townA.send('POST', `${base()}/preview`, { change: { op: 'reshape', grid: m.code, geometry: m.big } })
      let body = await r.json()
      expect(r.status).toBe(400)
      expect(body.error).toMatchObject({ code: 'outside_parent', en: expect.stringMatching(/outside its grid/) })
      const [two] = await sql`
        SELECT a.code AS a, b.code AS b FROM grids a JOIN grids b ON a.parent_id <> b.parent_id AND ST_Relate(a.geom, b.geom, '****1****')
        WHERE a.kind = 'micro' AND b.kind = 'micro' AND a.code LIKE ${village.code + '%'} AND b.code LIKE ${village.code + '%'} LIMIT 1`
      r = await save(townA, { op: 'merge', grids: [two.a, two.b] }, c.version)
      body = await r.json()
      expect(r.status).toBe(400)
      expect(body.error.code).toBe('not_siblings')
      r = await save(townA, { op: 'merge', grids: [two.a, (two.b as string).slice(0, 15)] }, c.version)
      expect(r.status).toBe(400)
      r = await save(townB, { op: 'delete', grid: m.code }, c.version)
      expect(r.status).toBe(403)
      expect(await state()).toEqual(before)
    })

    it('lists versions and restores one: the cover as it was, households back in their grids', async () => {
      const list = await (await townA.get(`${base()}/versions`)).json()
      expect(list.versions.length).toBeGreaterThanOrEqual(6)
      expect(list.versions[0]).toMatchObject({ actor: expect.any(String), operation: { op: expect.any(String) } })
      // Who saved, by name (the history shows it; the login name is not for reading).
      expect(list.versions.find((v: { actor: string }) => v.actor === townA.username)?.actor_name).toBe('测试乡镇干部')
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
