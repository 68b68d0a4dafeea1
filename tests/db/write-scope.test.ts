/**
 * Writes outside the writer's area (issue #16, item 4). Every write route of
 * the API is listed here with the rule api/README.md states ("Writes and
 * areas"); a route that checks a place is probed by someone whose area does
 * not hold it, and must answer 403 forbidden_scope (an import: its row errors)
 * with nothing written. A new write route that is not listed fails the first
 * test, so the check cannot be forgotten quietly. City-wide settings (rain
 * rules, checklist templates, rain stations) belong to city-level accounts.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { resetRain } from '../helpers/rain.ts'
import { loginAs, type Client } from '../helpers/session.ts'
import { targets } from '../helpers/targets.ts'

const CITY = '530600000000'
/** Another county (昭阳区, its outline seeded without townships) and a township of it, which the suite adds. */
const OTHER_COUNTY = '530602000000'
const OTHER_COUNTY_TOWNSHIP = '530602100000'

/**
 * Every write route (method and Hono path) → what the writer's area must hold.
 * `own` routes act on the caller's own session or account only.
 */
const writeRoutes: Record<string, string> = {
  'POST /api/auth/login': 'own',
  'POST /api/auth/logout': 'own',
  'POST /api/auth/password': 'own',
  'DELETE /api/auth/throttles/:id': 'admin only (a throttle has no place: a name or an address; tests/db/auth.test.ts)',
  'POST /api/tokens': 'own',
  // One's own token; an admin's revoke of another's is held to the account's place (404 outside: tests/db/tokens.test.ts).
  'DELETE /api/tokens/:id': 'own',
  'POST /api/users': 'the new account\'s place',
  'PATCH /api/users/:id': 'the account\'s place, now and after',
  'PATCH /api/households/:id': 'the household\'s grid',
  'POST /api/households/:id/visits': 'the household\'s grid',
  'PATCH /api/grids/:id': 'the grid',
  'POST /api/villages/:code/cover/preview': 'the village',
  'POST /api/villages/:code/cover': 'the village',
  'POST /api/villages/:code/cover/versions/:n/restore': 'the village',
  'POST /api/import/grids': 'the unit, and every village of the file inside it',
  'POST /api/rain/stations': 'city level (a row that changes nothing is no write)',
  'POST /api/rain/readings': 'each station\'s location',
  'POST /api/rain/forecasts': 'each forecast\'s area',
  'POST /api/rain/warnings': 'each warning\'s areas and polygon',
  'PUT /api/rain/config/:key': 'city level',
  'PATCH /api/tasks/:id/items/:n': 'the task\'s grid or village',
  'PUT /api/checklists/:phase/:kind': 'city level',
  'POST /api/analysis/:name/jobs': 'the unit',
  'POST /api/import/households': 'every point and every updated record',
  'POST /api/import/hazard_sites': 'every point and every updated record',
  'POST /api/print': 'the unit',
  'POST /api/evacuation/orders': 'the units named; only households inside the area are ordered',
  'PATCH /api/evacuation/orders/:id/households/:hid': 'the household\'s grid',
  'POST /api/evacuation/orders/:id/bulk': 'the grid',
  'POST /api/evacuation/orders/:id/close': 'the order\'s unit',
  'POST /api/reports': 'the grid holding the point',
  'POST /api/reports/import': 'the grid holding each row\'s point (one row outside: 400 naming it, nothing filed)',
  'POST /api/reports/:id/:action': 'the report\'s grid (out of the area it does not exist: 404); then the level owning it',
  'POST /api/reports/:id/propose-site': 'the report\'s grid (out of the area it does not exist: 404)',
  'POST /api/reports/:id/confirm-site': 'the report\'s grid (404 outside); then a county or city scope',
  'POST /api/reports/:id/transfer': 'the report\'s grid (404 outside); the order holds that grid\'s households',
  'PUT /api/reports/rules': 'city level (the time limits are every county\'s)',
  'POST /api/field/sync': 'each action\'s target: the task\'s, the household\'s grid (the same functions as the routes above)',
}
/** Handlers for every method: middleware, the OGC API (read-only, 405 to writes) and the /api 404. */
// '/api/export/*': the CORS headers of cross-origin reads and their preflight (api/edge/cors.ts), no write.
// /styles/*: the published style's middleware (CORS for reads, control characters, session or token, login): it has no write.
const allMethodPaths = new Set(['/*', '/api/*', '/tiles/*', '/styles/*', '/ogc/*', '/ogc', '/api/export/*'])

const b64 = (s: string) => Buffer.from(s).toString('base64')

for (const target of targets()) {
  describe(`writes are checked against the writer's area on ${target.name}`, () => {
    let s: RunningServer
    let A: string, B: string, county: string
    let gB: { id: number; code: string; village: string; lon: number; lat: number }
    let hB: number
    let inside: { lon: number; lat: number }, outside: { lon: number; lat: number }
    let square: unknown, straddling: unknown
    let townA: Client, townB: Client, countyCmd: Client, cityCmd: Client, admin: Client, countyAdmin: Client
    let orderB: { id: number; version: number }
    let taskB: { id: number }
    const hour = new Date(Math.floor(Date.now() / 3600_000) * 3600_000 - 3600_000)
    const at = (h: number) => new Date(hour.getTime() + h * 3600_000).toISOString()

    /** What any write would change: the audit log and the tables whose writes it does not record. */
    const written = async () => (await s.db.sql`
      SELECT (SELECT count(*)::int FROM audit_log) AS audit, (SELECT count(*)::int FROM evac_status_log) AS evac_log,
             (SELECT count(*)::int FROM live_events) AS events, (SELECT count(*)::int FROM evac_orders) AS orders,
             (SELECT count(*)::int FROM rain_stations) AS stations, (SELECT count(*)::int FROM rain_readings) AS readings,
             (SELECT count(*)::int FROM rain_forecasts) AS forecasts, (SELECT count(*)::int FROM rain_warnings) AS warnings,
             (SELECT count(*)::int FROM task_item_log) AS ticks, (SELECT coalesce(sum(version), 0)::int FROM tasks) AS tasks,
             (SELECT sum(version)::int FROM rain_config) AS config, (SELECT sum(version)::int FROM checklist_templates) AS checklists,
             (SELECT count(*)::int FROM users) AS users, (SELECT sum(version)::int FROM users) AS user_versions,
             (SELECT count(*)::int FROM grid_cover_versions) AS covers,
             (SELECT count(*)::int FROM reports) AS reports, (SELECT count(*)::int FROM report_steps) AS report_steps`)[0]

    /** Runs `attempt`, expects the refusal (default 403 forbidden_scope, in Chinese and English) and that nothing was written. */
    async function refused(name: string, attempt: () => Promise<Response>, want: { status?: number; code?: string; en?: RegExp } = {}) {
      const before = await written()
      const r = await attempt()
      const body = await r.json()
      expect(r.status, `${name}: ${JSON.stringify(body).slice(0, 400)}`).toBe(want.status ?? 403)
      expect(body.error.code, name).toBe(want.code ?? 'forbidden_scope')
      expect(body.error.zh, name).toBeTruthy()
      if (want.en) expect(JSON.stringify(body), name).toMatch(want.en)
      expect(await written(), name).toEqual(before)
    }

    beforeAll(async () => {
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true })
      const sql = s.db.sql
      await resetRain(sql)
      const towns = await sql`SELECT code FROM admin_units WHERE level = 'township' ORDER BY code LIMIT 2`
      ;[A, B] = [towns[0].code as string, towns[1].code as string]
      county = A.slice(0, 6) + '000000'
      ;[gB] = (await sql`
        SELECT g.id, g.code, left(g.code, 12) AS village, ST_X(g.label_point) AS lon, ST_Y(g.label_point) AS lat FROM grids g
        WHERE g.kind = 'basic' AND g.code LIKE ${B.slice(0, 9) + '%'} AND EXISTS (SELECT 1 FROM households h WHERE h.grid_id = g.id)
        ORDER BY g.code LIMIT 1`) as unknown as (typeof gB)[]
      ;[{ id: hB }] = (await sql`SELECT min(id)::int AS id FROM households WHERE grid_id = ${gB.id}`) as unknown as { id: number }[]
      // A point well inside the county, a small square around it, a point of the other county, and a box reaching from one to the other.
      const [c] = await sql`
        SELECT ST_X(p) AS lon, ST_Y(p) AS lat, ST_AsGeoJSON(ST_Expand(p, 0.001))::json AS square, ST_CoveredBy(ST_Expand(p, 0.001), geom) AS covered,
               (SELECT ST_X(ST_PointOnSurface(geom)) FROM admin_units WHERE code = ${OTHER_COUNTY}) AS "outLon",
               (SELECT ST_Y(ST_PointOnSurface(geom)) FROM admin_units WHERE code = ${OTHER_COUNTY}) AS "outLat"
        FROM (SELECT geom, ST_PointOnSurface(geom) AS p FROM admin_units WHERE code = ${county}) x`
      expect(c.covered).toBe(true)
      inside = { lon: c.lon as number, lat: c.lat as number }
      outside = { lon: c.outLon as number, lat: c.outLat as number }
      square = c.square
      // A township of the other county around that point.
      await sql`INSERT INTO admin_units (code, name, level, parent_id, geom, label_point)
                SELECT ${OTHER_COUNTY_TOWNSHIP}, '邻县一镇', 'township', id, ST_Multi(ST_Intersection(geom, ST_Expand(ST_SetSRID(ST_MakePoint(${outside.lon}, ${outside.lat}), 4326), 0.05))),
                       ST_SetSRID(ST_MakePoint(${outside.lon}, ${outside.lat}), 4326)
                FROM admin_units WHERE code = ${OTHER_COUNTY}`
      const [w, e] = [Math.min(inside.lon, outside.lon), Math.max(inside.lon, outside.lon)]
      const [so, n] = [Math.min(inside.lat, outside.lat), Math.max(inside.lat, outside.lat) + 0.01]
      straddling = { type: 'Polygon', coordinates: [[[w, so], [e, so], [e, n], [w, n], [w, so]]] }
      ;[townA, townB, countyCmd, cityCmd, admin, countyAdmin] = await Promise.all([
        loginAs(s, 'township', A), loginAs(s, 'township', B), loginAs(s, 'commander', county), loginAs(s, 'commander', CITY),
        loginAs(s, 'admin', CITY), loginAs(s, 'admin', county),
      ])
      // City-wide infrastructure, put in by the city: a gauge inside the county and one in the next county.
      const st = await cityCmd.send('POST', '/api/rain/stations', [
        { code: 'IN1', name: '县内站', ...inside }, { code: 'OUT1', name: '县外站', ...outside }])
      expect(st.status, await st.clone().text()).toBe(200)
      // Checklists in township B: a heavy-rain forecast for it opens them.
      const f = await cityCmd.send('POST', '/api/rain/forecasts', [{ area: B, leadHours: 6, periodStart: at(3), periodEnd: at(9), mm: 90, issuedAt: at(0) }])
      expect(f.status, await f.clone().text()).toBe(200)
      ;[taskB] = (await sql`SELECT id::int FROM tasks WHERE unit_code LIKE ${B.slice(0, 9) + '%'} ORDER BY id LIMIT 1`) as unknown as { id: number }[]
      expect(taskB).toBeTruthy()
      // A transfer order in township B, issued by B.
      const o = await townB.send('POST', '/api/evacuation/orders', { stage: 'everyone', trigger: { kind: 'manual' }, grids: [gB.id] })
      expect(o.status, await o.clone().text()).toBe(201)
      orderB = (await o.json()).order
    })
    afterAll(async () => {
      if (orderB) await s.db.sql`DELETE FROM evac_orders WHERE id = ${orderB.id}`
      if (s) await resetRain(s.db.sql)
      if (s) await s.db.sql`DELETE FROM admin_units WHERE code = ${OTHER_COUNTY_TOWNSHIP}`
      // The site the confirm-site probe proposed in B, and its report's link to it.
      if (s) {
        const sites = (await s.db.sql<{ id: number }[]>`SELECT id FROM hazard_sites WHERE proposed_from IS NOT NULL AND admin_code LIKE ${B.slice(0, 9) + '%'}`).map((x) => x.id)
        await s.db.sql`UPDATE reports SET hazard_site_id = NULL WHERE hazard_site_id = ANY(${sites}::int[])`
        await s.db.sql`DELETE FROM hazard_sites WHERE id = ANY(${sites}::int[])`
      }
      await s?.close()
    })

    it('lists every write route of the app with its area rule', () => {
      const app = s.app.routes
      const writes = app.filter((r) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method)).map((r) => `${r.method} ${r.path}`)
      expect([...new Set(writes)].sort()).toEqual(Object.keys(writeRoutes).sort())
      // Handlers for any method are middleware or read-only: a new one must be looked at too.
      for (const r of app.filter((x) => x.method === 'ALL')) expect(allMethodPaths, r.path).toContain(r.path)
    })

    it('refuses each write route to someone whose area does not hold the target, writing nothing', async () => {
      const probes: Record<string, () => Promise<void>> = {
        'POST /api/users': () => refused('county admin makes a city account', () =>
          countyAdmin.send('POST', '/api/users', { username: 'citycmd2', displayName: '市指挥', role: 'commander', unitCode: CITY, password: 'Zhaotong-city-2026' })),
        'PATCH /api/users/:id': () => refused('county admin edits a city account', () =>
          countyAdmin.send('PATCH', `/api/users/${cityCmd.userId}`, { version: 1, displayName: '改名' })),
        'PATCH /api/households/:id': () => refused('household of B', () => townA.send('PATCH', `/api/households/${hB}`, { version: 1, risk_level: 'red' })),
        'POST /api/households/:id/visits': () => refused('visit in B', () => townA.send('POST', `/api/households/${hB}/visits`, {})),
        'PATCH /api/grids/:id': () => refused('grid of B', () => townA.send('PATCH', `/api/grids/${gB.id}`, { version: 1, name: '越权' })),
        'POST /api/villages/:code/cover/preview': () => refused('preview in B', () =>
          townA.send('POST', `/api/villages/${gB.village}/cover/preview`, { change: { op: 'delete', grid: gB.code } })),
        'POST /api/villages/:code/cover': () => refused('save in B', () =>
          townA.send('POST', `/api/villages/${gB.village}/cover`, { change: { op: 'delete', grid: gB.code }, version: 0 })),
        'POST /api/villages/:code/cover/versions/:n/restore': () => refused('restore in B', () =>
          townA.send('POST', `/api/villages/${gB.village}/cover/versions/0/restore`, { version: 0 })),
        'POST /api/import/grids': () => refused('grids of B', () =>
          townA.send('POST', '/api/import/grids', { unit: gB.village, file: b64('{"type":"FeatureCollection","features":[]}'), format: 'geojson', crs: 'wgs84' })),
        'POST /api/rain/stations': () => refused('county adds a station', () =>
          countyCmd.send('POST', '/api/rain/stations', [{ code: 'IN2', name: '县内新站', lon: inside.lon + 0.001, lat: inside.lat }]), { en: /city/ }),
        'POST /api/rain/readings': () => refused('reading of a station in another county', () =>
          countyCmd.send('POST', '/api/rain/readings', [{ station: 'IN1', hour: at(0), mm: 3 }, { station: 'OUT1', hour: at(0), mm: 5 }]), { en: /row 2: .*OUT1/ }),
        'POST /api/rain/forecasts': () => refused('forecast for another county', () =>
          countyCmd.send('POST', '/api/rain/forecasts', [{ area: OTHER_COUNTY_TOWNSHIP, leadHours: 6, periodStart: at(3), periodEnd: at(9), mm: 90, issuedAt: at(0) }]), { en: /row 1: .*530602100000/ }),
        'POST /api/rain/warnings': () => refused('red warning over another county\'s township', () =>
          countyCmd.send('POST', '/api/rain/warnings', [{ colour: 'red', areas: [OTHER_COUNTY_TOWNSHIP], issuedAt: at(0), validUntil: at(6) }])),
        'PUT /api/rain/config/:key': async () => {
          const { config } = await (await countyCmd.get('/api/rain/config')).json()
          const signals = config.find((r: { key: string }) => r.key === 'signals')
          await refused('county changes the rain rules', () =>
            countyCmd.send('PUT', '/api/rain/config/signals', { version: signals.version, value: { ...signals.value, blue: { mm: 10, hours: 12 } } }), { en: /city/ })
        },
        'PATCH /api/tasks/:id/items/:n': () => refused('task of B', () => townA.send('PATCH', `/api/tasks/${taskB.id}/items/1`, { done: true })),
        'PUT /api/checklists/:phase/:kind': async () => {
          const { templates } = await (await countyCmd.get('/api/checklists')).json()
          const t = templates.find((x: { phase: string; targetKind: string }) => x.phase === 'after' && x.targetKind === 'grid')
          await refused('county changes a checklist template', () =>
            countyCmd.send('PUT', '/api/checklists/after/grid', { version: t.version, titleZh: t.titleZh, titleEn: t.titleEn, items: [{ zh: '只查一项', en: 'One check' }] }), { en: /city/ })
        },
        'POST /api/analysis/:name/jobs': () => refused('analysis of B', () => townA.send('POST', `/api/analysis/worker_load/jobs?unit=${B}`, {})),
        'POST /api/import/households': () => refused('household placed in B', () =>
          townA.send('POST', '/api/import/households', { file: b64(`户主,人口,风险等级,经度,纬度\n越权,2,红,${gB.lon},${gB.lat}`), format: 'csv', crs: 'wgs84', dryRun: false }),
        { status: 400, code: 'import_invalid', en: /row 2: .*outside your area/ }),
        'POST /api/import/hazard_sites': () => refused('hazard site placed in B', () =>
          townA.send('POST', '/api/import/hazard_sites', { file: b64(`统一编号,名称,类型,规模,经度,纬度\n5306269999990,越权点,滑坡,小型,${gB.lon},${gB.lat}`), format: 'csv', crs: 'wgs84', dryRun: false }),
        { status: 400, code: 'import_invalid', en: /row 2: .*outside your area/ }),
        'POST /api/print': () => refused('print of B', () => townA.send('POST', '/api/print', { unit: B, format: 'png' })),
        'POST /api/evacuation/orders': () => refused('order for B', () =>
          townA.send('POST', '/api/evacuation/orders', { stage: 'everyone', trigger: { kind: 'manual' }, units: [B] })),
        'PATCH /api/evacuation/orders/:id/households/:hid': () => refused('transfer status in B', () =>
          townA.send('PATCH', `/api/evacuation/orders/${orderB.id}/households/${hB}`, { status: 'notified' })),
        'POST /api/evacuation/orders/:id/bulk': () => refused('a grid of B at once', () =>
          townA.send('POST', `/api/evacuation/orders/${orderB.id}/bulk`, { grid: gB.code, from: 'not_notified', status: 'notified' })),
        'POST /api/evacuation/orders/:id/close': () => refused('close B\'s order', () =>
          townA.send('POST', `/api/evacuation/orders/${orderB.id}/close`, { version: orderB.version })),
        'POST /api/reports': () => refused('a report placed in B', () =>
          townA.send('POST', '/api/reports', { type: 'other', urgency: 'normal', lng: gB.lon, lat: gB.lat })),
        'POST /api/reports/import': () => refused('a call log with a report placed in B', () =>
          townA.send('POST', '/api/reports/import', { file: b64(`类型,紧急程度,经度,纬度\n其他,一般,${gB.lon},${gB.lat}\n`), dryRun: false }),
        { status: 400, code: 'bad_rows' }),
        'POST /api/reports/:id/:action': async () => {
          const r = await townB.send('POST', '/api/reports', { type: 'road_cut', urgency: 'critical', lng: gB.lon, lat: gB.lat })
          expect(r.status, await r.clone().text()).toBe(201)
          const { id } = await r.json()
          await refused('acknowledge B\'s report', () => townA.send('POST', `/api/reports/${id}/acknowledge`, {}), { status: 404, code: 'not_found' })
        },
        // What a report starts (tests/db/report-links.test.ts): a report of B does not exist for A.
        'POST /api/reports/:id/propose-site': async () => {
          const r = await townB.send('POST', '/api/reports', { type: 'geohazard', urgency: 'urgent', lng: gB.lon, lat: gB.lat, note: '裂缝' })
          expect(r.status, await r.clone().text()).toBe(201)
          const { id } = await r.json()
          await refused('propose a site from B\'s report', () => townA.send('POST', `/api/reports/${id}/propose-site`, { type: '地裂缝' }), { status: 404, code: 'not_found' })
        },
        'POST /api/reports/:id/confirm-site': async () => {
          const r = await townB.send('POST', '/api/reports', { type: 'geohazard', urgency: 'urgent', lng: gB.lon, lat: gB.lat, note: '滑坡' })
          const { id } = await r.json()
          const p = await townB.send('POST', `/api/reports/${id}/propose-site`, { type: '滑坡' })
          expect(p.status, await p.clone().text()).toBe(201)
          await refused('confirm B\'s site from township A', () => townA.send('POST', `/api/reports/${id}/confirm-site`, {}), { status: 404, code: 'not_found' })
        },
        'POST /api/reports/:id/transfer': async () => {
          const r = await townB.send('POST', '/api/reports', { type: 'house_danger', urgency: 'urgent', lng: gB.lon, lat: gB.lat })
          const { id } = await r.json()
          await refused('a transfer from B\'s report', () => townA.send('POST', `/api/reports/${id}/transfer`, {}), { status: 404, code: 'not_found' })
        },
        'PUT /api/reports/rules': () => refused('a county changes the city\'s time limits', () =>
          countyCmd.send('PUT', '/api/reports/rules', { version: 1, ackMinutes: { normal: 60, urgent: 30, critical: 10 }, handleMinutes: { normal: 600, urgent: 300, critical: 100 } })),
        // The outbox answers per action: each one of B is refused, and nothing is written.
        'POST /api/field/sync': async () => {
          const before = await written()
          const now = new Date().toISOString()
          const r = await townA.send('POST', '/api/field/sync', { actions: [
            { id: randomUUID(), at: now, kind: 'visit', household: hB },
            { id: randomUUID(), at: now, kind: 'task.item', task: taskB.id, item: 1, done: true },
            { id: randomUUID(), at: now, kind: 'evac.status', order: orderB.id, household: hB, from: 'not_notified', status: 'notified' },
          ] })
          expect(r.status, 'field sync').toBe(200)
          for (const x of (await r.json()).results) expect(x, 'field sync').toMatchObject({ outcome: 'rejected', status: 403, error: { code: 'forbidden_scope' } })
          expect(await written(), 'field sync').toEqual(before)
        },
      }
      const scoped = Object.entries(writeRoutes).filter(([, rule]) => rule !== 'own' && !rule.startsWith('admin only')).map(([route]) => route)
      expect(Object.keys(probes).sort()).toEqual(scoped.sort())
      // Every probe runs, and the answer names each route that let the write through.
      const failed: string[] = []
      for (const route of scoped) await probes[route]().catch((e: Error) => failed.push(`${route}: ${e.message.split('\n')[0]}`))
      expect(failed).toEqual([])
    })

    it('keeps rain inside the county: warnings over several counties or outside it need the city', async () => {
      const warn = (who: Client, w: Record<string, unknown>) => who.send('POST', '/api/rain/warnings', [{ colour: 'red', issuedAt: at(0), validUntil: at(6), ...w }])
      await refused('county and another county', () => warn(countyCmd, { areas: [A, OTHER_COUNTY_TOWNSHIP] }), { en: /row 1: .*530602100000/ })
      const neighbour = await loginAs(s, 'commander', OTHER_COUNTY)
      await refused('the next county\'s commander over this county\'s township', () => warn(neighbour, { areas: [A] }))
      await refused('the next county\'s commander reads this county\'s gauge', () =>
        neighbour.send('POST', '/api/rain/readings', [{ station: 'IN1', hour: at(0), mm: 9 }]))
      await refused('the whole city', () => warn(countyCmd, { areas: [CITY] }))
      await refused('a polygon reaching out of the county', () => warn(countyCmd, { polygon: straddling }), { en: /polygon/ })
      await refused('a forecast for the city', () => countyCmd.send('POST', '/api/rain/forecasts',
        [{ area: CITY, leadHours: 12, periodStart: at(3), periodEnd: at(9), mm: 90, issuedAt: at(0) }]))
      // Inside the county: accepted.
      for (const w of [{ areas: [A] }, { polygon: square }]) {
        const r = await warn(countyCmd, w)
        expect(r.status, await r.clone().text()).toBe(200)
        expect((await r.json()).inserted).toBe(1)
      }
      const f = await countyCmd.send('POST', '/api/rain/forecasts', [{ area: A, leadHours: 6, periodStart: at(3), periodEnd: at(9), mm: 60, issuedAt: at(0) }])
      expect(f.status, await f.clone().text()).toBe(200)
      const r = await countyCmd.send('POST', '/api/rain/readings', [{ station: 'IN1', hour: at(0), mm: 4 }])
      expect(r.status, await r.clone().text()).toBe(200)
      expect((await r.json()).inserted).toBe(1)
      // The county re-sending the stations as they are writes nothing and is not refused (a replay sends them first).
      const same = await countyCmd.send('POST', '/api/rain/stations', [{ code: 'IN1', name: '县内站', ...inside }])
      expect(same.status, await same.clone().text()).toBe(200)
      expect(await same.json()).toMatchObject({ inserted: 0, updated: 0 })
      // Moving a station is the city's.
      await refused('county moves a station', () => countyCmd.send('POST', '/api/rain/stations', [{ code: 'IN1', name: '县内站', lon: inside.lon + 0.01, lat: inside.lat }]))
      // A city commander and an admin may warn across counties' units (here: the whole test county and the city).
      const city = await warn(cityCmd, { areas: [CITY] })
      expect(city.status, await city.clone().text()).toBe(200)
      const moved = await admin.send('POST', '/api/rain/stations', [{ code: 'OUT1', name: '县外站', lon: outside.lon, lat: outside.lat + 0.01 }])
      expect(moved.status, await moved.clone().text()).toBe(200)
      expect(await moved.json()).toMatchObject({ updated: 1 })
    })

    it('lets city command and admins own the rules and checklists, and says so in `may`', async () => {
      const may = async (c: Client) => (await (await c.get('/api/auth/me')).json()).may as string[]
      expect(await may(countyCmd)).not.toContain('task.manage')
      expect(await may(countyCmd)).toContain('rain.ingest')
      expect(await may(cityCmd)).toContain('task.manage')
      expect(await may(admin)).toContain('task.manage')
      expect(await may(countyAdmin)).not.toContain('task.manage')

      for (const who of [cityCmd, admin]) {
        const { config } = await (await who.get('/api/rain/config')).json()
        const ladder = config.find((r: { key: string }) => r.key === 'ladder')
        const put = await who.send('PUT', '/api/rain/config/ladder', { version: ladder.version, value: { ...ladder.value, heavyRainMm: 45 } })
        expect(put.status, await put.clone().text()).toBe(200)
        const back = await who.send('PUT', '/api/rain/config/ladder', { version: ladder.version + 1, value: ladder.value })
        expect(back.status).toBe(200)

        const { templates } = await (await who.get('/api/checklists')).json()
        const t = templates.find((x: { phase: string; targetKind: string }) => x.phase === 'during' && x.targetKind === 'hazard_site')
        const edit = { version: t.version, titleZh: t.titleZh, titleEn: t.titleEn, items: [...t.items, { zh: '拍照上报', en: 'Send a photo' }] }
        const r = await who.send('PUT', '/api/checklists/during/hazard_site', edit)
        expect(r.status, await r.clone().text()).toBe(200)
        expect((await who.send('PUT', '/api/checklists/during/hazard_site', { ...edit, items: t.items, version: t.version + 1 })).status).toBe(200)
      }
      // A township may not, whatever its area.
      const { config } = await (await townA.get('/api/rain/config')).json()
      await refused('township changes the rules', () => townA.send('PUT', '/api/rain/config/signals', { version: config[0].version, value: config[0].value }), { code: 'forbidden_role' })
    })

    it('gives city settings a non-admin owner: an admin makes a city commander; a county admin manages its county only', async () => {
      const made = await admin.send('POST', '/api/users', { username: 'citycommand', displayName: '市级指挥', role: 'commander', unitCode: CITY, password: 'Zhaotong-city-2026' })
      expect(made.status, await made.clone().text()).toBe(201)
      expect(await made.json()).toMatchObject({ role: 'commander', unitCode: CITY })
      // The county admin: an account of its county yes, and only its county's accounts listed.
      const local = await countyAdmin.send('POST', '/api/users', { username: 'townshiplocal', displayName: '乡镇干部', role: 'township', unitCode: A, password: 'Zhaotong-town-2026' })
      expect(local.status, await local.clone().text()).toBe(201)
      const acc = await local.json()
      await refused('county admin moves its account to the city', () =>
        countyAdmin.send('PATCH', `/api/users/${acc.id}`, { version: acc.version, role: 'commander', unitCode: CITY }))
      const list = (await (await countyAdmin.get('/api/users')).json()) as { unitCode: string }[]
      expect(list.length).toBeGreaterThan(0)
      expect(list.every((u) => u.unitCode.startsWith(county.slice(0, 6)))).toBe(true)
      expect(((await (await admin.get('/api/users')).json()) as { unitCode: string }[]).some((u) => u.unitCode === CITY)).toBe(true)
    })
  })
}
