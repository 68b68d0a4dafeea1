import { VectorTile } from '@mapbox/vector-tile'
import { PbfReader } from 'pbf'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tilesCovering } from '../../tiles/tile-math.ts'
import { startServer, type RunningServer } from '../../api/server.ts'
import { loginAs, type Client } from '../helpers/session.ts'
import { startApiProcess } from '../helpers/serve-process.ts'
import { openSse } from '../helpers/sse.ts'
import { playStorm, resetRain } from '../helpers/rain.ts'
import { buildStorm } from '../../data/storms/build.ts'
import { targets } from '../helpers/targets.ts'

/**
 * Transfer orders: who an order reaches (against direct SQL), shelters within
 * capacity, the status rules, concurrent writers, the live feed, and every
 * refusal leaving nothing written.
 */
for (const target of targets()) {
  describe(`evacuation on ${target.name}`, () => {
    let s: RunningServer
    let A: string, B: string, county: string
    let townA: Client, townB: Client, commander: Client, planner: Client, worker: Client, viewer: Client
    let sitesA: number[]
    let workerGrid: string

    const orderCount = async () => (await s.db.sql`SELECT count(*)::int AS n FROM evac_orders`)[0].n as number
    const rowsOf = (id: number) =>
      s.db.sql`SELECT household_id, status, people, shelter_id, route_id, members, vulnerable, grid_code, open FROM evac_households WHERE order_id = ${id}`

    beforeAll(async () => {
      // The 1262 test below plays July's storm and stops mid-way: the server's clock stays in that July night, or
      // the minute sweep would end the (months old) storm event under the test and nothing would be proposed.
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true, clock: () => new Date('2026-07-14T22:00:00+08:00') })
      const towns = await s.db.sql`
        SELECT t.code FROM admin_units t WHERE t.level = 'township'
          AND EXISTS (SELECT 1 FROM hazard_sites z WHERE z.admin_code LIKE left(t.code, 9) || '%' AND z.threatened_households > 0)
        ORDER BY t.code LIMIT 2`
      const all = await s.db.sql`SELECT code FROM admin_units WHERE level = 'township' ORDER BY code`
      A = towns[0].code as string
      B = (all.find((t) => t.code !== A)!.code) as string
      county = A.slice(0, 6) + '000000'
      sitesA = (await s.db.sql`SELECT id FROM hazard_sites WHERE admin_code LIKE ${A.slice(0, 9) + '%'} AND threatened_households > 0 ORDER BY id`).map((r) => r.id as number)
      const [wg] = await s.db.sql`
        SELECT g.code FROM hazard_threats t JOIN households h ON h.id = t.household_id JOIN grids g ON g.id = h.grid_id
        WHERE t.hazard_id = ${sitesA[0]} ORDER BY g.code LIMIT 1`
      workerGrid = wg.code as string
      ;[townA, townB, commander, planner, worker, viewer] = await Promise.all([
        loginAs(s, 'township', A), loginAs(s, 'township', B), loginAs(s, 'commander', county),
        loginAs(s, 'planner', county), loginAs(s, 'grid_worker', workerGrid), loginAs(s, 'viewer', county),
      ])
    })
    afterAll(async () => {
      await s.db.sql`DELETE FROM evac_orders`
      await s?.close()
    })

    /** Runs `attempt`, expects `status` with a zh+en message, and checks that no order or status changed. */
    async function refused(attempt: () => Promise<Response>, status: number, code?: string) {
      const before = [await orderCount(), await s.db.sql`SELECT order_id, household_id, status, version FROM evac_households ORDER BY 1, 2`]
      const r = await attempt()
      const body = await r.json()
      expect(r.status, JSON.stringify(body)).toBe(status)
      expect(body.error.zh).toBeTruthy()
      expect(body.error.en).toBeTruthy()
      if (code) expect(body.error.code).toBe(code)
      expect([await orderCount(), await s.db.sql`SELECT order_id, household_id, status, version FROM evac_households ORDER BY 1, 2`]).toEqual(before)
    }

    const issue = (c: Client, body: Record<string, unknown>) =>
      c.send('POST', '/api/evacuation/orders', { stage: 'everyone', trigger: { kind: 'manual' }, ...body })

    it('refuses bad orders and those who may not issue them, writing nothing', async () => {
      await refused(() => issue(townA, {}), 400, 'bad_input')
      await refused(() => issue(townA, { sites: sitesA, stage: 'all' }), 400, 'bad_input')
      await refused(() => issue(townA, { sites: sitesA, deadline: 2 }), 400, 'bad_input')
      await refused(() => issue(townA, { sites: sitesA, deadline: '2020-01-01T00:00:00+08:00' }), 400, 'bad_deadline')
      await refused(() => issue(townA, { sites: [2147483000] }), 400, 'no_households')
      await refused(() => issue(townA, { sites: sitesA, extra: 1 }), 400, 'bad_input')
      // A bow-tie is not a polygon; a square far away holds no household.
      const bowtie = { type: 'Polygon', coordinates: [[[103, 27], [103.1, 27.1], [103.1, 27], [103, 27.1], [103, 27]]] }
      await refused(() => issue(townA, { area: bowtie }), 400, 'bad_area')
      const nowhere = { type: 'Polygon', coordinates: [[[100, 20], [100.01, 20], [100.01, 20.01], [100, 20.01], [100, 20]]] }
      await refused(() => issue(townA, { area: nowhere }), 400, 'no_households')
      await refused(() => issue(townA, { units: [B] }), 403, 'forbidden_scope')
      await refused(() => issue(townB, { sites: sitesA }), 403, 'forbidden_scope')
      await refused(() => issue(worker, { sites: sitesA }), 403, 'forbidden_role')
      await refused(() => issue(planner, { sites: sitesA }), 403, 'forbidden_role')
      await refused(() => issue(viewer, { sites: sitesA }), 403, 'forbidden_role')
      await refused(() => townA.send('POST', '/api/evacuation/orders', { stage: 'everyone', trigger: { kind: 'manual' }, sites: sitesA }, { csrf: 'forged' }), 403, 'bad_csrf')
      await refused(() => fetch(`${s.url}/api/evacuation/orders`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' }), 401, 'not_logged_in')
      await s.db.sql`DELETE FROM evac_orders`
    })

    it('reaches exactly the households the sites threaten, vulnerable first, within shelter capacity', async () => {
      const expected = await s.db.sql`
        SELECT DISTINCT h.id, h.members, h.vulnerable FROM hazard_threats t JOIN households h ON h.id = t.household_id
        JOIN grids g ON g.id = h.grid_id WHERE t.hazard_id = ANY(${sitesA}::int[]) AND g.code LIKE ${A.slice(0, 9) + '%'}`
      const vulnerable = expected.filter((h) => (h.vulnerable as number) > 0)
      // A dry run says what would happen and writes nothing.
      const dry = await issue(townA, { sites: sitesA, stage: 'vulnerable', dryRun: true })
      expect(dry.status).toBe(200)
      const preview = await dry.json()
      expect(preview.order).toBeNull()
      expect(preview.summary.households).toBe(vulnerable.length)
      expect(await orderCount()).toBe(0)

      const r1 = await issue(townA, { sites: sitesA, stage: 'vulnerable', title: '6小时弱势群体先转' })
      expect(r1.status).toBe(201)
      const first = await r1.json()
      expect(first.summary).toEqual(preview.summary)
      const rows1 = await rowsOf(first.order.id)
      expect(rows1.map((r) => r.household_id).sort()).toEqual(vulnerable.map((h) => h.id).sort())
      expect(first.order.unitCode.startsWith(A.slice(0, 9))).toBe(true)

      // The 2 h step: everyone else; those already moving stay in their order. "The sites of township A" is the same set.
      const viaUnit = await (await issue(townA, { sitesIn: [A], stage: 'everyone', dryRun: true })).json()
      expect(viaUnit.summary.households + viaUnit.summary.alreadyInTransfer).toBe(expected.length)
      await refused(() => issue(townA, { sitesIn: [B] }), 403, 'forbidden_scope')
      const r2 = await issue(townA, { sites: sitesA, stage: 'everyone' })
      expect(r2.status).toBe(201)
      const second = await r2.json()
      expect(second.summary.alreadyInTransfer).toBe(vulnerable.length)
      expect(second.summary.households).toBe(expected.length - vulnerable.length)
      expect(second.summary.people).toBe(expected.filter((h) => !(h.vulnerable as number)).reduce((n, h) => n + (h.members as number), 0))
      // Nobody twice, and the same again is refused.
      await refused(() => issue(townA, { sites: sitesA }), 409, 'already_in_transfer')

      // Shelters: never over capacity; planned route's shelter when there is one; shortfall = no shelter.
      const over = await s.db.sql`
        SELECT s.id FROM shelters s JOIN evac_households e ON e.shelter_id = s.id AND e.open GROUP BY s.id HAVING sum(e.members) > s.capacity`
      expect(over).toEqual([])
      const rows2 = await rowsOf(second.order.id)
      expect(rows2.filter((r) => r.shelter_id == null).length).toBe(second.summary.shortfall.households)
      const planned = await s.db.sql`
        SELECT count(*)::int AS n FROM evac_households e JOIN routes r ON r.id = e.route_id
        WHERE e.order_id = ${second.order.id} AND r.shelter_id = e.shelter_id`
      expect(planned[0].n).toBe(second.summary.planned)
      const uncertified = await s.db.sql`
        SELECT count(*)::int AS n FROM evac_households e JOIN shelters x ON x.id = e.shelter_id WHERE NOT x.certified_safe`
      expect(uncertified[0].n).toBe(0)
    })

    it('moves households along the way, needs a reason to go back, and refuses conflicts and strangers', async () => {
      const [o] = await s.db.sql`SELECT id, version FROM evac_orders ORDER BY id LIMIT 1`
      const [h] = await s.db.sql`SELECT household_id AS id, members, grid_code FROM evac_households WHERE order_id = ${o.id} ORDER BY household_id LIMIT 1`
      const path = `/api/evacuation/orders/${o.id}/households/${h.id}`
      await refused(() => townA.send('PATCH', path, { status: 'flying' }), 400, 'bad_input')
      await refused(() => townA.send('PATCH', path, { status: 'notified', from: 'moving' }), 409, 'status_conflict')
      await refused(() => townA.send('PATCH', `/api/evacuation/orders/${o.id}/households/2147483000`, { status: 'notified' }), 404, 'not_found')
      await refused(() => townA.send('PATCH', `/api/evacuation/orders/2147483000/households/${h.id}`, { status: 'notified' }), 404, 'not_found')
      await refused(() => townB.send('PATCH', path, { status: 'notified' }), 403, 'forbidden_scope')
      await refused(() => planner.send('PATCH', path, { status: 'notified' }), 403, 'forbidden_role')
      await refused(() => townA.send('PATCH', path, { status: 'not_notified' }), 409, 'same_status')
      await refused(() => townA.send('PATCH', path, { status: 'notified', people: 3 }), 400, 'people_only_at_shelter')
      await refused(() => townA.send('PATCH', path, { status: 'returned' }), 400, 'reason_required')

      for (const status of ['notified', 'moving', 'at_shelter'] as const) {
        const r = await townA.send('PATCH', path, { status })
        expect(r.status).toBe(200)
      }
      expect((await s.db.sql`SELECT people FROM evac_households WHERE order_id = ${o.id} AND household_id = ${h.id}`)[0].people).toBe(h.members)
      await refused(() => townA.send('PATCH', path, { status: 'moving' }), 400, 'reason_required')
      expect((await townA.send('PATCH', path, { status: 'moving', reason: '回家取药' })).status).toBe(200)
      expect((await townA.send('PATCH', path, { status: 'at_shelter', people: 2 })).status).toBe(200)
      const log = await s.db.sql`SELECT from_status, to_status, people, reason, actor_id FROM evac_status_log WHERE order_id = ${o.id} AND household_id = ${h.id} ORDER BY id`
      expect(log.map((l) => `${l.from_status}>${l.to_status}`)).toEqual([
        'not_notified>notified', 'notified>moving', 'moving>at_shelter', 'at_shelter>moving', 'moving>at_shelter'])
      expect(log[3].reason).toBe('回家取药')
      expect(log[4].people).toBe(2)
      expect(log.every((l) => l.actor_id === townA.userId)).toBe(true)
    })

    it('a grid worker moves households of their own grid only, one at a time or the whole grid at once', async () => {
      const [o] = await s.db.sql`SELECT e.order_id AS id FROM evac_households e WHERE e.grid_code = ${workerGrid} AND e.status = 'not_notified' ORDER BY 1 LIMIT 1`
      const mine = await s.db.sql`SELECT household_id FROM evac_households WHERE order_id = ${o.id} AND grid_code = ${workerGrid} AND status = 'not_notified'`
      const [other] = await s.db.sql`SELECT household_id, grid_code FROM evac_households WHERE order_id = ${o.id} AND grid_code <> ${workerGrid} AND status = 'not_notified' LIMIT 1`
      if (other) await refused(() => worker.send('PATCH', `/api/evacuation/orders/${o.id}/households/${other.household_id}`, { status: 'notified' }), 403, 'forbidden_scope')
      if (other) await refused(() => worker.send('POST', `/api/evacuation/orders/${o.id}/bulk`, { grid: other.grid_code, from: 'not_notified', status: 'notified' }), 403, 'forbidden_scope')
      await refused(() => worker.send('POST', `/api/evacuation/orders/${o.id}/bulk`, { grid: workerGrid, from: 'moving', status: 'notified' }), 400, 'reason_required')
      const r = await worker.send('POST', `/api/evacuation/orders/${o.id}/bulk`, { grid: workerGrid, from: 'not_notified', status: 'notified' })
      expect(r.status).toBe(200)
      expect((await r.json()).households).toBe(mine.length)
      const after = await s.db.sql`SELECT status, count(*)::int AS n FROM evac_households WHERE order_id = ${o.id} AND grid_code = ${workerGrid} AND household_id = ANY(${mine.map((m) => m.household_id as number)}::int[]) GROUP BY status`
      expect(after).toEqual([{ status: 'notified', n: mine.length }])
      await refused(() => worker.send('POST', `/api/evacuation/orders/${o.id}/bulk`, { grid: workerGrid, from: 'not_notified', status: 'notified' }), 409, 'nothing_to_change')
    })

    it('50 concurrent writers lose no update; on one household exactly one wins', async () => {
      const [o] = await s.db.sql`SELECT id FROM evac_orders ORDER BY id DESC LIMIT 1`
      const hs = (await s.db.sql`SELECT household_id AS id FROM evac_households WHERE order_id = ${o.id} AND status = 'not_notified' ORDER BY household_id LIMIT 50`).map((r) => r.id as number)
      expect(hs.length).toBeGreaterThan(5)
      const logBefore = (await s.db.sql`SELECT count(*)::int AS n FROM evac_status_log`)[0].n as number
      const results = await Promise.all(hs.map((id) => commander.send('PATCH', `/api/evacuation/orders/${o.id}/households/${id}`, { status: 'notified', from: 'not_notified' })))
      expect(results.map((r) => r.status)).toEqual(hs.map(() => 200))
      const [{ n }] = await s.db.sql`SELECT count(*)::int AS n FROM evac_households WHERE order_id = ${o.id} AND household_id = ANY(${hs}::int[]) AND status = 'notified'`
      expect(n).toBe(hs.length)
      expect((await s.db.sql`SELECT count(*)::int AS n FROM evac_status_log`)[0].n).toBe(logBefore + hs.length)

      const races = await Promise.all(Array.from({ length: 50 }, () =>
        commander.send('PATCH', `/api/evacuation/orders/${o.id}/households/${hs[0]}`, { status: 'moving', from: 'notified' })))
      const codes = races.map((r) => r.status).sort()
      expect(codes.filter((c) => c === 200).length).toBe(1)
      expect(codes.filter((c) => c === 409).length).toBe(49)
      expect((await s.db.sql`SELECT count(*)::int AS n FROM evac_status_log WHERE household_id = ${hs[0]} AND to_status = 'moving'`)[0].n).toBe(1)
    })

    it('progress and roll-ups match direct counts; names are masked for the planner', async () => {
      const [o] = await s.db.sql`SELECT id FROM evac_orders ORDER BY id DESC LIMIT 1`
      const r = await commander.get(`/api/evacuation/orders/${o.id}`)
      expect(r.status).toBe(200)
      const p = await r.json()
      const direct = await s.db.sql`SELECT status, count(*)::int AS n, sum(members)::int AS people FROM evac_households WHERE order_id = ${o.id} GROUP BY status`
      for (const d of direct) expect(p.totals[d.status as string]).toMatchObject({ households: d.n, people: d.people })
      const [v] = await s.db.sql`SELECT coalesce(sum(vulnerable) FILTER (WHERE status NOT IN ('at_shelter', 'returned')), 0)::int AS v FROM evac_households WHERE order_id = ${o.id}`
      expect(p.vulnerableNotSafe).toBe(v.v)
      expect(p.children.reduce((n: number, c: { households: number }) => n + c.households, 0)).toBe(direct.reduce((n, d) => n + (d.n as number), 0))
      for (const sh of p.shelters) expect(sh.assignedAllOrders).toBeLessThanOrEqual(sh.capacity)

      const list = await (await planner.get(`/api/evacuation/orders/${o.id}/households?limit=5`)).json()
      expect(list.households.length).toBeGreaterThan(0)
      for (const h of list.households) {
        expect(h.masked).toBe(true)
        expect(h.householder).toMatch(/^.\*+$/u)
      }
      const mine = await (await commander.get(`/api/evacuation/orders/${o.id}/households?limit=5`)).json()
      const [real] = await s.db.sql`SELECT householder FROM households WHERE id = ${mine.households[0].id}`
      expect(mine.households[0].householder).toBe(real.householder)
      expect((await commander.get(`/api/evacuation/orders/${o.id}/households?limit=5000`)).status).toBe(400)
      expect((await commander.get(`/api/evacuation/orders/${o.id}/households?status=flying`)).status).toBe(400)
      expect((await townB.get(`/api/evacuation/orders/${o.id}`)).status).toBe(403)
      expect((await commander.get(`/api/evacuation/orders/abc`)).status).toBe(400)

      const cards = await (await commander.get(`/api/evacuation/orders/${o.id}/cards`)).json()
      expect(cards.lists.reduce((n: number, l: { households: unknown[] }) => n + l.households.length, 0)).toBe(cards.total)
    })

    it('every screen hears a change on /api/events, and a reconnect with Last-Event-ID misses nothing', async () => {
      const [o] = await s.db.sql`SELECT order_id AS id FROM evac_households WHERE status = 'not_notified' AND grid_code LIKE ${A.slice(0, 9) + '%'}
                                 GROUP BY order_id HAVING count(*) >= 3 ORDER BY order_id LIMIT 1`
      const hs = (await s.db.sql`SELECT household_id AS id FROM evac_households WHERE order_id = ${o.id} AND status = 'not_notified' ORDER BY household_id LIMIT 3`).map((r) => r.id as number)
      const wall = await openSse(`${s.url}/api/events`, { Cookie: viewer.cookie })
      const outsider = await openSse(`${s.url}/api/events`, { Cookie: townB.cookie })
      expect(wall.status).toBe(200)
      await wall.waitFor((m) => m.event === 'hello')
      await outsider.waitFor((m) => m.event === 'hello')
      expect((await townA.send('PATCH', `/api/evacuation/orders/${o.id}/households/${hs[0]}`, { status: 'notified' })).status).toBe(200)
      const first = await wall.waitFor((m) => m.event === 'evac.status' && JSON.parse(m.data).households.includes(hs[0]))
      expect(JSON.parse(first.data)).toMatchObject({ orderId: o.id, status: 'notified', from: 'not_notified' })
      wall.close()
      // While the wall is away, two more changes.
      for (const id of hs.slice(1)) expect((await townA.send('PATCH', `/api/evacuation/orders/${o.id}/households/${id}`, { status: 'notified' })).status).toBe(200)
      const back = await openSse(`${s.url}/api/events`, { Cookie: viewer.cookie, 'Last-Event-ID': first.id! })
      for (const id of hs.slice(1)) await back.waitFor((m) => m.event === 'evac.status' && JSON.parse(m.data).households.includes(id))
      const ids = back.messages.filter((m) => m.id).map((m) => Number(m.id))
      expect(ids).toEqual([...ids].sort((a, b) => a - b))
      expect(ids[0]).toBeGreaterThan(Number(first.id))
      back.close()
      // Township B's staff hear nothing of township A.
      expect(outsider.messages.filter((m) => m.event === 'evac.status')).toEqual([])
      outsider.close()
      expect((await fetch(`${s.url}/api/events`)).status).toBe(401)
      expect((await viewer.fetch('/api/events', { headers: { 'Last-Event-ID': 'x1' } })).status).toBe(400)
    })

    it('evacuation tiles follow each status change (households by status, shelters filling)', async () => {
      const [e] = await s.db.sql`
        SELECT e.order_id, e.household_id, e.shelter_id, e.members, ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat, ST_X(x.geom) AS slon, ST_Y(x.geom) AS slat
        FROM evac_households e JOIN households h ON h.id = e.household_id JOIN shelters x ON x.id = e.shelter_id
        JOIN evac_orders o ON o.id = e.order_id
        WHERE e.open AND e.status = 'notified' AND o.status = 'active' AND e.grid_code LIKE ${A.slice(0, 9) + '%'} ORDER BY e.household_id LIMIT 1`
      const feature = async (layer: string, lon: number, lat: number, id: number) => {
        const [t] = tilesCovering([lon, lat, lon, lat], 14)
        const r = await commander.get(`/tiles/evac/14/${t.x}/${t.y}.mvt`)
        expect(r.status).toBe(200)
        const tile = new VectorTile(new PbfReader(new Uint8Array(await r.arrayBuffer())))
        const l = tile.layers[layer]
        for (let i = 0; l && i < l.length; i++) if (l.feature(i).properties.id === id) return l.feature(i).properties
        return undefined
      }
      expect(await feature('evac_households', e.lon, e.lat, e.household_id)).toMatchObject({ status: 'notified', order_id: e.order_id })
      const before = await feature('evac_shelters', e.slon, e.slat, e.shelter_id)
      // As a map does: on the live event, ask for the tile again. The tile notice of the same commit came first.
      const feed = await openSse(`${s.url}/api/events`, { Cookie: commander.cookie })
      await feed.waitFor((m) => m.event === 'hello')
      for (const status of ['moving', 'at_shelter']) {
        expect((await townA.send('PATCH', `/api/evacuation/orders/${e.order_id}/households/${e.household_id}`, { status })).status).toBe(200)
        await feed.waitFor((m) => m.event === 'evac.status' && JSON.parse(m.data).status === status)
        expect(await feature('evac_households', e.lon, e.lat, e.household_id)).toMatchObject({ status })
      }
      feed.close()
      const after = await feature('evac_shelters', e.slon, e.slat, e.shelter_id)
      expect(after!.present).toBe((before!.present as number) + e.members)
    })

    it('the household transfer card and the site plan answer when, who and how', async () => {
      const [e] = await s.db.sql`SELECT household_id, hazard_id FROM evac_households WHERE hazard_id IS NOT NULL ORDER BY household_id LIMIT 1`
      const card = await (await townA.get(`/api/households/${e.household_id}/card`)).json()
      expect(card.transfer).toMatchObject({ status: expect.any(String) })
      expect(card.hazards.map((h: { id: number }) => h.id)).toContain(e.hazard_id)
      expect(card.masked).toBe(false)
      expect((await planner.get(`/api/households/${e.household_id}/card`).then((r) => r.json())).masked).toBe(true)
      const plan = await (await townA.get(`/api/hazards/${e.hazard_id}/plan`)).json()
      expect(Object.keys(plan.fixed).sort()).toEqual(['monitor', 'official', 'reporter', 'route', 'shelter', 'warningSignal'])
      expect((await townA.get('/api/hazards/2147483000/plan')).status).toBe(404)
    })

    it('closing an order ends its transfers; statuses then stay as they were', async () => {
      const [o] = await s.db.sql`SELECT id, version FROM evac_orders ORDER BY id DESC LIMIT 1`
      await refused(() => townA.send('POST', `/api/evacuation/orders/${o.id}/close`, { version: (o.version as number) + 5 }), 409, 'version_conflict')
      await refused(() => worker.send('POST', `/api/evacuation/orders/${o.id}/close`, { version: o.version }), 403, 'forbidden_role')
      const r = await townA.send('POST', `/api/evacuation/orders/${o.id}/close`, { version: o.version })
      expect(r.status).toBe(200)
      expect((await s.db.sql`SELECT count(*)::int AS n FROM evac_households WHERE order_id = ${o.id} AND open`)[0].n).toBe(0)
      const [h] = await s.db.sql`SELECT household_id FROM evac_households WHERE order_id = ${o.id} LIMIT 1`
      await refused(() => townA.send('PATCH', `/api/evacuation/orders/${o.id}/households/${h.household_id}`, { status: 'unreachable', reason: '测试' }), 409, 'order_closed')
      const audit = await s.db.sql`SELECT action FROM audit_log WHERE table_name = 'evac_orders' AND row_id = ${String(o.id)} ORDER BY id`
      expect(audit.map((a) => a.action)).toEqual(['insert', 'update'])
    })

    it('the 1262 ladder proposes orders for its 6 h and 2 h steps; a confirmed one is proposed no more', async () => {
      await resetRain(s.db.sql)
      await s.db.sql`DELETE FROM evac_orders`
      try {
        const storm = await buildStorm(s.db.sql, { county: county.slice(0, 6), seed: 5, spacingKm: 5 })
        // Stop mid-storm, once a township step has opened: after the rain the event closes and nothing is proposed any more.
        await playStorm(s.db.sql, storm, { stopWhen: async () => (await s.db.sql`SELECT 1 FROM tasks WHERE step IN ('6h', '2h') LIMIT 1`).length > 0 })
        const steps = await s.db.sql`
          SELECT DISTINCT t.event_id, t.step, left(t.unit_code, 9) || '000' AS township FROM tasks t
          WHERE t.phase = 'before' AND t.step IN ('6h', '2h')
            AND EXISTS (SELECT 1 FROM hazard_sites z WHERE z.admin_code LIKE left(t.unit_code, 9) || '%' AND z.threatened_households > 0)`
        const r = await commander.get('/api/evacuation/proposals')
        expect(r.status).toBe(200)
        const { proposals } = await r.json()
        const key = (p: { eventId?: number; event_id?: number; step: string; township: string }) => `${p.eventId ?? p.event_id}/${p.step}/${p.township}`
        expect(proposals.map(key).sort()).toEqual(steps.map((x) => key(x as never)).sort())
        expect(proposals.length).toBeGreaterThan(0)
        // 2 h, or a 6 h step at night that already took households without vulnerable people: everyone; else the vulnerable first.
        const night = await s.db.sql`
          SELECT DISTINCT t.event_id, left(t.unit_code, 9) || '000' AS township FROM tasks t JOIN households h ON h.id = t.target_id
          WHERE t.step = '6h' AND t.target_kind = 'household' AND h.vulnerable = 0`
        const everyone6h = new Set(night.map((n) => `${n.event_id}/${n.township}`))
        for (const p of proposals) {
          expect(p.stage, key(p)).toBe(p.step === '2h' || everyone6h.has(`${p.eventId}/${p.township}`) ? 'everyone' : 'vulnerable')
        }
        const p = proposals[0]
        const ok = await commander.send('POST', '/api/evacuation/orders', {
          stage: p.stage, sites: p.sites, trigger: { kind: 'forecast', ref: { eventId: p.eventId, step: p.step, township: p.township } } })
        expect([201, 409]).toContain(ok.status)
        if (ok.status === 201) {
          const again = (await (await commander.get('/api/evacuation/proposals')).json()).proposals
          expect(again.map(key)).not.toContain(key(p))
        }
        // Another township's staff are not shown this county's other townships.
        const theirs = (await (await townB.get('/api/evacuation/proposals')).json()).proposals
        for (const x of theirs) expect(x.township.slice(0, 9)).toBe(B.slice(0, 9))
      } finally {
        await resetRain(s.db.sql)
        await s.db.sql`DELETE FROM evac_orders`
      }
    })
  })
}

/** Two API processes on one PostGIS: a change made through either is heard, and its tiles refreshed, on both. */
const postgis = targets().find((t) => t.name === 'postgis')
describe.runIf(postgis)('evacuation with two API processes on one PostGIS', () => {
  let one: RunningServer
  let two: { url: string; stop(): Promise<void> }
  let town: string
  beforeAll(async () => {
    one = await startServer({ port: 0, databaseUrl: postgis!.url, seedScale: false, quiet: true })
    two = await startApiProcess(postgis!.url)
    const [t] = await one.db.sql`
      SELECT left(z.admin_code, 9) || '000' AS code FROM hazard_sites z WHERE z.threatened_households > 0 ORDER BY z.id LIMIT 1`
    town = t.code as string
  })
  afterAll(async () => {
    await one.db.sql`DELETE FROM evac_orders`
    await two?.stop()
    await one?.close()
  })

  it('a status set through one process reaches a live client of the other, and its tiles there', async () => {
    const staff = await loginAs(one, 'township', town)
    // The same account's session works on both processes: sessions live in the database.
    const viaTwo = { ...staff, get: (p: string) => fetch(two.url + p, { headers: { Cookie: staff.cookie } }) }
    const sites = (await one.db.sql`SELECT id FROM hazard_sites WHERE admin_code LIKE ${town.slice(0, 9) + '%'} AND threatened_households > 0`).map((r) => r.id as number)
    const r = await staff.send('POST', '/api/evacuation/orders', { stage: 'everyone', trigger: { kind: 'manual' }, sites })
    expect(r.status).toBe(201)
    const { order } = await r.json()
    const [h] = await one.db.sql`SELECT e.household_id AS id, ST_X(x.geom) AS lon, ST_Y(x.geom) AS lat FROM evac_households e
                                 JOIN households x ON x.id = e.household_id WHERE e.order_id = ${order.id} ORDER BY 1 LIMIT 1`
    const [t] = tilesCovering([h.lon, h.lat, h.lon, h.lat], 14)
    const statusOnTwo = async () => {
      const tile = new VectorTile(new PbfReader(new Uint8Array(await (await viaTwo.get(`/tiles/evac/14/${t.x}/${t.y}.mvt`)).arrayBuffer())))
      const l = tile.layers.evac_households
      for (let i = 0; l && i < l.length; i++) if (l.feature(i).properties.id === h.id) return l.feature(i).properties.status
    }
    expect(await statusOnTwo()).toBe('not_notified') // now cached in process two
    const feed = await openSse(`${two.url}/api/events`, { Cookie: staff.cookie })
    await feed.waitFor((m) => m.event === 'hello')
    expect((await staff.send('PATCH', `/api/evacuation/orders/${order.id}/households/${h.id}`, { status: 'notified' })).status).toBe(200)
    const m = await feed.waitFor((x) => x.event === 'evac.status' && JSON.parse(x.data).households.includes(h.id))
    expect(JSON.parse(m.data).status).toBe('notified')
    expect(await statusOnTwo()).toBe('notified')
    // And back: a write through process two is heard by a client of process one.
    const feedOne = await openSse(`${one.url}/api/events`, { Cookie: staff.cookie })
    await feedOne.waitFor((x) => x.event === 'hello')
    const w = await fetch(`${two.url}/api/evacuation/orders/${order.id}/households/${h.id}`, {
      method: 'PATCH', headers: { 'Content-Type': 'application/json', Cookie: staff.cookie, 'X-CSRF-Token': staff.csrfToken },
      body: JSON.stringify({ status: 'moving' }),
    })
    expect(w.status).toBe(200)
    const back = await feedOne.waitFor((x) => x.event === 'evac.status' && JSON.parse(x.data).status === 'moving')
    expect(Number(back.id)).toBeGreaterThan(Number(m.id))
    feed.close()
    feedOne.close()
  })
})
