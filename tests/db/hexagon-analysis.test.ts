/**
 * The planners' hexagon analyses (api/analysis/catalog.ts hex_*) against direct SQL on the fixtures, on both
 * databases: each cell's households counted by PostGIS inside the cell's polygon, the grid workers shared out
 * by hand from the raw tables, the nearest shelter by a full scan, the cells with no worked grid within reach
 * by ST_DWithin. Then the files: the H3 index is a column GDAL reads, the polygon the geometry; a bad
 * resolution is a 400 that says what resolutions there are; a planner sees only their area.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { cellToBoundary, cellToLatLng, getResolution, isValidCell } from 'h3-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { loginAs, type Client } from '../helpers/session.ts'
import { targets } from '../helpers/targets.ts'
import { cellPolygon } from '../helpers/h3-cells.ts'
import { features, featureCount, gdalAvailable, ogrinfo } from '../helpers/gdal.ts'

const CITY = '530600000000'
const haveGdal = gdalAvailable('hexagon analysis suite')

interface HexRow { id: number; h3_index: string; resolution: number; households: number; people: number; vulnerable: number; grids: number }

for (const target of targets()) {
  describe(`hexagon analyses on ${target.name}`, () => {
    let s: RunningServer
    let planner: Client
    let town: string
    let prefix: string
    let dir: string
    const undo: (() => Promise<unknown>)[] = []

    async function run<R extends HexRow>(who: Client, name: string, query: string, unit = town) {
      const r = await who.get(`/api/analysis/${name}?unit=${unit}&${query}`)
      const body = await r.json()
      expect(r.status, JSON.stringify(body).slice(0, 300)).toBe(200)
      expect(body.truncated).toBe(false)
      return body as { rows: R[]; totals: Record<string, number>; geojson: { features: { id: number; geometry: { type: string; coordinates: number[][][][] }; properties: R }[] } }
    }

    /** Per cell (by H3 index) and grid: the households PostGIS finds inside the cell's polygon, under `prefix`. */
    async function directPairs(cells: string[], under = prefix) {
      const rows = await s.db.sql<{ k: number; grid_id: number; households: number; people: number; vulnerable: number }[]>`
        SELECT p.k::int AS k, h.grid_id, count(*)::int AS households, sum(h.members)::int AS people, sum(h.vulnerable)::int AS vulnerable
        FROM unnest(${cells.map((c) => JSON.stringify(cellPolygon(c)))}::text[]) WITH ORDINALITY p(gj, k)
        JOIN households h ON ST_Within(h.geom, ST_SetSRID(ST_GeomFromGeoJSON(p.gj), 4326))
        JOIN grids g ON g.id = h.grid_id
        WHERE g.code LIKE ${under + '%'}
        GROUP BY 1, 2`
      return rows.map((r) => ({ ...r, cell: cells[r.k - 1] }))
    }
    const perCell = (pairs: Awaited<ReturnType<typeof directPairs>>) => {
      const m = new Map<string, { households: number; people: number; vulnerable: number; grids: number }>()
      for (const p of pairs) {
        const e = m.get(p.cell) ?? { households: 0, people: 0, vulnerable: 0, grids: 0 }
        e.households += p.households
        e.people += p.people
        e.vulnerable += p.vulnerable
        e.grids++
        m.set(p.cell, e)
      }
      return m
    }

    beforeAll(async () => {
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true })
      planner = await loginAs(s, 'planner', CITY)
      dir = await mkdtemp(path.join(os.tmpdir(), 'hexcov-'))
      const sql = s.db.sql
      const [t] = await sql`SELECT substr(g.code, 1, 9) AS p FROM households h JOIN grids g ON g.id = h.grid_id GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`
      prefix = t.p
      town = `${prefix}000`
      // A gap to find: the grid workers and heads of the township's largest village moved out (put back after).
      const [v] = await sql`SELECT substr(g.code, 1, 12) AS v FROM households h JOIN grids g ON g.id = h.grid_id
                            WHERE g.code LIKE ${prefix + '%'} GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`
      const moved = await sql<{ id: number; grid_id: number }[]>`
        SELECT gw.id, gw.grid_id FROM grid_workers gw JOIN grids g ON g.id = gw.grid_id
        WHERE gw.role IN ('网格员', '网格长') AND g.code LIKE ${v.v + '%'}`
      expect(moved.length).toBeGreaterThan(0)
      await sql`UPDATE grid_workers SET grid_id = NULL WHERE id = ANY(${moved.map((m) => m.id)})`
      undo.push(async () => { for (const m of moved) await sql`UPDATE grid_workers SET grid_id = ${m.grid_id} WHERE id = ${m.id}` })
    })
    afterAll(async () => {
      for (const u of undo.reverse()) await u()
      await s?.close()
      if (dir) await rm(dir, { recursive: true, force: true })
    })

    for (const res of [6, 8]) {
      it(`hex_worker_load at resolution ${res}: each cell's households, people and grids are PostGIS's count in its polygon; workers shared by households`, async () => {
        const body = await run<HexRow & { workers: number; per_worker: number | null; over_limit: boolean }>(planner, 'hex_worker_load', `res=${res}&limit=30`)
        const cells = body.rows.map((r) => r.h3_index)
        expect(cells.length).toBeGreaterThan(1)
        expect(new Set(cells).size).toBe(cells.length)
        for (const c of cells) expect(isValidCell(c) && getResolution(c), c).toBe(res)
        const pairs = await directPairs(cells)
        const direct = perCell(pairs)
        // Every household of the township is in one cell, once.
        const [{ n }] = await s.db.sql`SELECT count(*)::int AS n FROM households h JOIN grids g ON g.id = h.grid_id WHERE g.code LIKE ${prefix + '%'}`
        expect(body.totals.households).toBe(n)
        expect([...direct.values()].reduce((a, e) => a + e.households, 0)).toBe(n)
        // Workers as worker_load counts them: of the basic grid or its micro-grids; shared by the grid's households in each cell.
        const workers = new Map((await s.db.sql<{ g: number; n: number }[]>`
          SELECT coalesce(g.parent_id, g.id) AS g, count(*)::int AS n FROM grid_workers gw JOIN grids g ON g.id = gw.grid_id
          WHERE gw.role IN ('网格员', '网格长') GROUP BY 1`).map((r) => [r.g, r.n]))
        const gridHouseholds = new Map((await s.db.sql<{ g: number; n: number }[]>`
          SELECT h.grid_id AS g, count(*)::int AS n FROM households h JOIN grids g ON g.id = h.grid_id WHERE g.code LIKE ${prefix + '%'} GROUP BY 1`)
          .map((r) => [r.g, r.n]))
        const share = new Map<string, number>()
        for (const p of pairs) share.set(p.cell, (share.get(p.cell) ?? 0) + ((workers.get(p.grid_id) ?? 0) * p.households) / gridHouseholds.get(p.grid_id)!)
        let over = 0
        for (const r of body.rows) {
          const d = direct.get(r.h3_index)!
          expect({ households: r.households, people: r.people, vulnerable: r.vulnerable, grids: r.grids }, r.h3_index).toEqual(d)
          expect(r.resolution).toBe(res)
          const w = share.get(r.h3_index)!
          // Rounded to 2 decimals by PostgreSQL (half away from zero): within half a hundredth.
          expect(Math.abs(r.workers - w), r.h3_index).toBeLessThanOrEqual(0.005 + 1e-9)
          expect(r.over_limit, r.h3_index).toBe(d.households > 30 * w)
          if (w > 0) expect(Math.abs(r.per_worker! - d.households / w), r.h3_index).toBeLessThanOrEqual(0.05 + 1e-9)
          else expect(r.per_worker).toBeNull()
          if (r.over_limit) over++
        }
        // The village without workers makes some cell over any limit.
        expect(over).toBeGreaterThan(0)
        expect(body.totals.over_cells).toBe(over)
        // The map's features: the cell's hexagon, its vertices the ones h3-js gives.
        const f = body.geojson.features[0]
        expect(f.geometry.type).toBe('MultiPolygon')
        const ring = f.geometry.coordinates[0][0]
        const own = cellToBoundary(f.properties.h3_index, true)
        expect(ring).toHaveLength(own.length)
        ring.forEach(([lon, lat], k) => expect(Math.max(Math.abs(lon - own[k][0]), Math.abs(lat - own[k][1]))).toBeLessThan(1e-6))
      })
    }

    it('hex_shelter_distance: the nearest certified shelter to each cell centre, as a full scan of shelters finds it', async () => {
      const body = await run<HexRow & { nearest_shelter: string | null; nearest_m: number | null; far: boolean }>(planner, 'hex_shelter_distance', 'res=7&distance=1500')
      const cells = body.rows.map((r) => r.h3_index)
      expect(cells.length).toBeGreaterThan(1)
      const direct = perCell(await directPairs(cells))
      const centres = cells.map((c) => cellToLatLng(c))
      const nearest = await s.db.sql<{ k: number; code: string; m: number }[]>`
        SELECT p.k::int AS k, n.code, n.m FROM unnest(${centres.map((c) => c[1])}::float8[], ${centres.map((c) => c[0])}::float8[]) WITH ORDINALITY p(lon, lat, k)
        CROSS JOIN LATERAL (SELECT sh.code, ST_Distance(sh.geom::geography, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326)::geography, false) AS m
                            FROM shelters sh WHERE sh.certified_safe ORDER BY 2, 1 LIMIT 1) n`
      let far = 0
      for (const r of body.rows) {
        const n = nearest.find((x) => cells[x.k - 1] === r.h3_index)!
        expect({ households: r.households, people: r.people, vulnerable: r.vulnerable, grids: r.grids }, r.h3_index).toEqual(direct.get(r.h3_index))
        expect([r.nearest_shelter, r.nearest_m], r.h3_index).toEqual([n.code, Math.round(n.m)])
        expect(r.far).toBe(n.m > 1500)
        if (r.far) far++
      }
      expect(body.totals.far_cells).toBe(far)
      // Worst first: the farthest cell leads.
      expect(body.rows[0].nearest_m).toBe(Math.max(...body.rows.map((r) => r.nearest_m ?? Infinity)))
    })

    it('hex_no_worker: the cells with households and no worked grid of the area within reach, as ST_DWithin finds them', async () => {
      const all = (await run(planner, 'hex_worker_load', 'res=8')).rows
      const direct = perCell(await directPairs(all.map((r) => r.h3_index)))
      for (const reach of [0, 300]) {
        const body = await run(planner, 'hex_no_worker', `res=8&reach=${reach}`)
        const expected = await s.db.sql<{ h3: string }[]>`
          SELECT p.h3 FROM unnest(${all.map((r) => r.h3_index)}::text[], ${all.map((r) => JSON.stringify({ type: 'Polygon', coordinates: [cellToBoundary(r.h3_index, true)] }))}::text[]) p(h3, gj)
          WHERE NOT EXISTS (
            SELECT 1 FROM grids g WHERE g.kind = 'basic' AND g.code LIKE ${prefix + '%'}
              AND EXISTS (SELECT 1 FROM grid_workers gw JOIN grids wg ON wg.id = gw.grid_id
                          WHERE gw.role IN ('网格员', '网格长') AND coalesce(wg.parent_id, wg.id) = g.id)
              AND ST_DWithin(g.geom::geography, ST_SetSRID(ST_GeomFromGeoJSON(p.gj), 4326)::geography, ${reach}, false))`
        expect(expected.length, `reach ${reach}`).toBeGreaterThan(0)
        expect(body.rows.map((r) => r.h3_index).sort(), `reach ${reach}`).toEqual(expected.map((r) => r.h3).sort())
        for (const r of body.rows) expect({ households: r.households, people: r.people, vulnerable: r.vulnerable, grids: r.grids }).toEqual(direct.get(r.h3_index))
        expect(body.totals.cells).toBe(expected.length)
      }
      // Every worker is within 20 km of some cell of the township's own workers: nothing left.
      expect((await run(planner, 'hex_no_worker', 'res=8&reach=20000')).rows).toEqual([])
    })

    it.skipIf(!haveGdal)('exports each format with the H3 index as a text column and the hexagon as the geometry; GDAL reads them', async () => {
      const body = await run(planner, 'hex_worker_load', 'res=7&limit=30')
      const want = body.rows.map((r) => r.h3_index).sort()
      for (const fmt of ['csv', 'geojson', 'gpkg', 'xlsx'] as const) {
        const r = await planner.get(`/api/export/analysis/hex_worker_load.${fmt}?unit=${town}&res=7&limit=30`)
        expect(r.status, fmt).toBe(200)
        expect(Number(r.headers.get('x-feature-count')), fmt).toBe(want.length)
        const file = path.join(dir, `${target.name}-hex.${fmt}`)
        await writeFile(file, Buffer.from(await r.arrayBuffer()))
        const out = await ogrinfo(['-ro', '-al', ...(fmt === 'csv' ? ['-oo', 'AUTODETECT_TYPE=NO'] : []), file])
        // Text, not a number: an H3 index is 15 hex digits and leads with 8.
        expect(out, fmt).toMatch(/^h3_index: String/m)
        const got = features(out)
        expect(got.map((x) => x.h3_index).sort(), fmt).toEqual(want)
        expect(featureCount(out), fmt).toBe(want.length)
        if (fmt === 'gpkg' || fmt === 'geojson') {
          expect(out, fmt).toMatch(/^Geometry: Multi Polygon/m)
          const first = /MULTIPOLYGON \(\(\(([^)]*)\)\)\)/.exec(out)![1].split(',')
          expect(first.length, fmt).toBe(7)
        }
        if (fmt === 'csv') {
          const text = await (await planner.get(`/api/export/analysis/hex_worker_load.csv?unit=${town}&res=7&limit=30`)).text()
          expect(text.replace(/^\uFEFF/, '').split('\n')[0]).toBe('id,h3_index,resolution,households,people,vulnerable,grids,workers,per_worker,over_limit,lon,lat,wkt')
        }
      }
    })

    it('refuses a bad resolution with a 400 that names the resolutions, on the analysis, its job and its export', async () => {
      for (const res of ['4', '9', '7.5', 'x', '', '15']) {
        for (const [method, url] of [['GET', `/api/analysis/hex_worker_load?unit=${town}&res=${res}`], ['POST', `/api/analysis/hex_no_worker/jobs?unit=${town}&res=${res}`],
          ['GET', `/api/export/analysis/hex_shelter_distance.gpkg?unit=${town}&res=${res}`]] as const) {
          const r = method === 'GET' ? await planner.get(url) : await planner.send('POST', url, {})
          const e = (await r.json()).error
          expect(r.status, url).toBe(400)
          expect(e.code, url).toBe('bad_input')
          expect(e.zh, url).toContain('H3 分辨率须为 5、6、7、8')
          expect(e.en, url).toContain('res:')
        }
      }
      expect((await planner.get(`/api/analysis/hex_worker_load?unit=${town}&res=7&res=8`)).status).toBe(400)
      expect((await planner.get(`/api/analysis/hex_no_worker?unit=${town}&reach=-1`)).status).toBe(400)
      // Not an analysis: an inherited property name is no analysis either.
      expect((await planner.get(`/api/analysis/constructor?unit=${town}`)).status).toBe(404)
    })

    it("shows a planner only their area: another township is 403; without a unit, their own township's households", async () => {
      const [other] = await s.db.sql`SELECT code FROM admin_units WHERE level = 'township' AND code <> ${town} AND code LIKE ${prefix.slice(0, 6) + '%'} ORDER BY code LIMIT 1`
      const local = await loginAs(s, 'planner', other.code as string)
      const r = await local.get(`/api/analysis/hex_worker_load?unit=${town}&res=7`)
      expect(r.status).toBe(403)
      expect((await r.json()).error.code).toBe('forbidden_scope')
      expect((await local.get(`/api/export/analysis/hex_worker_load.csv?unit=${town}&res=7`)).status).toBe(403)
      const mine = await local.get('/api/analysis/hex_worker_load?res=7')
      expect(mine.status).toBe(200)
      const body = await mine.json()
      const [{ n }] = await s.db.sql`SELECT count(*)::int AS n FROM households h JOIN grids g ON g.id = h.grid_id WHERE g.code LIKE ${(other.code as string).slice(0, 9) + '%'}`
      expect(body.totals.households).toBe(n)
      // A cell on the townships' border holds only this township's households.
      const direct = perCell(await directPairs(body.rows.map((x: HexRow) => x.h3_index), (other.code as string).slice(0, 9)))
      for (const x of body.rows as HexRow[]) expect(x.households, x.h3_index).toBe(direct.get(x.h3_index)!.households)
    })

    it('runs as a job like the others: the city in one part, the same answer as the one request', async () => {
      const q = 'res=6&reach=0'
      const whole = await (await planner.get(`/api/analysis/hex_no_worker?unit=${CITY}&${q}`)).json()
      const start = await planner.send('POST', `/api/analysis/hex_no_worker/jobs?unit=${CITY}&${q}`, {})
      let p = await start.json()
      expect(start.status, JSON.stringify(p)).toBe(202)
      for (let i = 0; i < 400 && (p.stage === 'running' || p.stage === 'queued'); i++) {
        await new Promise((r) => setTimeout(r, 50))
        p = await (await planner.get(`/api/analysis/jobs/${p.id}`)).json()
      }
      expect(p.stage, p.error).toBe('done')
      expect([p.done, p.total]).toEqual([1, 1])
      expect(p.result.totals).toEqual(whole.totals)
      expect(p.result.rows).toEqual(whole.rows)
      expect(whole.totals.cells).toBeGreaterThan(0)
      const list = await (await planner.get('/api/analysis')).json()
      expect(list.map((a: { id: string }) => a.id)).toEqual(expect.arrayContaining(['hex_worker_load', 'hex_shelter_distance', 'hex_no_worker']))
    })
  })
}
