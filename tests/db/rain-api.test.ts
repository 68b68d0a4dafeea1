import { VectorTile } from '@mapbox/vector-tile'
import { PbfReader } from 'pbf'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tilesCovering } from '../../tiles/tile-math.ts'
import { startServer, type RunningServer } from '../../api/server.ts'
import { type RainConfig } from '../../api/rain/config.ts'
import { signalColour } from '../../core/rules/rain-signal.ts'
import { buildStorm, timeline, type Storm } from '../../data/storms/build.ts'
import { testClock } from '../helpers/clock.ts'
import { resetRain } from '../helpers/rain.ts'
import { loginAs, type Client } from '../helpers/session.ts'
import { targets } from '../helpers/targets.ts'

const COUNTY = '530626'

for (const target of targets()) {
  describe(`rain and task API on ${target.name}`, () => {
    let s: RunningServer
    let storm: Storm
    let commander: Client
    /** The rules, the checklist templates and the stations are the city's. */
    let cityCommander: Client
    let viewer: Client
    // The storm is July's: the server's "now" is half an hour after its last reading, at any hour the suite runs.
    const clock = testClock()
    const counts = async () => (await s.db.sql`
      SELECT (SELECT count(*) FROM rain_readings)::int AS readings, (SELECT count(*) FROM rain_forecasts)::int AS forecasts,
             (SELECT count(*) FROM rain_warnings)::int AS warnings, (SELECT count(*) FROM tasks)::int AS tasks,
             (SELECT coalesce(sum(mm), 0)::float8 FROM rain_readings) AS mm`)[0]

    beforeAll(async () => {
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true, clock, sweepEveryMs: 3600_000 })
      await resetRain(s.db.sql)
      storm = await buildStorm(s.db.sql, { county: COUNTY, seed: 5, spacingKm: 5 })
      clock.set(Date.parse(storm.hours.at(-1)!.hour) + 90 * 60_000)
      commander = await loginAs(s, 'commander', COUNTY + '000000')
      cityCommander = await loginAs(s, 'commander', '530600000000')
      viewer = await loginAs(s, 'viewer', COUNTY + '000000')
    })
    afterAll(async () => {
      if (s) await resetRain(s.db.sql)
      await s?.close()
    })

    it('takes a storm through the API: stations, forecasts, JSON and CSV readings', async () => {
      expect((await cityCommander.send('POST', '/api/rain/stations', { stations: storm.stations })).status).toBe(200)
      let csv = true
      for (const step of timeline(storm)) {
        if (step.forecasts.length) {
          const r = await commander.send('POST', '/api/rain/forecasts', step.forecasts)
          expect(r.status, await r.clone().text()).toBe(200)
        }
        if (!step.readings.length) continue
        // Alternate JSON and CSV bodies: both go through the same ingest.
        const r = csv
          ? await commander.fetch('/api/rain/readings', { method: 'POST', headers: { 'Content-Type': 'text/csv' },
              body: 'station,hour,mm\n' + step.readings.map((x) => `${x.station},${x.hour},${x.mm}`).join('\n') })
          : await commander.send('POST', '/api/rain/readings', { readings: step.readings })
        expect(r.status, await r.clone().text()).toBe(200)
        csv = !csv
      }
      const [sql] = await s.db.sql`SELECT count(*)::int AS n FROM rain_readings`
      expect(sql.n).toBe(storm.stations.length * storm.hours.length)
      const phases = await s.db.sql`SELECT DISTINCT phase FROM tasks ORDER BY 1`
      expect(phases.map((p) => p.phase)).toEqual(['after', 'before', 'during'])
    })

    it('refuses bad input with a 4xx naming the rows, writes nothing, and lets only rain.ingest roles in', async () => {
      const before = await counts()
      const station = storm.stations[0].code
      const hour = storm.hours[3].hour
      const bad: [string, () => Promise<Response>, number, RegExp][] = [
        ['wrong CSV columns', () => commander.fetch('/api/rain/readings', { method: 'POST', headers: { 'Content-Type': 'text/csv' }, body: 'station,time,rain\nX,1,2' }), 400, /columns must be station,hour,mm/],
        ['CSV bad rows', () => commander.fetch('/api/rain/readings', { method: 'POST', headers: { 'Content-Type': 'text/csv' },
          body: `station,hour,mm\n${station},${hour},77\nNOPE,${hour},1\n${station},yesterday,1\n${station},${hour},-3` }), 400, /row 3: unknown station|row 4: time|row 5: rain/],
        ['JSON absurd mm', () => commander.send('POST', '/api/rain/readings', [{ station, hour, mm: 77 }, { station, hour: storm.hours[4].hour, mm: 1e6 }]), 400, /row 2: .*not plausible/],
        ['not an array', () => commander.send('POST', '/api/rain/readings', { rows: [] }), 400, /array/],
        ['not JSON', () => commander.fetch('/api/rain/readings', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{' }), 400, /not valid JSON/],
        ['forecast unknown area', () => commander.send('POST', '/api/rain/forecasts', [{ area: '530626999999', leadHours: 2, periodStart: hour, periodEnd: storm.hours[6].hour, mm: 90, issuedAt: hour }]), 400, /row 1: no admin unit/],
        ['warning no area', () => commander.send('POST', '/api/rain/warnings', [{ colour: 'red', issuedAt: hour, validUntil: storm.hours[6].hour }]), 400, /row 1: give areas or a polygon/],
        ['viewer may not ingest', () => viewer.send('POST', '/api/rain/readings', [{ station, hour, mm: 77 }]), 403, /may not/],
        ['logged out', () => fetch(s.url + '/api/rain/readings', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '[]' }), 401, /log in/],
      ]
      for (const [name, run, status, message] of bad) {
        const r = await run()
        expect(r.status, name).toBe(status)
        const body = await r.json()
        expect(body.error.en, name).toMatch(message)
        expect(body.error.zh, name).toBeTruthy()
      }
      expect(await counts()).toEqual(before)
    })

    it('lists tasks with filters and totals that match the table', async () => {
      const cases: [string, string][] = [
        ['phase=during', `phase = 'during'`],
        ['phase=before&kind=household', `phase = 'before' AND target_kind = 'household'`],
        ['overdue=true', `status IN ('not_started', 'in_progress') AND due_at < '${clock().toISOString()}'`],
        ['status=not_started', `status = 'not_started'`],
      ]
      for (const [q, where] of cases) {
        const r = await commander.get(`/api/tasks?${q}&limit=5`)
        expect(r.status, q).toBe(200)
        const body = await r.json()
        const [{ n }] = await s.db.sql.unsafe(`SELECT count(*)::int AS n FROM tasks WHERE ${where} AND unit_code LIKE '${COUNTY}%'`)
        expect(body.total, q).toBe(n)
        expect(body.tasks.length).toBe(Math.min(5, n))
      }
      const [unit] = await s.db.sql`SELECT left(unit_code, 9) AS t FROM tasks GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`
      const r = await (await commander.get(`/api/tasks?unit=${unit.t}000&limit=1000`)).json()
      expect(r.tasks.every((t: { unitCode: string }) => t.unitCode.startsWith(unit.t))).toBe(true)
      expect((await commander.get('/api/tasks?phase=sometime')).status).toBe(400)
      expect((await commander.get('/api/tasks/abc')).status).toBe(400)
      expect((await commander.get('/api/tasks/999999999')).status).toBe(404)
    })

    it('lets a grid worker tick items in their own grid only; status rolls up; every tick is audited', async () => {
      const [t] = await s.db.sql`SELECT id, unit_code, jsonb_array_length(items) AS n FROM tasks WHERE target_kind = 'grid' AND phase = 'during' ORDER BY id LIMIT 1`
      const [other] = await s.db.sql`SELECT id FROM tasks WHERE unit_code <> ${t.unit_code} AND length(unit_code) = 15 ORDER BY id LIMIT 1`
      const worker = await loginAs(s, 'grid_worker', t.unit_code)
      const denied = await worker.send('PATCH', `/api/tasks/${other.id}/items/1`, { done: true })
      expect(denied.status).toBe(403)
      const [untouched] = await s.db.sql`SELECT status, version FROM tasks WHERE id = ${other.id}`
      expect(untouched).toEqual({ status: 'not_started', version: 1 })

      const first = await worker.send('PATCH', `/api/tasks/${t.id}/items/1`, { done: true, note: '沟口无异常' })
      expect(first.status).toBe(200)
      const d1 = await first.json()
      expect(d1.status).toBe(t.n > 1 ? 'in_progress' : 'done')
      expect(d1.items[0]).toMatchObject({ done: true, note: '沟口无异常', by: worker.userId })
      expect(d1.items[0].byName).toBeTruthy()
      // A stale version is refused.
      expect((await worker.send('PATCH', `/api/tasks/${t.id}/items/1`, { note: 'x', version: 1 })).status).toBe(409)
      for (let i = 2; i <= t.n; i++) expect((await worker.send('PATCH', `/api/tasks/${t.id}/items/${i}`, { done: true })).status).toBe(200)
      const done = await (await worker.get(`/api/tasks/${t.id}`)).json()
      expect(done.status).toBe('done')
      expect(done.doneAt).toBeTruthy()
      expect((await worker.send('PATCH', `/api/tasks/${t.id}/items/${t.n + 1}`, { done: true })).status).toBe(404)
      const [audit] = await s.db.sql`SELECT count(*)::int AS n FROM audit_log WHERE table_name = 'tasks' AND row_id = ${String(t.id)} AND actor_id = ${worker.userId}`
      expect(audit.n).toBe(t.n)
      // A viewer reads but does not tick.
      expect((await viewer.send('PATCH', `/api/tasks/${t.id}/items/1`, { done: false })).status).toBe(403)
    })

    it('rolls completion up per township, village and grid as direct counts say', async () => {
      for (const [unit, digits] of [[COUNTY + '000000', 9], [null, 12]] as const) {
        const code = unit ?? (await s.db.sql`SELECT left(unit_code, 9) || '000' AS c FROM tasks GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`)[0].c
        const r = await commander.get(`/api/tasks/rollup?unit=${code}`)
        expect(r.status).toBe(200)
        const body = await r.json()
        const want = await s.db.sql`
          SELECT left(unit_code, ${digits}) AS child, count(*)::int AS total, count(*) FILTER (WHERE status = 'done')::int AS done,
                 count(*) FILTER (WHERE status IN ('not_started', 'in_progress') AND due_at < ${clock().toISOString()}::timestamptz)::int AS overdue,
                 count(*) FILTER (WHERE status = 'not_started')::int AS "notStarted"
          FROM tasks WHERE unit_code LIKE ${code.slice(0, digits === 9 ? 6 : 9) + '%'} GROUP BY 1 ORDER BY 1`
        expect(body.children.map((c: Record<string, unknown>) => ({ child: String(c.code).slice(0, digits), total: c.total, done: c.done, overdue: c.overdue, notStarted: c.notStarted })))
          .toEqual(want)
        expect(body.totals.total).toBe(want.reduce((a, w) => a + w.total, 0))
      }
    })

    it('lets city command edit the rules and checklists (versioned), and the next rain update follows them', async () => {
      // County command reads them and reports rain; the city edits them (tests/db/write-scope.test.ts refuses the county).
      const [county, city] = [commander, cityCommander]
      const [tw] = await s.db.sql`SELECT code FROM admin_units WHERE level = 'township' AND code LIKE ${COUNTY + '%'} LIMIT 1`
      const township = await loginAs(s, 'township', tw.code)
      const { config } = await (await city.get('/api/rain/config')).json()
      const signals = config.find((r: { key: string }) => r.key === 'signals')
      const lower = { ...signals.value, blue: { mm: 10, hours: 12 } }
      expect((await township.send('PUT', '/api/rain/config/signals', { version: signals.version, value: lower })).status).toBe(403)
      expect((await city.send('PUT', '/api/rain/config/signals', { version: signals.version, value: { ...lower, blue: { mm: 10, hours: 5 } } })).status).toBe(400)
      expect((await city.send('PUT', '/api/rain/config/signals', { version: signals.version + 7, value: lower })).status).toBe(409)
      expect((await city.send('PUT', '/api/rain/config/nothing', { version: 1, value: {} })).status).toBe(404)
      const put = await city.send('PUT', '/api/rain/config/signals', { version: signals.version, value: lower })
      expect(put.status).toBe(200)
      try {
        // The next hour (dry) re-colours every unit with the new table.
        const next = new Date(Date.parse(storm.hours.at(-1)!.hour) + 3600_000).toISOString()
        expect((await county.send('POST', '/api/rain/readings', storm.stations.map((x) => ({ station: x.code, hour: next, mm: 0 })))).status).toBe(200)
        const state = await s.db.sql`SELECT colour, warning_colour, rain_1h, rain_3h, rain_6h, rain_12h, rain_24h FROM rain_state WHERE warning_colour IS NULL`
        expect(state.length).toBeGreaterThan(0)
        let blue = 0
        for (const u of state) {
          const want = signalColour(lower as RainConfig['signals'], { 1: Number(u.rain_1h), 3: Number(u.rain_3h), 6: Number(u.rain_6h), 12: Number(u.rain_12h), 24: Number(u.rain_24h) })
          expect(u.colour).toBe(want)
          if (want === 'blue') blue++
        }
        expect(blue).toBeGreaterThan(0) // the lowered threshold is what coloured them
      } finally {
        const { config: now } = await (await city.get('/api/rain/config')).json()
        const v = now.find((r: { key: string }) => r.key === 'signals').version
        expect((await city.send('PUT', '/api/rain/config/signals', { version: v, value: signals.value })).status).toBe(200)
      }

      const { templates } = await (await city.get('/api/checklists')).json()
      expect(templates).toHaveLength(9)
      const t = templates.find((x: { phase: string; targetKind: string }) => x.phase === 'after' && x.targetKind === 'grid')
      const edit = { version: t.version, titleZh: t.titleZh, titleEn: t.titleEn, items: [...t.items, { zh: '清理排水沟', en: 'Clear the drains' }] }
      expect((await township.send('PUT', '/api/checklists/after/grid', edit)).status).toBe(403)
      expect((await city.send('PUT', '/api/checklists/after/grid', { ...edit, items: [] })).status).toBe(400)
      expect((await city.send('PUT', '/api/checklists/after/nothing', edit)).status).toBe(404)
      const r = await city.send('PUT', '/api/checklists/after/grid', edit)
      expect(r.status).toBe(200)
      expect((await r.json()).items).toHaveLength(t.items.length + 1)
      // Tasks already open keep their items.
      const [open] = await s.db.sql`SELECT jsonb_array_length(items) AS n FROM tasks WHERE phase = 'after' AND target_kind = 'grid' LIMIT 1`
      expect(open.n).toBe(t.items.length)
      expect((await city.send('PUT', '/api/checklists/after/grid', { ...edit, items: t.items, version: edit.version + 1 })).status).toBe(200)
    })

    it('serves rain per unit as the state table holds it', async () => {
      const r = await commander.get(`/api/rain/state?unit=${COUNTY}000000&kind=grid`)
      expect(r.status).toBe(200)
      const body = await r.json()
      const [n] = await s.db.sql`SELECT count(*)::int AS n FROM rain_state WHERE kind = 'grid' AND unit_code LIKE ${COUNTY + '%'}`
      expect(body.units.length).toBe(n.n)
      // "As of" the end of the latest reading hour, and current half an hour later.
      const [{ latest }] = await s.db.sql`SELECT max(hour) AS latest FROM rain_readings`
      clock.set((latest as Date).getTime() + 90 * 60_000)
      const again = await (await commander.get(`/api/rain/state?unit=${COUNTY}000000&kind=grid`)).json()
      expect(again).toMatchObject({ asOf: new Date((latest as Date).getTime() + 3600_000).toISOString(), current: true, ageMinutes: 30 })
      expect((await commander.get('/api/rain/state?unit=12')).status).toBe(400)
    })
    it('serves rain tiles that follow each rain update', async () => {
      const [g] = await s.db.sql`SELECT g.id, ST_X(g.label_point) AS lon, ST_Y(g.label_point) AS lat FROM rain_state r
                                 JOIN grids g ON r.kind = 'grid' AND g.id = r.unit_id ORDER BY g.id LIMIT 1`
      const [t] = tilesCovering([g.lon, g.lat, g.lon, g.lat], 12)
      const feature = async () => {
        const r = await commander.get(`/tiles/rain/12/${t.x}/${t.y}.mvt`)
        expect(r.status).toBe(200)
        const tile = new VectorTile(new PbfReader(new Uint8Array(await r.arrayBuffer())))
        const layer = tile.layers.rain_grids
        for (let i = 0; i < layer.length; i++) if (layer.feature(i).properties.id === g.id) return layer.feature(i).properties
        return undefined
      }
      const stateOf = async () => (await s.db.sql`SELECT coalesce(colour, 'none') AS colour, rain_1h::float8 AS rain_1h FROM rain_state WHERE kind = 'grid' AND unit_id = ${g.id}`)[0]
      const before = await feature()
      expect(before).toMatchObject(await stateOf())
      expect(before!.colour).not.toBe('red')
      const tj = await (await commander.get('/tiles/rain.json')).json()
      expect(tj.vector_layers.map((l: { id: string }) => l.id)).toEqual(['rain_points', 'rain_grids', 'rain_sites'])
      // A tile far from the county (no rain there) is cached and must stay so.
      const far = `/tiles/rain/12/${t.x + 60}/${t.y}.mvt`
      await commander.get(far)
      // A cloudburst at every gauge in the latest hour: the cached tile must not survive it.
      const [{ latest }] = await s.db.sql`SELECT max(hour) AS latest FROM rain_readings`
      const burst = storm.stations.map((x) => ({ station: x.code, hour: (latest as Date).toISOString(), mm: 120 }))
      expect((await commander.send('POST', '/api/rain/readings', burst)).status).toBe(200)
      // NOTIFY reaches a real server's listener asynchronously: give it a moment.
      let after = await feature()
      for (let i = 0; i < 50 && after?.colour !== 'red'; i++) {
        await new Promise((r) => setTimeout(r, 20))
        after = await feature()
      }
      expect(after).toMatchObject(await stateOf())
      expect(after!.colour).toBe('red')
      expect(after!.rain_1h).toBe(120)
      const hits = s.tiles.cache.hits
      await commander.get(far)
      expect(s.tiles.cache.hits).toBe(hits + 1)
    })
  })
}
