import { VectorTile } from '@mapbox/vector-tile'
import { PbfReader } from 'pbf'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { tileLayers } from '../../tiles/registry.ts'
import { tilesCovering } from '../../tiles/tile-math.ts'
import { loginAs, type Client } from '../helpers/session.ts'
import { targets } from '../helpers/targets.ts'

const CITY = '530600000000'

for (const target of targets()) {
  describe(`HTTP API on ${target.name}`, () => {
    let s: RunningServer
    let me: Client
    // A city-wide commander: sees everything, names included.
    const get = (path: string, headers: Record<string, string> = {}) => me.fetch(path, { headers })
    beforeAll(async () => {
      // The embedded target is served through its socket URL here; the
      // embedded server's own in-process listening is tested by the start-up suite.
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true })
      me = await loginAs(s, 'commander', CITY)
    })
    afterAll(() => s?.close())

    it('reports health with the PostGIS version', async () => {
      const r = await get('/api/health')
      expect(r.status).toBe(200)
      const body = await r.json()
      expect(body.ok).toBe(true)
      expect(body.postgis).toMatch(/^3\.\d+/)
      expect(body.tileEncoder).toBe(target.name === 'postgis' ? 'st_asmvt' : 'js')
    })

    it('serves TileJSON 3.0 for every layer', async () => {
      // Its bounds are where the data is (the test data fills one county), not the outlines of every county.
      const [d] = await s.db.sql`SELECT ST_XMin(e) AS w, ST_YMin(e) AS s, ST_XMax(e) AS e, ST_YMax(e) AS n FROM (SELECT ST_Extent(geom) AS e FROM grids WHERE kind = 'basic') y`
      const [a] = await s.db.sql`SELECT ST_XMax(e) - ST_XMin(e) AS width FROM (SELECT ST_Extent(geom) AS e FROM admin_units) x`
      for (const name of ['admin', 'grids', 'households', 'hazards', 'shelters', 'routes']) {
        const tj = await (await get(`/tiles/${name}.json`)).json()
        expect(tj.tilejson).toBe('3.0.0')
        // Paths: no public URL is configured, and the Host header is never trusted (tests/db/edge.test.ts).
        expect(tj.tiles[0]).toBe(`/tiles/${name}/{z}/{x}/{y}.mvt`)
        expect(tj.bounds[0]).toBeGreaterThan(102)
        expect(tj.bounds[2]).toBeLessThan(106)
        // (Other suites add sites and shelters to the shared database meanwhile: the grids' extent at least.)
        expect(tj.bounds[0]).toBeLessThanOrEqual(d.w + 1e-6)
        expect(tj.bounds[1]).toBeLessThanOrEqual(d.s + 1e-6)
        expect(tj.bounds[2]).toBeGreaterThanOrEqual(d.e - 1e-6)
        expect(tj.bounds[3]).toBeGreaterThanOrEqual(d.n - 1e-6)
        expect(tj.bounds[2] - tj.bounds[0]).toBeLessThan((a.width as number) * 0.8)
        expect(tj.minzoom).toBeLessThan(tj.maxzoom)
        expect(tj.vector_layers.length).toBeGreaterThan(0)
      }
    })

    it('refuses bad tile requests with 400/404 and a message, never 500', async () => {
      const cases: [string, number][] = [
        ['/tiles/nope/1/0/0.mvt', 404], ['/tiles/grids/1/2/0.mvt', 400], ['/tiles/grids/23/0/0.mvt', 400],
        ['/tiles/grids/-1/0/0.mvt', 400], ['/tiles/grids/a/b/c.mvt', 400], ['/tiles/grids/1/0/0.png', 404],
        ['/tiles/grids/1/0/0', 404], ['/tiles/grids/01/0/0.mvt', 400], ['/tiles/nope.json', 404], ['/tiles/grids.xml', 404],
        ['/api/households/0', 400], ['/api/households/1e3', 400], ['/api/households/99999999', 404], ['/api/units/12', 400],
        ['/api/units/999999999999', 404], ['/api/nothing', 404],
      ]
      for (const [path, status] of cases) {
        const r = await get(path)
        expect(r.status, path).toBe(status)
        const body = await r.json()
        expect(body.error.zh, path).toBeTruthy()
        expect(body.error.en, path).toBeTruthy()
      }
    })

    it('gzips tiles, sets ETag and Cache-Control, and answers 304 to a matching ETag', async () => {
      const [hh] = await s.db.sql`SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat FROM households ORDER BY id LIMIT 1`
      const [t] = tilesCovering([hh.lon, hh.lat, hh.lon, hh.lat], 14)
      const path = `/tiles/households/14/${t.x}/${t.y}.mvt`
      const r = await get(path, { 'accept-encoding': 'gzip' })
      expect(r.status).toBe(200)
      expect(r.headers.get('content-type')).toBe('application/vnd.mapbox-vector-tile')
      expect(r.headers.get('cache-control')).toMatch(/max-age=\d+/)
      const etag = r.headers.get('etag')!
      expect(etag).toMatch(/^".+"$/)
      const tile = new VectorTile(new PbfReader(new Uint8Array(await r.arrayBuffer())))
      expect(tile.layers.households.length).toBeGreaterThan(0)
      const plain = await get(path, { 'accept-encoding': 'identity' })
      expect(plain.headers.get('content-encoding')).toBeNull()
      expect((await get(path, { 'if-none-match': etag })).status).toBe(304)
    })

    it('rolls up households per unit exactly as direct counts say', async () => {
      const [county] = await s.db.sql`SELECT a.code FROM admin_units a JOIN household_rollups r ON r.level = 'county' AND r.unit_id = a.id
                                      WHERE r.households > 0 LIMIT 1`
      const u = await (await get(`/api/units/${county.code}`)).json()
      const [d] = await s.db.sql`
        SELECT count(*)::int AS households, count(*) FILTER (WHERE risk_level = 'red')::int AS red,
               sum(members)::int AS people FROM households WHERE substr(code, 1, 6) = ${county.code.slice(0, 6)}`
      expect(u.stats).toMatchObject(d)
      expect(u.children.reduce((a: number, c: { households: number }) => a + c.households, 0)).toBe(d.households)
      const [sites] = await s.db.sql`SELECT count(*)::int AS n FROM hazard_sites WHERE admin_code LIKE ${county.code.slice(0, 6) + '%'}`
      expect(u.stats.hazardSites).toBe(sites.n)
      const city = await (await get('/api/units/530600000000')).json()
      expect(city.level).toBe('city')
      expect(city.children).toHaveLength(11)
    })

    it('gives every level (township, village) the roll-ups of direct counts, and an outline matching its box', async () => {
      for (const level of ['township', 'village'] as const) {
        const [unit] = await s.db.sql`SELECT a.code FROM admin_units a JOIN household_rollups r ON r.level = ${level} AND r.unit_id = a.id
                                      WHERE r.households > 0 ORDER BY a.code DESC LIMIT 1`
        const n = level === 'township' ? 9 : 12
        const prefix = unit.code.slice(0, n)
        const u = await (await get(`/api/units/${unit.code}`)).json()
        const [d] = await s.db.sql`
          SELECT count(*)::int AS households, count(*) FILTER (WHERE h.risk_level = 'red')::int AS red,
                 count(*) FILTER (WHERE h.risk_level = 'yellow')::int AS yellow, count(*) FILTER (WHERE h.risk_level = 'green')::int AS green,
                 sum(h.members)::int AS people, sum(h.vulnerable)::int AS vulnerable
          FROM households h JOIN grids g ON g.id = h.grid_id JOIN admin_units v ON v.id = g.village_id
          WHERE substr(v.code, 1, ${n}) = ${prefix}`
        const [o] = await s.db.sql`
          SELECT (SELECT count(*)::int FROM grid_workers w JOIN admin_units v ON v.id = w.village_id WHERE substr(v.code, 1, ${n}) = ${prefix}) AS "gridWorkers",
                 (SELECT coalesce(sum(capacity), 0)::int FROM shelters sh JOIN admin_units v ON v.id = sh.village_id WHERE substr(v.code, 1, ${n}) = ${prefix}) AS "shelterCapacity",
                 (SELECT count(*)::int FROM hazard_sites WHERE substr(admin_code, 1, ${n}) = ${prefix} AND status = 'active') AS "hazardSites"`
        expect(u.stats, level).toMatchObject({ ...d, ...o })
        expect(u.level).toBe(level)
        expect(u.parent.level).toBe(level === 'township' ? 'county' : 'township')
        expect(['Polygon', 'MultiPolygon']).toContain(u.outline.type)
        const xs = (u.outline.coordinates as number[][][] | number[][][][]).flat(3).filter((_: number, i: number) => i % 2 === 0)
        expect(Math.min(...xs)).toBeCloseTo(u.bbox[0], 3)
        expect(Math.max(...xs)).toBeCloseTo(u.bbox[2], 3)
      }
    })

    it('gives each layer its own features when a map asks for every layer of many tiles at once', async () => {
      const [c] = await s.db.sql`SELECT ST_X(label_point) AS lon, ST_Y(label_point) AS lat FROM admin_units WHERE level = 'county'
                                 AND id IN (SELECT unit_id FROM household_rollups WHERE level = 'county' AND households > 0) LIMIT 1`
      const d = 0.05
      const jobs = [10, 11, 12, 13].flatMap((z) =>
        tilesCovering([c.lon - d, c.lat - d, c.lon + d, c.lat + d], z).flatMap((t) => tileLayers.map((layer) => ({ layer, t }))))
      s.tiles.cache.clear()
      const tiles = await Promise.all(jobs.map(async ({ layer, t }) => {
        const r = await get(`/tiles/${layer.name}/${t.z}/${t.x}/${t.y}.mvt`)
        return { layer, tile: new VectorTile(new PbfReader(new Uint8Array(await r.arrayBuffer()))) }
      }))
      let features = 0
      for (const { layer, tile } of tiles) {
        for (const [name, l] of Object.entries(tile.layers)) {
          const fields = layer.layers.find((x) => x.name === name)?.fields
          expect(fields, `${layer.name} holds layer ${name}`).toBeDefined()
          for (let i = 0; i < l.length; i++) {
            const keys = Object.keys(l.feature(i).properties)
            expect(keys.filter((k) => !(k in fields!)), `${layer.name}/${name} feature ${i}`).toEqual([])
            features++
          }
        }
      }
      expect(features).toBeGreaterThan(100)
    })

    it('tells the browser the basemap setting', async () => {
      const r = await get('/api/config')
      expect(r.status).toBe(200)
      expect(await r.json()).toHaveProperty('basemap')
    })

    it('opens a household ledger with overdue computed from its colour', async () => {
      const [h] = await s.db.sql`SELECT id FROM households WHERE risk_level = 'red' ORDER BY id LIMIT 1`
      await s.db.sql`UPDATE households SET last_visit_at = now() - interval '2 days' WHERE id = ${h.id}`
      const rec = await (await get(`/api/households/${h.id}`)).json()
      expect(rec).toMatchObject({ id: h.id, risk_level: 'red', visit_interval_days: 1, overdue: true })
      expect(rec.cadre.role).toBe('包保责任人')
      expect(rec.grid.code).toBe(rec.code.slice(0, 15))
      await s.db.sql`UPDATE households SET last_visit_at = now() WHERE id = ${h.id}`
      expect((await (await get(`/api/households/${h.id}`)).json()).overdue).toBe(false)
    })

    if (target.name === 'postgis') it('drops exactly the cached tiles a change touches', async () => {
      const [h] = await s.db.sql`SELECT id, risk_level, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM households ORDER BY id DESC LIMIT 1`
      const [here] = tilesCovering([h.lon, h.lat, h.lon, h.lat], 15)
      const near = `/tiles/households/15/${here.x}/${here.y}.mvt`
      const far = `/tiles/households/15/${here.x + 40}/${here.y}.mvt`
      const before = await get(near, { 'accept-encoding': 'identity' })
      const tagBefore = before.headers.get('etag')
      await get(far)
      const riskOf = async (r: Response) => {
        const l = new VectorTile(new PbfReader(new Uint8Array(await r.arrayBuffer()))).layers.households
        for (let i = 0; i < l.length; i++) if (l.feature(i).id === h.id) return l.feature(i).properties.risk
      }
      expect(await riskOf(before)).toBe(h.risk_level)
      const next = h.risk_level === 'red' ? 'green' : 'red'
      await s.db.sql`UPDATE households SET risk_level = ${next} WHERE id = ${h.id}`
      // NOTIFY arrives asynchronously; wait for the cache to drop the tile.
      const hits = s.tiles.cache.hits
      for (let i = 0; i < 50 && (await get(near)).headers.get('etag') === tagBefore; i++) await new Promise((r) => setTimeout(r, 20))
      const after = await get(near, { 'accept-encoding': 'identity' })
      expect(after.headers.get('etag')).not.toBe(tagBefore)
      expect(await riskOf(after)).toBe(next)
      await get(far)
      expect(s.tiles.cache.hits).toBeGreaterThan(hits) // the far tile stayed cached
      await s.db.sql`UPDATE households SET risk_level = ${h.risk_level} WHERE id = ${h.id}`
    })
  })
}

describe('tile changes on the embedded database, listened to in-process', () => {
  it('drops the cached tile when a household changes', async () => {
    const s = await startServer({ port: 0, dataDir: null, databaseUrl: null, seedScale: 'test', quiet: true })
    try {
      expect(s.db.kind).toBe('embedded')
      const [h] = await s.db.sql`SELECT id, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM households ORDER BY id LIMIT 1`
      const [t] = tilesCovering([h.lon, h.lat, h.lon, h.lat], 15)
      const path = `/tiles/households/15/${t.x}/${t.y}.mvt`
      const me = await loginAs(s, 'viewer', CITY)
      const first = await me.fetch(path)
      const tag = first.headers.get('etag')
      await s.db.sql`UPDATE households SET members = members + 1 WHERE id = ${h.id}`
      let now = tag
      for (let i = 0; i < 50 && now === tag; i++) {
        await new Promise((r) => setTimeout(r, 20))
        now = (await me.fetch(path)).headers.get('etag')
      }
      expect(now).not.toBe(tag)
    } finally {
      await s.close()
    }
  })
})
