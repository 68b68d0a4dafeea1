import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deadline, defaultRules, type Clocked } from '../../core/rules/escalation.ts'
import { startServer, type RunningServer } from '../../api/server.ts'
import { testClock } from '../helpers/clock.ts'
import { loginAs, type Client } from '../helpers/session.ts'
import { targets } from '../helpers/targets.ts'

const t0 = Date.parse('2026-07-15T10:00:00+08:00')

interface Detail {
  state: string
  site: { id: number; code: string; name: string; type: string; status: string; proposed: boolean } | null
  orders: { id: number; title: string; status: string }[]
  offers: { proposeSite: boolean; confirmSite: boolean; transfer: boolean }
  steps: { action: string; toState: string; toLevel: string; reason: string | null }[]
}

/**
 * Issue #20: what a report can start. A report of a crack proposes a hazard
 * site for the register (not on the map until the county confirms it); a
 * report of people in danger starts a transfer order of its grid that names
 * it. Each refused for the wrong role, outside the area, on bad input, for a
 * report that does not exist or does not qualify, and twice; nothing half-written.
 */
for (const target of targets()) {
  describe(`what a report starts, on ${target.name}`, () => {
    let s: RunningServer
    const clock = testClock(t0)
    let grid: { code: string; lng: number; lat: number }
    let worker: Client
    let township: Client
    let otherTownship: Client
    let county: Client
    let planner: Client
    let admin: Client
    const reportIds: number[] = []

    const file = async (type: string, note = '', urgency = 'urgent') => {
      const r = await worker.send('POST', '/api/reports', { lng: grid.lng, lat: grid.lat, type, urgency, note })
      expect(r.status, await r.clone().text()).toBe(201)
      const { id } = (await r.json()) as { id: number }
      reportIds.push(id)
      return id
    }
    const detail = async (c: Client, id: number) => {
      const r = await c.get(`/api/reports/${id}`)
      expect(r.status, await r.clone().text()).toBe(200)
      return (await r.json()) as Detail
    }
    const refused = async (res: Promise<Response>, status: number, code: string) => {
      const r = await res
      const body = (await r.json()) as { error: { code: string; message: { zh: string; en: string } } | string; code?: string }
      expect(r.status, JSON.stringify(body)).toBe(status)
      expect(JSON.stringify(body)).toContain(code)
    }
    const written = async () => {
      const [n] = await s.db.sql`SELECT (SELECT count(*) FROM hazard_sites)::int AS sites, (SELECT count(*) FROM report_steps)::int AS steps,
                                        (SELECT count(*) FROM evac_orders)::int AS orders, (SELECT count(*) FROM evac_households)::int AS transfers`
      return n
    }
    const townshipSites = async () => {
      const [r] = await s.db.sql<{ sites: number }[]>`
        SELECT coalesce((SELECT r.sites FROM hazard_rollups r JOIN admin_units a ON a.id = r.unit_id AND r.level = 'township' WHERE a.code = ${`${grid.code.slice(0, 9)}000`}), 0)::int AS sites`
      return r.sites
    }

    beforeAll(async () => {
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true, clock, reportSweepEveryMs: 3600_000 })
      // A grid with households to move, and a township other than its own.
      ;[grid] = await s.db.sql<{ code: string; lng: number; lat: number }[]>`
        SELECT code, ST_X(p) AS lng, ST_Y(p) AS lat FROM (
          SELECT g.code, ST_PointOnSurface(g.geom) AS p FROM grids g
          WHERE g.kind = 'basic' AND (SELECT count(*) FROM households h WHERE h.grid_id = g.id) >= 2 ORDER BY g.code LIMIT 1) x`
      const [o] = await s.db.sql<{ code: string }[]>`
        SELECT code FROM admin_units WHERE level = 'township' AND code <> ${`${grid.code.slice(0, 9)}000`} ORDER BY code LIMIT 1`
      worker = await loginAs(s, 'grid_worker', grid.code)
      township = await loginAs(s, 'township', `${grid.code.slice(0, 9)}000`)
      otherTownship = await loginAs(s, 'township', o.code)
      county = await loginAs(s, 'commander', `${grid.code.slice(0, 6)}000000`)
      planner = await loginAs(s, 'planner', `${grid.code.slice(0, 6)}000000`)
      admin = await loginAs(s, 'admin', `${grid.code.slice(0, 4)}00000000`)
    })
    afterAll(async () => {
      if (s) {
        await s.db.sql`DELETE FROM evac_orders WHERE trigger_kind = 'report' AND (trigger_ref ->> 'reportId')::int = ANY(${reportIds}::int[])`
        const sites = await s.db.sql<{ id: number }[]>`SELECT id FROM hazard_sites WHERE proposed_from = ANY(${reportIds}::int[])`
        await s.db.sql`DELETE FROM reports WHERE id = ANY(${reportIds}::int[])`
        await s.db.sql`DELETE FROM hazard_sites WHERE id = ANY(${sites.map((x) => x.id)}::int[])`
        await s.db.sql`UPDATE report_config SET value = NULL WHERE key = 'rules'`
      }
      await s?.close()
    })

    it('proposes a hazard site from a report of a crack: in the register, not on the map until the county confirms it', async () => {
      const id = await file('geohazard', '屋后山体出现裂缝，约二十米长')
      const rollupBefore = await townshipSites()
      let d = await detail(township, id)
      expect(d.offers).toMatchObject({ proposeSite: true, confirmSite: false })
      expect((await detail(worker, id)).offers.proposeSite).toBe(false)

      const r = await township.send('POST', `/api/reports/${id}/propose-site`, { type: '地裂缝' })
      expect(r.status, await r.clone().text()).toBe(201)
      const { site } = (await r.json()) as { site: { id: number; code: string; status: string } }
      expect(site.status).toBe('proposed')
      const [row] = await s.db.sql`
        SELECT h.status, h.type, h.admin_code, h.note, h.proposed_from, ST_Equals(h.geom, r.geom) AS same_place, r.hazard_site_id
        FROM hazard_sites h JOIN reports r ON r.id = ${id} WHERE h.id = ${site.id}`
      expect(row).toMatchObject({ status: 'proposed', type: '地裂缝', admin_code: grid.code.slice(0, 12), note: '屋后山体出现裂缝，约二十米长',
        proposed_from: id, same_place: true, hazard_site_id: site.id })
      // Audited as the township officer's change, in the same transaction.
      const [audit] = await s.db.sql`SELECT actor, action FROM audit_log WHERE table_name = 'hazard_sites' AND row_id = ${String(site.id)} ORDER BY id LIMIT 1`
      expect(audit).toMatchObject({ actor: township.username, action: 'insert' })
      // Not active: no roll-up counts it, so no map band draws it, and the rain watch leaves it out.
      expect(await townshipSites()).toBe(rollupBefore)

      d = await detail(township, id)
      expect(d.site).toMatchObject({ id: site.id, status: 'proposed', proposed: true })
      expect(d.offers.proposeSite).toBe(false)
      expect(d.steps.at(-1)).toMatchObject({ action: 'propose_site', toState: 'reported' })
      expect((await detail(county, id)).offers.confirmSite).toBe(true)

      // Twice: refused, nothing written.
      const before = await written()
      await refused(township.send('POST', `/api/reports/${id}/propose-site`, { type: '滑坡' }), 409, 'already_linked')
      // A township does not confirm; the county does.
      await refused(township.send('POST', `/api/reports/${id}/confirm-site`, {}), 403, 'county_confirms')
      expect(await written()).toEqual(before)

      const c = await county.send('POST', `/api/reports/${id}/confirm-site`, {})
      expect(c.status, await c.clone().text()).toBe(200)
      expect((await s.db.sql`SELECT status FROM hazard_sites WHERE id = ${site.id}`)[0].status).toBe('active')
      expect(await townshipSites()).toBe(rollupBefore + 1)
      d = await detail(county, id)
      expect(d.site?.status).toBe('active')
      expect(d.offers.confirmSite).toBe(false)
      expect(d.steps.map((x) => x.action)).toEqual(['filed', 'propose_site', 'confirm_site'])
      await refused(county.send('POST', `/api/reports/${id}/confirm-site`, {}), 409, 'site_not_proposed')
    })

    it('refuses a site proposal for the wrong role, outside the area, on bad input, for no report or the wrong kind', async () => {
      const id = await file('geohazard', '路边滑坡')
      const road = await file('road_cut', '道路中断')
      const before = await written()
      const propose = (c: Client, rid: number, body: unknown) => c.send('POST', `/api/reports/${rid}/propose-site`, body)
      await refused(propose(worker, id, { type: '滑坡' }), 403, 'forbidden_role')
      await refused(propose(planner, id, { type: '滑坡' }), 403, 'forbidden_role')
      await refused(propose(otherTownship, id, { type: '滑坡' }), 404, 'not_found')
      await refused(propose(township, id, { type: '裂了' }), 400, 'bad_input')
      await refused(propose(township, id, { type: '滑坡', name: '后山\u0007滑坡' }), 400, 'control_character')
      await refused(propose(township, id, { type: '滑坡', status: 'active' }), 400, 'bad_input')
      await refused(propose(township, 2147483000, { type: '滑坡' }), 404, 'not_found')
      await refused(propose(township, road, { type: '滑坡' }), 409, 'not_a_site_report')
      expect((await detail(township, road)).offers.proposeSite).toBe(false)
      expect(await written()).toEqual(before)
    })

    it('starts a transfer order of the report’s grid from a report of people in danger; the order names the report', async () => {
      const id = await file('house_danger', '房屋墙体开裂，住户仍在屋内')
      let d = await detail(township, id)
      expect(d.offers.transfer).toBe(true)
      expect((await detail(worker, id)).offers.transfer).toBe(false)
      const before = await written()
      const preview = await township.send('POST', `/api/reports/${id}/transfer`, { stage: 'everyone', dryRun: true })
      expect(preview.status, await preview.clone().text()).toBe(200)
      const p = (await preview.json()) as { order: null; summary: { households: number } }
      expect(p.order).toBeNull()
      const [hh] = await s.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM households h JOIN grids g ON g.id = h.grid_id WHERE g.code = ${grid.code}`
      expect(p.summary.households).toBe(hh.n)
      expect(await written()).toEqual(before)

      const r = await township.send('POST', `/api/reports/${id}/transfer`, { stage: 'everyone', deadline: 60 })
      expect(r.status, await r.clone().text()).toBe(201)
      const { order, summary } = (await r.json()) as { order: { id: number; triggerKind: string; title: string }; summary: { households: number } }
      expect(order.triggerKind).toBe('report')
      expect(summary.households).toBe(hh.n)
      const [o] = await s.db.sql`SELECT trigger_ref ->> 'reportId' AS report, unit_code FROM evac_orders WHERE id = ${order.id}`
      expect(Number(o.report)).toBe(id)
      const [moved] = await s.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM evac_households WHERE order_id = ${order.id} AND grid_code = ${grid.code}`
      expect(moved.n).toBe(hh.n)

      d = await detail(township, id)
      expect(d.orders).toEqual([expect.objectContaining({ id: order.id, status: 'active' })])
      expect(d.offers.transfer).toBe(false)
      expect(d.steps.at(-1)).toMatchObject({ action: 'transfer', toState: 'reported' })
      expect(d.steps.at(-1)?.reason).toContain(String(order.id))
      const after = await written()
      await refused(township.send('POST', `/api/reports/${id}/transfer`, { stage: 'everyone' }), 409, 'already_ordered')
      expect(await written()).toEqual(after)
    })

    it('refuses a transfer for the wrong role, outside the area, on bad input, for no report, the wrong kind or a closed report', async () => {
      const id = await file('flash_flood', '河水上涨，漫过村道')
      const road = await file('road_cut')
      const done = await file('refuses_transfer', '一户拒不转移', 'critical')
      await s.db.sql`UPDATE reports SET state = 'closed', due_at = NULL WHERE id = ${done}`
      const before = await written()
      const transfer = (c: Client, rid: number, body: unknown) => c.send('POST', `/api/reports/${rid}/transfer`, body)
      await refused(transfer(worker, id, {}), 403, 'forbidden_role')
      await refused(transfer(planner, id, {}), 403, 'forbidden_role')
      await refused(transfer(otherTownship, id, {}), 404, 'not_found')
      await refused(transfer(township, id, { deadline: 1 }), 400, 'bad_input')
      await refused(transfer(township, id, { stage: 'all' }), 400, 'bad_input')
      await refused(transfer(township, id, { grids: [1] }), 400, 'bad_input')
      await refused(transfer(township, 2147483000, {}), 404, 'not_found')
      await refused(transfer(township, road, {}), 409, 'no_people_in_danger')
      await refused(transfer(township, done, {}), 409, 'report_not_open')
      expect((await detail(township, done)).offers.transfer).toBe(false)
      expect(await written()).toEqual(before)
    })

    it('lets a city-level admin change the time limits, and nobody else; open reports follow', async () => {
      clock.set(t0)
      const open = await file('other', '', 'urgent')
      const acknowledged = await file('other', '', 'critical')
      await s.db.sql`UPDATE reports SET state = 'acknowledged', acknowledged_at = ${new Date(t0 + 5 * 60_000)} WHERE id = ${acknowledged}`
      const types = async () => (await (await admin.get('/api/reports/types')).json()) as { ackMinutes: Record<string, number>; handleMinutes: Record<string, number>; version: number }
      const { version } = await types()
      const ackMinutes = { critical: 10, urgent: 45, normal: 12 * 60 }
      const handleMinutes = defaultRules.handleMinutes
      await refused(county.send('PUT', '/api/reports/rules', { version, ackMinutes, handleMinutes }), 403, 'forbidden_scope')
      await refused(township.send('PUT', '/api/reports/rules', { version, ackMinutes, handleMinutes }), 403, 'forbidden_role')
      await refused(admin.send('PUT', '/api/reports/rules', { version, ackMinutes: { ...ackMinutes, urgent: 0 }, handleMinutes }), 400, 'bad_input')
      await refused(admin.send('PUT', '/api/reports/rules', { version, ackMinutes: { ...ackMinutes, critical: 500 }, handleMinutes }), 400, 'bad_input')
      expect((await types()).version).toBe(version)
      const r = await admin.send('PUT', '/api/reports/rules', { version, ackMinutes, handleMinutes })
      expect(r.status, await r.clone().text()).toBe(200)
      expect(await types()).toMatchObject({ ackMinutes, handleMinutes, version: version + 1 })
      await refused(admin.send('PUT', '/api/reports/rules', { version, ackMinutes, handleMinutes }), 409, 'version_conflict')
      // Open reports' stored due times follow the new rule at once (the sweep takes rows by them).
      const rules = { ...defaultRules, ackMinutes, handleMinutes }
      for (const rid of [open, acknowledged]) {
        const [row] = await s.db.sql<(Clocked & { dueAt: Date })[]>`
          SELECT state, urgency, level, level_since AS "levelSince", acknowledged_at AS "acknowledgedAt", due_at AS "dueAt" FROM reports WHERE id = ${rid}`
        expect(row.dueAt.toISOString()).toBe(deadline(row, rules)!.toISOString())
      }
      const [o] = await s.db.sql<{ due: Date }[]>`SELECT due_at AS due FROM reports WHERE id = ${open}`
      expect(o.due.getTime()).toBe(t0 + 45 * 60_000)
      // A new report's clock follows the new limit.
      clock.set(t0)
      const id = await file('other', '', 'urgent')
      const [due] = await s.db.sql<{ due: Date }[]>`SELECT due_at AS due FROM reports WHERE id = ${id}`
      expect(due.due.getTime()).toBe(t0 + 45 * 60_000)
    })
  })
}
