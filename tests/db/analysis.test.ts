/**
 * Coverage analyses (GET /api/analysis/{name}) against a direct computation:
 * the raw rows read with plain SELECTs and each rule applied in JS (haversine
 * distances, counts by map lookups), on both databases. A few gaps are made
 * first (a grid's workers moved out, sites without monitor, households
 * without cadre) so each analysis has something to find, and put back after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { loginAs, type Client } from '../helpers/session.ts'
import { targets } from '../helpers/targets.ts'

const CITY = '530600000000'
/** PostGIS's sphere (use_spheroid = false): the mean radius of WGS 84, (2a + b) / 3. */
const R = 6371008.7714
function metres(lon1: number, lat1: number, lon2: number, lat2: number) {
  const rad = Math.PI / 180
  const a = Math.sin(((lat2 - lat1) * rad) / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lon2 - lon1) * rad) / 2) ** 2
  return 2 * R * Math.asin(Math.sqrt(a))
}
const ids = (rows: { id: number }[]) => rows.map((r) => Number(r.id)).sort((a, b) => a - b)

for (const target of targets()) {
  describe(`coverage analyses on ${target.name}`, () => {
    let s: RunningServer
    let planner: Client
    let commander: Client
    let town: string
    let prefix: string
    const undo: (() => Promise<unknown>)[] = []

    type H = { id: number; members: number; vulnerable: number; grid_id: number; grid_code: string; village_code: string; cadre_role: string | null; lon: number; lat: number; householder: string }
    let hh: H[]

    async function run(who: Client, name: string, query: string) {
      const r = await who.get(`/api/analysis/${name}?unit=${town}${query ? `&${query}` : ''}`)
      const body = await r.json()
      expect(r.status, JSON.stringify(body).slice(0, 300)).toBe(200)
      expect(body.truncated).toBe(false)
      expect(body.geojson.features.length).toBe(body.rows.length)
      return body
    }

    beforeAll(async () => {
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true })
      planner = await loginAs(s, 'planner', CITY)
      commander = await loginAs(s, 'commander', CITY)
      const sql = s.db.sql
      const [t] = await sql`SELECT substr(g.code, 1, 9) AS p, count(*)::int AS n FROM households h JOIN grids g ON g.id = h.grid_id GROUP BY 1 ORDER BY 2 DESC LIMIT 1`
      prefix = t.p
      town = `${prefix}000`
      // Gaps to find: the workers of one basic grid moved out, two sites without a monitor, three households without a cadre.
      const [grid] = await sql`SELECT id FROM grids WHERE kind = 'basic' AND code LIKE ${prefix + '%'} ORDER BY id LIMIT 1 OFFSET 1`
      const moved = await sql`SELECT id, grid_id FROM grid_workers WHERE role IN ('网格员', '网格长')
                                AND (grid_id = ${grid.id} OR grid_id IN (SELECT id FROM grids WHERE parent_id = ${grid.id}))`
      expect(moved.length).toBeGreaterThan(0)
      await sql`UPDATE grid_workers SET grid_id = NULL WHERE id = ANY(${moved.map((m) => m.id as number)})`
      const restore = new Map(moved.map((m) => [m.id as number, m.grid_id as number]))
      undo.push(async () => { for (const [id, g] of restore) await sql`UPDATE grid_workers SET grid_id = ${g} WHERE id = ${id}` })
      const sites = await sql`UPDATE hazard_sites SET monitor_id = NULL WHERE id IN (
                                SELECT id FROM hazard_sites WHERE admin_code LIKE ${prefix + '%'} AND status = 'active' ORDER BY id LIMIT 2)
                              RETURNING id`
      expect(sites.length).toBe(2)
      const cadres = await sql`SELECT id, cadre_id FROM households h WHERE grid_id IN (SELECT id FROM grids WHERE code LIKE ${prefix + '%'}) ORDER BY id DESC LIMIT 3`
      await sql`UPDATE households SET cadre_id = NULL WHERE id = ANY(${cadres.map((c) => c.id as number)})`
      undo.push(async () => { for (const c of cadres) await sql`UPDATE households SET cadre_id = ${c.cadre_id} WHERE id = ${c.id}` })
      undo.push(async () => {
        const mons = await sql`SELECT s.id, (SELECT w.id FROM grid_workers w WHERE w.role = '监测员' ORDER BY w.id LIMIT 1) AS m FROM hazard_sites s WHERE s.id = ANY(${sites.map((x) => x.id as number)})`
        for (const m of mons) await sql`UPDATE hazard_sites SET monitor_id = ${m.m} WHERE id = ${m.id}`
      })

      // One shelter of the township not certified safe: the certified-only analyses must leave it out.
      const [shelter] = await sql`UPDATE shelters SET certified_safe = false WHERE id = (
                                    SELECT sh.id FROM shelters sh JOIN admin_units v ON v.id = sh.village_id
                                    WHERE v.code LIKE ${prefix + '%'} AND sh.certified_safe ORDER BY sh.id LIMIT 1) RETURNING id`
      expect(shelter).toBeDefined()
      undo.push(() => sql`UPDATE shelters SET certified_safe = true WHERE id = ${shelter.id}`)

      hh = (await sql`SELECT h.id, h.members::int AS members, h.vulnerable::int AS vulnerable, h.grid_id, g.code AS grid_code,
                             substr(g.code, 1, 12) AS village_code, w.role AS cadre_role, h.householder,
                             ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat
                      FROM households h JOIN grids g ON g.id = h.grid_id LEFT JOIN grid_workers w ON w.id = h.cadre_id
                      WHERE g.code LIKE ${prefix + '%'}`) as unknown as H[]
      expect(hh.length).toBeGreaterThan(100)
    })
    afterAll(async () => {
      for (const u of undo.reverse()) await u()
      await s?.close()
    })

    it('households per grid worker: counts and the over-limit grids match a count over the raw rows', async () => {
      const sql = s.db.sql
      const grids = await sql`SELECT id, code FROM grids WHERE kind = 'basic' AND code LIKE ${prefix + '%'}`
      const micro = await sql`SELECT id, parent_id FROM grids WHERE kind = 'micro'`
      const basicOf = new Map<number, number>(micro.map((m) => [m.id as number, m.parent_id as number]))
      const workers = new Map<number, number>()
      for (const w of await sql`SELECT grid_id FROM grid_workers WHERE role IN ('网格员', '网格长') AND grid_id IS NOT NULL`) {
        const g = basicOf.get(w.grid_id as number) ?? (w.grid_id as number)
        workers.set(g, (workers.get(g) ?? 0) + 1)
      }
      const homes = new Map<number, number>()
      for (const h of hh) homes.set(h.grid_id, (homes.get(h.grid_id) ?? 0) + 1)
      const perWorker = grids.map((g) => (homes.get(g.id as number) ?? 0) / Math.max(1, workers.get(g.id as number) ?? 0))
      const limit = Math.max(1, Math.round(perWorker.sort((a, b) => a - b)[Math.floor(perWorker.length / 2)]))
      const body = await run(planner, 'worker_load', `limit=${limit}`)
      expect(body.rows.length).toBe(grids.length)
      let over = 0
      let overHouseholds = 0
      for (const r of body.rows) {
        const n = homes.get(r.id) ?? 0
        const w = workers.get(r.id) ?? 0
        expect(r.households, r.code).toBe(n)
        expect(r.workers, r.code).toBe(w)
        expect(r.over_limit, r.code).toBe(n > limit * w)
        if (n > limit * w) { over++; overHouseholds += n }
      }
      expect(over).toBeGreaterThan(0)
      expect(body.totals).toMatchObject({ grids: grids.length, households: hh.length, over_grids: over, over_households: overHouseholds })
      // Per child unit (villages of the township): the same totals, split.
      expect(body.byUnit.reduce((t: number, u: { over_grids: number }) => t + u.over_grids, 0)).toBe(over)
      expect(body.byUnit.every((u: { code: string; name: string }) => u.code.length === 12 && u.name)).toBe(true)
      // The grid whose workers were moved out has households and nobody: over any limit.
      const lone = body.rows.filter((r: { workers: number }) => r.workers === 0)
      expect(lone.length).toBeGreaterThan(0)
      expect(lone.every((r: { over_limit: boolean; households: number }) => r.over_limit === r.households > 0)).toBe(true)
    })

    it('households farther than a distance from a certified shelter match haversine distances to every shelter', async () => {
      const sql = s.db.sql
      for (const certified of [true, false]) {
        const shelters = await sql`SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat FROM shelters WHERE ${certified ? sql`certified_safe` : sql`true`}`
        const nearest = new Map(hh.map((h) => [h.id, Math.min(...shelters.map((x) => metres(h.lon, h.lat, x.lon as number, x.lat as number)))]))
        const sorted = [...nearest.values()].sort((a, b) => a - b)
        const distance = Math.round(sorted[Math.floor(sorted.length / 2)])
        const body = await run(planner, 'shelter_distance', `distance=${distance}&certified=${certified}`)
        // Within a metre of the limit either answer is right (rounding of coordinates).
        const far = hh.filter((h) => Math.abs(nearest.get(h.id)! - distance) > 1)
        const got = new Set(ids(body.rows))
        for (const h of far) expect(got.has(h.id), `household ${h.id} at ${nearest.get(h.id)} m, limit ${distance}`).toBe(nearest.get(h.id)! > distance)
        expect(body.rows.length).toBeGreaterThan(0)
        for (const r of body.rows) expect(Math.abs(r.nearest_m - nearest.get(r.id)!), `${r.id}`).toBeLessThanOrEqual(1)
        const rows = hh.filter((h) => got.has(h.id))
        expect(body.totals).toEqual({ households: rows.length, people: rows.reduce((t, h) => t + h.members, 0), vulnerable: rows.reduce((t, h) => t + h.vulnerable, 0) })
        // A planner reads names masked, as everywhere.
        const any = body.rows[0]
        expect(any.householder).not.toBe(hh.find((h) => h.id === any.id)!.householder)
        expect(any.householder).toMatch(/\*/)
      }
      const vul = await run(planner, 'shelter_distance', 'distance=50&vulnerable_only=true')
      expect(vul.rows.every((r: { vulnerable: number }) => r.vulnerable > 0)).toBe(true)
      expect(vul.rows.length).toBeGreaterThan(0)
    })

    it('shelter capacity against threatened people per village and per township matches sums over the raw rows', async () => {
      const sql = s.db.sql
      const threatened = new Set((await sql`SELECT t.household_id FROM hazard_threats t JOIN hazard_sites x ON x.id = t.hazard_id WHERE x.status = 'active'`).map((r) => r.household_id as number))
      const shelters = await sql`SELECT v.code, sh.capacity, sh.certified_safe FROM shelters sh JOIN admin_units v ON v.id = sh.village_id WHERE v.code LIKE ${prefix + '%'}`
      for (const level of ['village', 'township'] as const) {
        const len = level === 'village' ? 12 : 9
        const units = await sql`SELECT code FROM admin_units WHERE level = ${level} AND code LIKE ${prefix + '%'}`
        const people = new Map<string, number>()
        for (const h of hh) if (threatened.has(h.id)) people.set(h.grid_code.slice(0, len), (people.get(h.grid_code.slice(0, len)) ?? 0) + h.members)
        const cap = new Map<string, number>()
        for (const x of shelters) if (x.certified_safe) cap.set((x.code as string).slice(0, len), (cap.get((x.code as string).slice(0, len)) ?? 0) + (x.capacity as number))
        const body = await run(planner, 'shelter_capacity', `level=${level}`)
        expect(body.rows.length).toBe(units.length)
        let shortfall = 0
        for (const r of body.rows) {
          const p = people.get(r.code.slice(0, len)) ?? 0
          const c = cap.get(r.code.slice(0, len)) ?? 0
          expect([r.threatened_people, r.capacity, r.shortfall, r.short], r.code).toEqual([p, c, Math.max(0, p - c), p > c])
          shortfall += Math.max(0, p - c)
        }
        expect(body.totals.shortfall).toBe(shortfall)
        expect(body.totals.threatened_people).toBe([...people.values()].reduce((a, b) => a + b, 0))
      }
      // Counting uncertified shelters too never lowers capacity.
      const all = await run(planner, 'shelter_capacity', 'level=village&certified=false')
      const certifiedOnly = await run(planner, 'shelter_capacity', 'level=village')
      expect(all.totals.capacity).toBe(shelters.reduce((t, x) => t + (x.capacity as number), 0))
      expect(all.totals.capacity).toBeGreaterThan(certifiedOnly.totals.capacity)
      expect(certifiedOnly.totals.capacity).toBe(shelters.reduce((t, x) => t + (x.certified_safe ? (x.capacity as number) : 0), 0))
    })

    it('hazard sites without a monitor, grids without a worker, households without a cadre: the rows made so', async () => {
      const sql = s.db.sql
      const sites = await sql`SELECT s.id, s.monitor_id, w.role FROM hazard_sites s LEFT JOIN grid_workers w ON w.id = s.monitor_id
                              WHERE s.admin_code LIKE ${prefix + '%'} AND s.status = 'active'`
      const unmonitored = sites.filter((x) => x.role !== '监测员')
      const h = await run(planner, 'hazards_unmonitored', '')
      expect(ids(h.rows)).toEqual(ids(unmonitored as never))
      expect(h.rows.length).toBe(2)
      expect(h.totals.sites).toBe(2)

      const load = await run(planner, 'worker_load', 'limit=100')
      const g = await run(planner, 'grids_without_worker', '')
      expect(ids(g.rows)).toEqual(ids(load.rows.filter((r: { workers: number }) => r.workers === 0)))
      expect(g.rows.length).toBeGreaterThan(0)
      expect(g.totals.households).toBe(hh.filter((x) => g.rows.some((r: { id: number }) => r.id === x.grid_id)).length)

      const c = await run(commander, 'households_without_cadre', '')
      const none = hh.filter((x) => x.cadre_role !== '包保责任人')
      expect(ids(c.rows)).toEqual(ids(none))
      expect(c.rows.length).toBe(3)
      // The commander may read names.
      expect(c.rows.map((r: { householder: string }) => r.householder).sort()).toEqual(none.map((x) => x.householder).sort())
      expect(c.geojson.features[0].geometry.type).toBe('Point')
      expect(c.geojson.features[0].properties._flag).toBe(true)
    })

    it('problem reports closed per village over a period match a fold over the raw rows; merged and older reports not counted', async () => {
      const sql = s.db.sql
      const villages = await sql`SELECT v.code, (SELECT g.code FROM grids g WHERE g.village_id = v.id AND g.kind = 'basic' ORDER BY g.code LIMIT 1) AS grid,
                                        (SELECT ST_AsText(ST_PointOnSurface(g.geom)) FROM grids g WHERE g.village_id = v.id AND g.kind = 'basic' ORDER BY g.code LIMIT 1) AS at
                                 FROM admin_units v WHERE v.level = 'village' AND v.code LIKE ${prefix + '%'} ORDER BY v.code LIMIT 2`
      const MIN = 60_000
      const now = Date.now()
      const add = async (v: (typeof villages)[number], o: { state: string; receivedAgo: number; ackAfter?: number; dueAgo?: number }) => {
        const received = new Date(now - o.receivedAgo * MIN)
        const [r] = await sql`
          INSERT INTO reports (type, urgency, geom, grid_code, level, unit_code, state, reported_by_name, reported_at, received_at, level_since,
                               acknowledged_at, due_at, closed_at)
          VALUES ('other', 'normal', ST_GeomFromText(${v.at as string}, 4326), ${v.grid as string}, 'village', ${v.code as string}, ${o.state}, '测试',
                  ${received}, ${received}, ${received}, ${o.ackAfter === undefined ? null : new Date(received.getTime() + o.ackAfter * MIN)},
                  ${o.dueAgo === undefined ? null : new Date(now - o.dueAgo * MIN)}, ${o.state === 'closed' ? new Date(now) : null})
          RETURNING id`
        undo.push(() => sql`DELETE FROM reports WHERE id = ${r.id}`)
      }
      const [a, b] = villages
      await add(a, { state: 'closed', receivedAgo: 600, ackAfter: 10 })
      await add(a, { state: 'closed', receivedAgo: 300, ackAfter: 30 })
      await add(a, { state: 'reported', receivedAgo: 200, dueAgo: 5 })
      await add(a, { state: 'merged', receivedAgo: 100, ackAfter: 1 })
      await add(a, { state: 'closed', receivedAgo: 40 * 24 * 60, ackAfter: 1 })
      await add(b, { state: 'closed', receivedAgo: 60, ackAfter: 4 })
      const body = await run(planner, 'report_closure', 'days=30&target=90')
      const raw = await sql`SELECT substr(grid_code, 1, 12) AS v, state, received_at, acknowledged_at, due_at FROM reports
                            WHERE grid_code LIKE ${prefix + '%'} AND state <> 'merged' AND received_at >= now() - interval '30 days'`
      const all = await sql`SELECT code FROM admin_units WHERE level = 'village' AND code LIKE ${prefix + '%'}`
      expect(body.rows.length).toBe(all.length)
      const median = (xs: number[]) => {
        const t = xs.sort((x, y) => x - y)
        return t.length ? (t.length % 2 ? t[(t.length - 1) / 2] : (t[t.length / 2 - 1] + t[t.length / 2]) / 2) : null
      }
      for (const row of body.rows) {
        const mine = raw.filter((r) => r.v === row.code)
        const closed = mine.filter((r) => r.state === 'closed').length
        const rate = mine.length ? Math.round((1000 * closed) / mine.length) / 10 : null
        const acks = mine.filter((r) => r.acknowledged_at).map((r) => ((r.acknowledged_at as Date).getTime() - (r.received_at as Date).getTime()) / MIN)
        const m = median(acks)
        expect(row, row.code).toMatchObject({ filed: mine.length, closed, closure_rate: rate, below_target: mine.length > 0 && rate! < 90 })
        expect(row.median_ack_minutes, row.code).toBe(m === null ? null : Math.round(m * 10) / 10)
        expect(row.open_overdue, row.code).toBe(mine.filter((r) => ['reported', 'acknowledged', 'dispatched'].includes(r.state as string) && r.due_at && (r.due_at as Date).getTime() <= Date.now()).length)
      }
      // What was planted: village a has 2 of 3 closed (the merged one and the one of 40 days ago left out), one overdue.
      const rowA = body.rows.find((r: { code: string }) => r.code === a.code)
      expect(rowA.filed).toBeGreaterThanOrEqual(3)
      expect(rowA.below_target).toBe(true)
      expect(rowA.open_overdue).toBeGreaterThanOrEqual(1)
      expect(body.totals.filed).toBe(raw.length)
    })

    it('exports an analysis through the export code: count ahead, every row, audited', async () => {
      const body = await run(planner, 'shelter_distance', 'distance=500')
      const r = await planner.get(`/api/export/analysis/shelter_distance.geojson?unit=${town}&distance=500`)
      expect(r.status).toBe(200)
      expect(r.headers.get('x-feature-count')).toBe(String(body.totals.households))
      expect(r.headers.get('content-disposition')).toContain(`shelter_distance-${town}.geojson`)
      const gj = await r.json()
      expect(ids(gj.features.map((f: { id: number }) => ({ id: f.id })))).toEqual(ids(body.rows))
      const csv = await planner.get(`/api/export/analysis/worker_load.csv?unit=${town}&limit=5`)
      expect(csv.status).toBe(200)
      const bytes = Buffer.from(await csv.arrayBuffer())
      expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf])
      const lines = bytes.subarray(3).toString('utf8').trim().split('\n')
      expect(lines[0]).toBe('id,code,name,village_code,village_name,households,workers,per_worker,over_limit,lon,lat,wkt')
      expect(lines.length - 1).toBe(Number(csv.headers.get('x-feature-count')))
      const [a] = await s.db.sql`SELECT after FROM audit_log WHERE action = 'export' AND table_name = 'worker_load' ORDER BY id DESC LIMIT 1`
      expect(a.after).toMatchObject({ unit: town, format: 'csv', analysis: 'worker_load', params: { limit: 5 } })
      const bad = await planner.get(`/api/export/analysis/worker_load.csv?unit=${town}&limit=0`)
      expect(bad.status).toBe(400)
      expect((await planner.get(`/api/export/analysis/nothing.csv?unit=${town}`)).status).toBe(404)
      expect((await planner.get(`/api/export/analysis/worker_load.doc?unit=${town}`)).status).toBe(400)
    })

    it('as a job: progress by parts, and the city put together county by county is the one-statement answer', async () => {
      const queries: [string, string][] = [['worker_load', 'limit=10'], ['shelter_distance', 'distance=800'], ['shelter_capacity', 'level=village'],
        ['hazards_unmonitored', ''], ['grids_without_worker', ''], ['households_without_cadre', '']]
      const [{ n: counties }] = await s.db.sql`SELECT count(*)::int AS n FROM admin_units WHERE level = 'county'`
      expect(counties).toBeGreaterThan(1)
      for (const [name, q] of queries) {
        const whole = await (await planner.get(`/api/analysis/${name}?unit=${CITY}&${q}`)).json()
        const start = await planner.send('POST', `/api/analysis/${name}/jobs?unit=${CITY}&${q}`, {})
        let p = await start.json()
        expect(start.status, JSON.stringify(p)).toBe(202)
        const seen = new Set<number>()
        for (let i = 0; i < 200 && p.stage === 'running'; i++) {
          seen.add(p.done)
          expect(p.done).toBeLessThanOrEqual(p.total)
          await new Promise((r) => setTimeout(r, 50))
          p = await (await planner.get(`/api/analysis/jobs/${p.id}`)).json()
        }
        expect(p.stage, p.error).toBe('done')
        // shelter_distance goes county by county (the others are one part: cutting them costs more than it shows).
        const parts = name === 'shelter_distance' ? counties : 1
        expect([p.done, p.total, p.percent], name).toEqual([parts, parts, 100])
        expect(whole.byUnit.length, name).toBeGreaterThan(0)
        expect(p.result.totals, name).toEqual(whole.totals)
        expect(p.result.byUnit, name).toEqual(whole.byUnit)
        expect(p.result.rows, name).toEqual(whole.rows)
        expect(p.result.geojson, name).toEqual(whole.geojson)
      }
      // Someone else's job, a bad parameter, a role that may not.
      const other = await loginAs(s, 'planner', CITY)
      const county = `${prefix.slice(0, 6)}000000`
      const job = await (await planner.send('POST', `/api/analysis/worker_load/jobs?unit=${county}`, {})).json()
      expect((await other.get(`/api/analysis/jobs/${job.id}`)).status).toBe(404)
      expect((await planner.send('POST', `/api/analysis/worker_load/jobs?unit=${county}&limit=0`, {})).status).toBe(400)
      expect((await planner.send('POST', `/api/analysis/nothing/jobs?unit=${county}`, {})).status).toBe(404)
      const viewer = await loginAs(s, 'viewer', CITY)
      expect((await viewer.send('POST', `/api/analysis/worker_load/jobs?unit=${county}`, {})).status).toBe(403)
    })

    it('analysis jobs wait their turn: 2 a user and 10 in all queued or running (then 429 with Retry-After), a queued job tells its place, each place freed as its job ends', async () => {
      const places = s.limits.analysis
      expect(places.held()).toBe(0)
      // Work of other people holds both running places, so the jobs posted here wait.
      const busy = [places.enter(-1), places.enter(-2)]
      const post = (who: Client) => who.send('POST', `/api/analysis/worker_load/jobs?unit=${CITY}&limit=10`, {})
      const j1 = await (await post(planner)).json()
      const j2 = await (await post(planner)).json()
      expect([j1.stage, j1.position, j2.stage, j2.position]).toEqual(['queued', 1, 'queued', 2])
      const over = await post(planner)
      const refusal = await over.json()
      expect(over.status, JSON.stringify(refusal)).toBe(429)
      expect(refusal.error.code).toBe('too_many_jobs')
      expect(refusal.error.zh).toMatch(/2/)
      expect(refusal.error.en).toMatch(/2/)
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0)
      const other = await loginAs(s, 'planner', CITY)
      const j3 = await (await post(other)).json()
      expect([j3.stage, j3.position]).toEqual(['queued', 3])
      // The rest of the ten places, then nobody gets in.
      while (places.held() < 10) busy.push(places.enter(-100 - places.held()))
      const third = await loginAs(s, 'planner', CITY)
      const full = await post(third)
      expect(full.status).toBe(429)
      expect((await full.json()).error.code).toBe('server_busy')
      expect(Number(full.headers.get('retry-after'))).toBeGreaterThan(0)
      expect((await (await planner.get(`/api/analysis/jobs/${j2.id}`)).json()).position).toBe(2)

      // The places free up: the jobs run in their order and end; their places come back.
      for (const b of busy) if (!('refused' in b)) b.release()
      const finished = async (who: Client, id: string) => {
        let p = await (await who.get(`/api/analysis/jobs/${id}`)).json()
        for (let i = 0; i < 200 && (p.stage === 'queued' || p.stage === 'running'); i++) {
          await new Promise((r) => setTimeout(r, 50))
          p = await (await who.get(`/api/analysis/jobs/${id}`)).json()
        }
        return p
      }
      for (const [who, j] of [[planner, j1], [planner, j2], [other, j3]] as const) {
        const p = await finished(who, j.id)
        expect([p.stage, p.position, p.result.totals.households > 0], p.error).toEqual(['done', null, true])
      }
      expect(places.held()).toBe(0)
      expect((await post(planner)).status).toBe(202)
    })

    it('refuses bad parameters (400), unknown analyses and units (404), roles and areas that may not (403)', async () => {
      const bad = [
        'worker_load?limit=abc', 'worker_load?limit=0', 'worker_load?limit=1.5', 'worker_load?limit=5&limit=6', 'worker_load?lmit=5',
        'shelter_distance?distance=10', 'shelter_distance?distance=1e9', 'shelter_distance?certified=maybe', 'shelter_distance?distance=',
        'shelter_capacity?level=county', 'hazards_unmonitored?x=1', 'households_without_cadre?vulnerable_only=yes',
        'worker_load?unit=5306', 'worker_load?unit=53060000000x', `worker_load?unit=${town}&unit=${town}`,
      ]
      for (const q of bad) {
        const r = await planner.get(`/api/analysis/${q}${q.includes('unit=') ? '' : `&unit=${town}`}`)
        const body = await r.json()
        expect(r.status, q).toBe(400)
        expect(body.error.code, q).toBe('bad_input')
        expect(body.error.zh, q).toMatch(/参数有误/)
      }
      const nothing = await planner.get(`/api/analysis/no_such?unit=${town}`)
      expect(nothing.status).toBe(404)
      expect((await nothing.json()).error.code).toBe('unknown_analysis')
      expect((await planner.get('/api/analysis/worker_load?unit=530699999000')).status).toBe(404)
      const viewer = await loginAs(s, 'viewer', CITY)
      expect((await viewer.get(`/api/analysis/worker_load?unit=${town}`)).status).toBe(403)
      const worker = await loginAs(s, 'grid_worker', `${prefix}201`.padEnd(12, '0'))
      expect((await worker.get(`/api/analysis/worker_load?unit=${town}`)).status).toBe(403)
      const [other] = await s.db.sql`SELECT code FROM admin_units WHERE level = 'township' AND code <> ${town} LIMIT 1`
      const local = await loginAs(s, 'planner', other.code as string)
      const r = await local.get(`/api/analysis/worker_load?unit=${town}`)
      expect(r.status).toBe(403)
      expect((await r.json()).error.code).toBe('forbidden_scope')
      // Without a unit: the user's own area.
      const own = await local.get('/api/analysis/hazards_unmonitored')
      expect(own.status).toBe(200)
      expect((await own.json()).unit.code).toBe(other.code)
      const list = await planner.get('/api/analysis')
      expect((await list.json()).map((a: { id: string }) => a.id)).toEqual(['worker_load', 'shelter_distance', 'shelter_capacity', 'hazards_unmonitored', 'grids_without_worker', 'households_without_cadre', 'report_closure',
        'hex_worker_load', 'hex_shelter_distance', 'hex_no_worker'])
    })
  })
}
