import { VectorTile, type VectorTileFeature } from '@mapbox/vector-tile'
import { PbfReader } from 'pbf'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isCurrent } from '../../core/rules/rain-current.ts'
import { ingestReadings } from '../../api/rain/ingest.ts'
import { startServer, type RunningServer } from '../../api/server.ts'
import { buildStorm, type Storm } from '../../data/storms/build.ts'
import { tileLayerByName } from '../../tiles/registry.ts'
import { renderTile, type Encoder } from '../../tiles/service.ts'
import { tilesCovering, type TileCoord } from '../../tiles/tile-math.ts'
import { testClock } from '../helpers/clock.ts'
import { playStorm, testActor } from '../helpers/rain.ts'
import { loginAs, type Client } from '../helpers/session.ts'
import { targets } from '../helpers/targets.ts'
import { clearStorms } from '../helpers/wall.ts'

/**
 * Issue #17: hazard sites and rain below z10 are counts per county (z5–7) and
 * township (z8–9), the grids' rain per village at z10–11 too, from tables kept
 * current by triggers, like households. The
 * counts are checked against the live tables (hazard_sites, rain_state) with
 * currency decided in JS (isCurrent), so neither the roll-ups nor the SQL rule
 * checks itself.
 */
const COUNTY = '530626'
const UNIT = COUNTY + '000000'
const H = 3600_000
const LOW_ZOOMS = [5, 6, 7, 8, 9]
type Level = 'county' | 'township' | 'village'
const levelAt = (z: number): Level => (z <= 7 ? 'county' : z <= 9 ? 'township' : 'village')
const prefixLength = { county: 6, township: 9, village: 12 } as const

type Props = Record<string, string | number | boolean>

function layerFeatures(buf: Uint8Array, layer: string): VectorTileFeature[] {
  const l = new VectorTile(new PbfReader(buf)).layers[layer]
  return l ? Array.from({ length: l.length }, (_, i) => l.feature(i)) : []
}
/** Features whose point lies in the tile itself, not in its buffer. */
const inside = (fs: VectorTileFeature[]) =>
  fs.filter((f) => {
    const [[p]] = f.loadGeometry()
    return p.x >= 0 && p.x < 4096 && p.y >= 0 && p.y < 4096
  })
const aggregates = (fs: VectorTileFeature[]) => fs.filter((f) => f.properties.agg !== undefined && f.properties.agg !== '')

for (const target of targets()) {
  describe(`low-zoom hazard and rain aggregates on ${target.name}`, () => {
    let s: RunningServer
    let commander: Client
    let storm: Storm
    let end: number
    const clock = testClock()
    /** Tiles over the county: at each low zoom, those holding its label point and each township's. */
    let tiles: TileCoord[]
    /** The same and at z10–11, where the grids' rain is per village. */
    let rainTiles: TileCoord[]

    const render = (layer: string, t: TileCoord, encoder: Encoder = s.tiles.encoder) =>
      renderTile(s.db, tileLayerByName.get(layer)!, t, encoder, { now: clock() })
    const viaHttp = async (layer: string, t: TileCoord) => {
      const r = await commander.get(`/tiles/${layer}/${t.z}/${t.x}/${t.y}.mvt`)
      expect(r.status).toBe(200)
      return new Uint8Array(await r.arrayBuffer())
    }

    /** What SQL finds for a unit's active sites, by the admin code they are recorded under. */
    const hazardCounts = async (code: string, level: Level) => {
      const [c] = await s.db.sql<Props[]>`
        SELECT count(*)::int AS sites, count(*) FILTER (WHERE danger_level = '特大型')::int AS extra_large,
               count(*) FILTER (WHERE danger_level = '大型')::int AS large, count(*) FILTER (WHERE danger_level = '中型')::int AS medium,
               count(*) FILTER (WHERE danger_level = '小型')::int AS small,
               coalesce(sum(threatened_households), 0)::int AS threatened_households, coalesce(sum(threatened_people), 0)::int AS threatened_people
        FROM hazard_sites WHERE status = 'active' AND left(admin_code, ${prefixLength[level]}) = ${code.slice(0, prefixLength[level])}`
      return c
    }

    /** What rain_state says for a unit at the clock's time, currency decided by isCurrent() in JS. */
    const rainCounts = async (code: string, level: Level, kind: 'grid' | 'site') => {
      const [{ asOf, maxAgeHours }] = await s.db.sql<{ asOf: Date | null; maxAgeHours: number }[]>`
        SELECT (SELECT state_as_of FROM rain_cache) AS "asOf", (SELECT (value ->> 'maxAgeHours')::float8 FROM rain_config WHERE key = 'current') AS "maxAgeHours"`
      const rows = await s.db.sql<{ lag: number; colour: string | null; on_alert: boolean }[]>`
        SELECT lag_hours AS lag, colour, on_alert FROM rain_state
        WHERE kind = ${kind} AND left(unit_code, ${prefixLength[level]}) = ${code.slice(0, prefixLength[level])}`
      const c = { units: rows.length, blue: 0, yellow: 0, orange: 0, red: 0, alerts: 0, stale: 0, live: 0 }
      for (const r of rows) {
        const cur = isCurrent({ maxAgeHours }, new Date(asOf!.getTime() - r.lag * H), clock())
        if (!cur) c.stale++
        else {
          c.live++
          if (r.colour) c[r.colour as 'red']++
          if (r.on_alert) c.alerts++
        }
      }
      const colour = (['red', 'orange', 'yellow', 'blue'] as const).find((k) => c[k] > 0) ?? (c.live ? 'none' : 'stale')
      const { live, ...counts } = c
      return { ...counts, colour, alert: c.alerts > 0, current: live > 0 }
    }

    const countyPoint = async (): Promise<[number, number, number, number]> => {
      const [p] = await s.db.sql`SELECT ST_X(label_point) AS lon, ST_Y(label_point) AS lat FROM admin_units WHERE code = ${UNIT}`
      return [p.lon, p.lat, p.lon, p.lat]
    }

    const unitAt = async (code: string) =>
      (await s.db.sql<{ id: number; code: string; name: string; level: 'county' | 'township' }[]>`SELECT id, code, name, level FROM admin_units WHERE code = ${code}`)[0]

    beforeAll(async () => {
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true, clock, sweepEveryMs: 3600_000 })
      await clearStorms(s.db.sql)
      storm = await buildStorm(s.db.sql, { county: COUNTY, seed: 5, spacingKm: 5 })
      await playStorm(s.db.sql, storm)
      end = Date.parse(storm.hours.at(-1)!.hour) + H
      clock.set(end + 30 * 60_000)
      await s.sweepNow?.()
      commander = await loginAs(s, 'commander', UNIT)
      const points = await s.db.sql<{ lon: number; lat: number }[]>`
        SELECT ST_X(label_point) AS lon, ST_Y(label_point) AS lat FROM admin_units
        WHERE code = ${UNIT} OR (level = 'township' AND code LIKE ${COUNTY + '%'}) ORDER BY code`
      const over = (zooms: number[]) => {
        const seen = new Set<string>()
        return zooms.flatMap((z) => points.map((p) => tilesCovering([p.lon, p.lat, p.lon, p.lat], z)[0]))
          .filter((t) => !seen.has(`${t.z}/${t.x}/${t.y}`) && seen.add(`${t.z}/${t.x}/${t.y}`))
      }
      tiles = over(LOW_ZOOMS)
      rainTiles = over([...LOW_ZOOMS, 10, 11])
    })
    afterAll(async () => {
      if (s) await clearStorms(s.db.sql)
      await s?.close()
    })

    it('gives hazard tiles at z5–9 one count per county (z5–7) or township (z8–9) as SQL counts them, and every active site as a bare point', async () => {
      let checked = 0
      for (const t of tiles) {
        const fs = inside(layerFeatures(await render('hazards', t), 'hazards'))
        const level = levelAt(t.z)
        const want = await s.db.sql<{ code: string }[]>`
          SELECT a.code FROM admin_units a WHERE a.level = ${level} AND a.label_3857 && ST_TileEnvelope(${t.z}, ${t.x}, ${t.y})
            AND EXISTS (SELECT 1 FROM hazard_sites h WHERE h.status = 'active' AND left(h.admin_code, ${prefixLength[level]}) = left(a.code, ${prefixLength[level]}))
          ORDER BY a.code`
        const aggs = aggregates(fs)
        expect(aggs.map((f) => f.properties.code).sort(), `z${t.z}`).toEqual(want.map((w) => w.code))
        for (const f of aggs) {
          const unit = await unitAt(String(f.properties.code))
          const c = await hazardCounts(unit.code, level)
          expect(f.properties, `${unit.code} z${t.z}`).toMatchObject({ ...c, agg: level, id: unit.id, name: unit.name })
          const top = c.extra_large ? '特大型' : c.large ? '大型' : c.medium ? '中型' : '小型'
          expect(f.properties.danger_level).toBe(top)
          expect(f.id).toBe(Number(unit.code)) // never a site's id: a site's feature state (its halo) cannot land on it
          checked++
        }
        // Each active site, bare: what the map needs for its symbol and its halo, nothing more.
        const bare = fs.filter((f) => f.properties.agg === '')
        const [n] = await s.db.sql`SELECT count(*)::int AS n FROM hazard_sites WHERE status = 'active' AND geom_3857 && ST_TileEnvelope(${t.z}, ${t.x}, ${t.y})`
        expect(bare.length, `z${t.z}`).toBe(n.n)
        for (const f of bare) {
          expect(Object.keys(f.properties).sort()).toEqual(['agg', 'danger_level', 'id', 'status'])
          expect(f.id).toBe(f.properties.id)
        }
      }
      expect(checked).toBeGreaterThan(LOW_ZOOMS.length)
    })

    it('gives rain tiles counts per county, township (and village for grids at z10–11) by colour and alert, live only while the rain is current', async () => {
      const [{ alerts }] = await s.db.sql`SELECT count(*) FILTER (WHERE on_alert)::int AS alerts FROM rain_state WHERE kind = 'site'`
      expect(alerts, 'the storm leaves sites past their critical rainfall').toBeGreaterThan(0)
      // Current, then a moment past rain_config.current but the same day, then months later.
      for (const at of [end + 30 * 60_000, end + 2 * H + 60_000, end + 140 * 24 * H]) {
        clock.set(at)
        let live = 0
        for (const t of rainTiles) {
          for (const [layer, kind] of [['rain_points', 'grid'], ['rain_sites', 'site']] as const) {
            if (layer === 'rain_sites' && t.z >= 10) continue
            const buf = await render('rain', t)
            const aggs = aggregates(inside(layerFeatures(buf, layer)))
            const level = levelAt(t.z)
            const want = await s.db.sql<{ code: string }[]>`
              SELECT a.code FROM admin_units a WHERE a.level = ${level} AND a.label_3857 && ST_TileEnvelope(${t.z}, ${t.x}, ${t.y})
                AND EXISTS (SELECT 1 FROM rain_state r WHERE r.kind = ${kind} AND left(r.unit_code, ${prefixLength[level]}) = left(a.code, ${prefixLength[level]}))
              ORDER BY a.code`
            expect(aggs.map((f) => f.properties.code).sort(), `${layer} z${t.z}`).toEqual(want.map((w) => w.code))
            for (const f of aggs) {
              const want = await rainCounts(String(f.properties.code), level, kind)
              expect(f.properties, `${layer} ${f.properties.code} z${t.z} at +${(at - end) / H} h`).toMatchObject({ ...want, agg: level })
              if (f.properties.current) live++
              else expect(f.properties).toMatchObject({ colour: 'stale', alert: false, alerts: 0, blue: 0, yellow: 0, orange: 0, red: 0 })
            }
            // No single grid or site at these zooms: the counts are the whole layer.
            expect(layerFeatures(buf, layer).every((f) => f.properties.agg === levelAt(t.z))).toBe(true)
          }
        }
        if (at === end + 30 * 60_000) expect(live).toBeGreaterThan(0)
        if (at === end + 140 * 24 * H) expect(live).toBe(0)
      }
      clock.set(end + 30 * 60_000)
    })

    it('makes the same aggregates with ST_AsMVT as with the JS encoder', async () => {
      if (s.tiles.encoder !== 'st_asmvt') return
      for (const t of rainTiles) {
        for (const [tile, layers] of [['hazards', ['hazards']], ['rain', ['rain_points', 'rain_sites']]] as const) {
          const a = await render(tile, t, 'st_asmvt')
          const b = await render(tile, t, 'js')
          for (const l of layers) {
            const fa = layerFeatures(a, l), fb = layerFeatures(b, l)
            const byId = new Map(fb.map((f) => [f.id, f]))
            expect(fb.length, `${l} z${t.z}`).toBe(fa.length)
            for (const f of fa) {
              expect(byId.get(f.id)?.properties, `${l} ${f.id} z${t.z}`).toEqual(f.properties)
              expect(byId.get(f.id)!.loadGeometry()).toEqual(f.loadGeometry())
            }
          }
        }
      }
    })

    it('follows a new, a changed and a cancelled hazard site in the served tiles, and tells the tile cache where the counts sit', async () => {
      const [v] = await s.db.sql<{ code: string; lon: number; lat: number }[]>`
        SELECT code, ST_X(label_point) AS lon, ST_Y(label_point) AS lat FROM admin_units WHERE level = 'village' AND code LIKE ${COUNTY + '%'} ORDER BY code DESC LIMIT 1`
      const county = await unitAt(UNIT)
      const township = await unitAt(v.code.slice(0, 9) + '000')
      const [t5] = tilesCovering([v.lon, v.lat, v.lon, v.lat], 5)
      const [t8] = tilesCovering([v.lon, v.lat, v.lon, v.lat], 8)
      const aggOf = async (t: TileCoord, code: string) =>
        aggregates(layerFeatures(await viaHttp('hazards', t), 'hazards')).find((f) => f.properties.code === code)?.properties
      const siteIn = async (t: TileCoord, id: number) => layerFeatures(await viaHttp('hazards', t), 'hazards').some((f) => f.id === id)
      /** Asks again until the NOTIFY has reached the server's cache (it comes asynchronously). */
      const eventually = async <T>(get: () => Promise<T>, ok: (v: T) => boolean) => {
        let v = await get()
        for (let i = 0; i < 100 && !ok(v); i++) {
          await new Promise((r) => setTimeout(r, 20))
          v = await get()
        }
        return v
      }
      const before = { county: await aggOf(t5, UNIT), township: await aggOf(t8, township.code) }
      expect(before.county).toMatchObject(await hazardCounts(UNIT, 'county'))

      const notices: unknown[][] = []
      const unlisten = await s.db.listen('gridwatch_tiles', (p) => notices.push(...(JSON.parse(p) as unknown[][])))
      try {
        // A new large site (500–999 people threatened), as an import writes one.
        const [{ id }] = await s.db.sql<{ id: number }[]>`
          INSERT INTO hazard_sites (code, name, admin_code, type, scale, threatened_households, threatened_people, geom)
          VALUES ('TEST-AGG-1', '测试隐患点', ${v.code}, '滑坡', '大型', 150, 600, ST_SetSRID(ST_MakePoint(${v.lon}, ${v.lat}), 4326))
          RETURNING id`
        const added = await eventually(() => aggOf(t5, UNIT), (p) => p?.sites !== before.county!.sites)
        expect(added).toMatchObject({ ...(await hazardCounts(UNIT, 'county')), sites: Number(before.county!.sites) + 1, large: Number(before.county!.large) + 1 })
        expect(await aggOf(t8, township.code)).toMatchObject({ ...(await hazardCounts(township.code, 'township')), sites: Number(before.township!.sites) + 1 })
        expect(await siteIn(t8, id)).toBe(true)
        // The cache heard where the counts are drawn: the county's and the township's label points.
        const [lp] = await s.db.sql`SELECT ST_X(label_point) AS x, ST_Y(label_point) AS y FROM admin_units WHERE id = ${county.id}`
        await eventually(async () => notices, (n) => n.some((c) => c[0] === 'hazard' && c[1] === lp.x && c[2] === lp.y))
        expect(notices.some((c) => c[0] === 'hazard' && c[1] === lp.x && c[2] === lp.y)).toBe(true)

        // More people threatened: now 特大型.
        await s.db.sql`UPDATE hazard_sites SET threatened_people = 1200 WHERE id = ${id}`
        const bigger = await eventually(() => aggOf(t5, UNIT), (p) => p?.extra_large !== before.county!.extra_large)
        expect(bigger).toMatchObject({ ...(await hazardCounts(UNIT, 'county')), extra_large: Number(before.county!.extra_large) + 1, large: before.county!.large })
        expect(bigger!.danger_level).toBe('特大型')

        // Cancelled (销号): out of the counts and off the low-zoom map.
        await s.db.sql`UPDATE hazard_sites SET status = 'cancelled' WHERE id = ${id}`
        expect(await eventually(() => aggOf(t5, UNIT), (p) => p?.sites === before.county!.sites)).toEqual(before.county)
        expect(await aggOf(t8, township.code)).toEqual(before.township)
        expect(await siteIn(t8, id)).toBe(false)
      } finally {
        await unlisten()
        await s.db.sql`DELETE FROM hazard_sites WHERE code = 'TEST-AGG-1'`
      }
      // Kept by the triggers through all that = counted afresh.
      const kept = await s.db.sql`SELECT * FROM hazard_rollups ORDER BY level, unit_id`
      await s.db.sql`SELECT refresh_hazard_rollups()`
      expect(await s.db.sql`SELECT * FROM hazard_rollups ORDER BY level, unit_id`).toEqual(kept)
    })

    it('follows a new rain hour in the served tiles, and a sweep once that rain is no longer current', async () => {
      const [t5] = tilesCovering(await countyPoint(), 5)
      const county = () => viaHttp('rain', t5).then((b) => aggregates(layerFeatures(b, 'rain_sites')).find((f) => f.properties.code === UNIT)?.properties)
      const grids = () => viaHttp('rain', t5).then((b) => aggregates(layerFeatures(b, 'rain_points')).find((f) => f.properties.code === UNIT)?.properties)
      clock.set(end + 30 * 60_000)
      await s.sweepNow?.()
      const before = await grids()
      expect(before).toMatchObject(await rainCounts(UNIT, 'county', 'grid'))
      // A cloudburst at every gauge in the hour after the storm: every grid red, every site past its critical rainfall.
      const hour = new Date(end).toISOString()
      await ingestReadings(s.db.sql, testActor, storm.stations.map((x, i) => ({ row: i + 1, values: { station: x.code, hour, mm: 120 } })))
      clock.set(end + H + 30 * 60_000)
      await s.sweepNow?.()
      let after = await grids()
      for (let i = 0; i < 100 && after?.red !== after?.units; i++) {
        await new Promise((res) => setTimeout(res, 20))
        after = await grids()
      }
      expect(after).toMatchObject({ ...(await rainCounts(UNIT, 'county', 'grid')), colour: 'red', current: true })
      expect(after!.red).toBe(after!.units)
      const sites = await county()
      expect(sites).toMatchObject({ ...(await rainCounts(UNIT, 'county', 'site')), alert: true, current: true })
      expect(Number(sites!.alerts)).toBeGreaterThan(0)
      // Time alone: the server's sweep drops the cached tiles, and the counts are no alarm any more.
      clock.set(end + 140 * 24 * H)
      await s.sweepNow?.()
      let old = await county()
      for (let i = 0; i < 100 && old?.alert !== false; i++) {
        await new Promise((res) => setTimeout(res, 20))
        old = await county()
      }
      expect(old).toMatchObject({ colour: 'stale', alert: false, alerts: 0, current: false, stale: sites!.units })
      const kept = await s.db.sql`SELECT * FROM rain_rollups ORDER BY level, unit_id, kind, lag_hours`
      await s.db.sql`SELECT refresh_rain_rollups()`
      expect(await s.db.sql`SELECT * FROM rain_rollups ORDER BY level, unit_id, kind, lag_hours`).toEqual(kept)
      clock.set(end + 30 * 60_000)
    })

  })
}
