import { VectorTile } from '@mapbox/vector-tile'
import { PbfReader } from 'pbf'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CITY_CODE } from '../../core/units.ts'
import { startServer, type RunningServer } from '../../api/server.ts'
import type { WallState } from '../../core/contracts/wall.ts'
import { buildStorm, type Storm } from '../../data/storms/build.ts'
import { writeStormHistory } from '../../api/demo/storm.ts'
import { tilesCovering } from '../../tiles/tile-math.ts'
import { testClock } from '../helpers/clock.ts'
import { loginAs, type Client } from '../helpers/session.ts'
import { targets } from '../helpers/targets.ts'
import { clearStorms } from '../helpers/wall.ts'

const COUNTY = '530626'
const UNIT = COUNTY + '000000'
const H = 3600_000
const iso = (t: number) => new Date(t).toISOString()

interface RainUnit { kind: 'grid' | 'site'; id: number; code: string; colour: string | null; onAlert: boolean; current: boolean; lastColour: string | null; lastOnAlert: boolean }
interface RainState { asOf: string | null; at: string; current: boolean; ageMinutes: number | null; counts: { kind: string; colour: string; n: number; onAlert: number }[]; units: RainUnit[] }

/**
 * Issue #17: a site is past its critical rainfall only while its rain is
 * current; stale rain shows greyed with its age, and the map, the wall and its
 * feed say one "as of" time. The server's clock is fixed (the storm is July's).
 */
for (const target of targets()) {
  describe(`current rain on ${target.name}`, () => {
    let s: RunningServer
    let commander: Client
    let cityCommander: Client
    let storm: Storm
    /** The end of the storm's last reading hour: its rain is "as of" then. */
    let end: number
    const clock = testClock()
    const rain = async (q = '') => {
      const r = await commander.get(`/api/rain/state?unit=${UNIT}${q}`)
      expect(r.status, await r.clone().text()).toBe(200)
      return (await r.json()) as RainState
    }
    const wall = async () => {
      const r = await commander.get(`/api/wall/state?unit=${UNIT}`)
      expect(r.status, await r.clone().text()).toBe(200)
      return (await r.json()) as WallState
    }

    beforeAll(async () => {
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true, clock, sweepEveryMs: 3600_000 })
      await clearStorms(s.db.sql)
      storm = await buildStorm(s.db.sql, { county: COUNTY, seed: 5, spacingKm: 5 })
      await writeStormHistory(s.db.sql, storm)
      end = Date.parse(storm.hours.at(-1)!.hour) + H
      clock.set(end + 30 * 60_000)
      commander = await loginAs(s, 'commander', UNIT)
      // The rain rules are the whole city's: only a city-level account changes them.
      cityCommander = await loginAs(s, 'commander', CITY_CODE)
    })
    afterAll(async () => {
      if (s) await clearStorms(s.db.sql)
      await s?.close()
    })

    it('holds the SQL rule rain_current() to isCurrent() on fixtures, with the limit from rain_config', async () => {
      const { isCurrent } = await import('../../core/rules/rain-current.ts')
      const hour = Date.parse('2026-07-15T03:00:00Z')
      const cases: { i: number; n: string | null; a: string }[] = []
      for (const n of [null, hour]) {
        for (const da of [-0.5 * H, 0, H, 1.5 * H, 3 * H, 3 * H + 1000, 7 * H, 7 * H + 1000, 140 * 24 * H]) {
          cases.push({ i: cases.length, n: n === null ? null : iso(n), a: iso(hour + da) })
        }
      }
      const put = async (value: object) => {
        const { config } = (await (await commander.get('/api/rain/config')).json()) as { config: { key: string; version: number }[] }
        const r = await cityCommander.send('PUT', '/api/rain/config/current', { version: config.find((c) => c.key === 'current')!.version, value })
        expect(r.status, await r.clone().text()).toBe(200)
      }
      try {
        for (const maxAgeHours of [2, 0.5, 6]) {
          await put({ maxAgeHours })
          const rows = await s.db.sql<{ c: boolean }[]>`
            SELECT rain_current(x.n, x.a) AS c FROM jsonb_to_recordset(${s.db.sql.json(cases as never)}) AS x(i int, n timestamptz, a timestamptz)
            ORDER BY x.i`
          const want = cases.map((c) => isCurrent({ maxAgeHours }, c.n === null ? null : new Date(c.n), new Date(c.a)))
          expect(want.filter(Boolean).length, 'the fixtures hold both answers').toBeGreaterThan(2)
          expect(want.filter((x) => !x).length).toBeGreaterThan(2)
          expect(rows.map((r) => r.c), `maxAgeHours ${maxAgeHours}`).toEqual(want)
        }
        // Not a rule anyone may set: a bad value is refused.
        const { config } = (await (await commander.get('/api/rain/config')).json()) as { config: { key: string; version: number }[] }
        for (const value of [{ maxAgeHours: 0 }, { maxAgeHours: -1 }, { maxAgeHours: 'two' }, {}]) {
          expect((await cityCommander.send('PUT', '/api/rain/config/current', { version: config.find((c) => c.key === 'current')!.version, value })).status).toBe(400)
        }
      } finally {
        await put({ maxAgeHours: 2 })
      }
    })

    it('shows a site past its critical rainfall only while its rain is current, and its last state greyed after', async () => {
      const onAlert = (await s.db.sql<{ code: string }[]>`
        SELECT code FROM rain_state WHERE kind = 'site' AND on_alert AND unit_code LIKE ${COUNTY + '%'} ORDER BY code`).map((r) => r.code)
      expect(onAlert.length, 'the storm leaves sites past their critical rainfall').toBeGreaterThan(0)
      const codes = (us: RainUnit[]) => us.map((u) => u.code).sort()

      clock.set(end + 30 * 60_000)
      const live = await rain()
      expect(live).toMatchObject({ asOf: iso(end), current: true, ageMinutes: 30 })
      expect(codes(live.units.filter((u) => u.kind === 'site' && u.onAlert))).toEqual(onAlert)

      for (const later of [end + 2 * H + 60_000, end + 140 * 24 * H]) {
        clock.set(later)
        const old = await rain()
        expect(old, iso(later)).toMatchObject({ asOf: iso(end), current: false, ageMinutes: Math.floor((later - end) / 60_000) })
        // No live alarm of any kind…
        expect(old.units.filter((u) => u.onAlert || u.colour !== null || u.current)).toEqual([])
        expect(old.counts.every((c) => c.onAlert === 0 && c.colour === 'stale')).toBe(true)
        // …but what it last showed, to draw greyed.
        expect(codes(old.units.filter((u) => u.kind === 'site' && u.lastOnAlert))).toEqual(onAlert)
        expect(old.units.filter((u) => u.kind === 'grid' && u.lastColour).length).toBe(live.units.filter((u) => u.kind === 'grid' && u.colour).length)
      }
    })

    it('serves rain tiles with no live colour or alert once the rain is not current', async () => {
      const [site] = await s.db.sql<{ id: number; lon: number; lat: number }[]>`
        SELECT h.id, ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat FROM rain_state r JOIN hazard_sites h ON h.id = r.unit_id
        WHERE r.kind = 'site' AND r.on_alert ORDER BY h.id LIMIT 1`
      const [t] = tilesCovering([site.lon, site.lat, site.lon, site.lat], 12)
      const feature = async () => {
        const r = await commander.get(`/tiles/rain/12/${t.x}/${t.y}.mvt`)
        expect(r.status).toBe(200)
        const layer = new VectorTile(new PbfReader(new Uint8Array(await r.arrayBuffer()))).layers.rain_sites
        for (let i = 0; layer && i < layer.length; i++) if (layer.feature(i).properties.id === site.id) return layer.feature(i).properties
        return undefined
      }
      clock.set(end + 30 * 60_000)
      await s.sweepNow?.()
      expect(await feature()).toMatchObject({ alert: true, current: true, data_at: end / 1000 })
      // Time alone makes the rain stale: no rain update comes to drop the cached tile, the server's sweep does.
      clock.set(end + 140 * 24 * H)
      await s.sweepNow?.()
      let props = await feature()
      for (let i = 0; i < 50 && props?.alert !== false; i++) {
        await new Promise((r) => setTimeout(r, 20))
        props = await feature()
      }
      expect(props).toMatchObject({ alert: false, current: false, colour: 'stale', data_at: end / 1000 })
    })

    it('says one "as of" on the map, the wall and its feed, and the map and the wall agree on what is on alert', async () => {
      for (const at of [end + 30 * 60_000, end + 3 * H, end + 140 * 24 * H]) {
        clock.set(at)
        const map = await rain()
        const w = await wall()
        expect(map.asOf).toBe(iso(end))
        expect(w.rain, iso(at)).toEqual({ at: iso(at), asOf: map.asOf, current: map.current, ageMinutes: map.ageMinutes })
        const mapSites = map.units.filter((u) => u.kind === 'site' && u.onAlert).map((u) => u.code).sort()
        expect(w.sites.top.map((x) => x.code).sort(), iso(at)).toEqual(mapSites)
        expect(w.sites.overCritical).toBe(mapSites.length)
        for (const c of ['blue', 'yellow', 'orange', 'red'] as const) {
          expect(w.warnings.grids[c], `${iso(at)} ${c}`).toBe(map.units.filter((u) => u.kind === 'grid' && u.colour === c).length)
        }
        if (at === end + 30 * 60_000) expect(mapSites.length).toBeGreaterThan(0)
        else expect(mapSites).toEqual([])
      }
      // The feed (the wall's ticker) says the rain update of the last hour is as of the same time.
      clock.set(end)
      const w = await wall()
      const update = w.ticker.find((e) => e.kind === 'rain.update')
      expect(update?.payload.rainAsOf).toBe(iso(end))
      expect(w.rain.asOf).toBe(iso(end))
    })
  })
}
