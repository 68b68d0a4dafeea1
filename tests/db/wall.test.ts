import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { actOnReport } from '../../api/reports/act.ts'
import { fileReport } from '../../api/reports/file.ts'
import { loadRules } from '../../api/reports/rules.ts'
import { escalateDue } from '../../api/reports/sweep.ts'
import { startServer, type RunningServer } from '../../api/server.ts'
import type { SessionUser } from '../../api/auth/guard.ts'
import { isOverdue, levels, openStates, urgencies, type Level, type State, type Urgency } from '../../core/rules/escalation.ts'
import type { Role } from '../../core/policy.ts'
import type { WallState } from '../../core/contracts/wall.ts'
import type { Storm } from '../../data/storms/build.ts'
import { clearStorms, recentStormHistory } from '../helpers/wall.ts'
import { loginAs, type Client } from '../helpers/session.ts'
import { targets } from '../helpers/targets.ts'

const COUNTY = '530626'
const UNIT = COUNTY + '000000'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

type Counts = Record<string, number>
interface Snapshot {
  at: string
  transfer: Counts & { peopleAtShelter: number; vulnerableNotSafe: number }
  checks: Record<string, { total: number; done: number; inProgress: number }>
}

for (const target of targets()) {
  describe(`command wall on ${target.name}`, () => {
    let s: RunningServer
    let commander: Client
    let storm: Storm
    const rainLive: { asOf: string; sites: string[]; grids: Counts }[] = []
    const wall = async (c: Client, q: string) => {
      const r = await c.get(`/api/wall/state?${q}`)
      expect(r.status, await r.clone().text()).toBe(200)
      return (await r.json()) as WallState
    }

    beforeAll(async () => {
      // The report clock is driven by hand below (the server's own would raise the test's reports, dated hours ago, at once).
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true, reportSweepEveryMs: 3600_000 })
      commander = await loginAs(s, 'commander', UNIT)
      // While the storm's history is written, note what the live rain tables say after each hour.
      storm = await recentStormHistory(s.db.sql, COUNTY, async () => {
        const [{ asOf }] = await s.db.sql<{ asOf: Date | null }[]>`SELECT state_as_of AS "asOf" FROM rain_cache`
        if (!asOf || rainLive.at(-1)?.asOf === asOf.toISOString()) return
        const sites = await s.db.sql<{ code: string }[]>`
          SELECT r.code FROM rain_state r JOIN hazard_sites h ON h.id = r.unit_id
          WHERE r.kind = 'site' AND r.unit_code LIKE ${COUNTY + '%'}
            AND (r.rain_1h >= h.critical_rain_1h OR r.rain_24h >= h.critical_rain_24h) ORDER BY r.code`
        const grids = await s.db.sql<{ colour: string; n: number }[]>`
          SELECT colour, count(*)::int AS n FROM rain_state WHERE kind = 'grid' AND colour IS NOT NULL AND unit_code LIKE ${COUNTY + '%'} GROUP BY colour`
        rainLive.push({ asOf: asOf.toISOString(), sites: sites.map((x) => x.code), grids: Object.fromEntries(grids.map((g) => [g.colour, g.n])) })
      })
    })
    afterAll(async () => {
      if (s) {
        await clearStorms(s.db.sql)
        await s.db.sql`DELETE FROM reports`
      }
      await s?.close()
    })

    it('rebuilds the rain of every past hour as the live tables had it', async () => {
      expect(rainLive.length).toBeGreaterThan(20)
      // The storm must have put sites past their critical rainfall and grids under signals, or this proves little.
      expect(rainLive.some((r) => r.sites.length > 0)).toBe(true)
      expect(rainLive.some((r) => (r.grids.red ?? 0) > 0)).toBe(true)
      for (const live of rainLive) {
        // Any moment within the hour after the reading hour ended (and not in the future: the last hour may have just ended).
        const at = new Date(Math.min(Date.parse(live.asOf) + 90 * 60_000, Date.now() - 1000)).toISOString()
        const w = await wall(commander, `unit=${UNIT}&at=${encodeURIComponent(at)}`)
        // Rain "as of" the end of the hour the live tables were evaluated at, and current then.
        expect(w.rain).toMatchObject({ asOf: new Date(Date.parse(live.asOf) + 3600_000).toISOString(), current: true })
        expect(w.sites.top.map((x) => x.code).sort(), at).toEqual(live.sites)
        expect(w.sites.overCritical).toBe(live.sites.length)
        for (const c of ['blue', 'yellow', 'orange', 'red'] as const) expect(w.warnings.grids[c], `${at} ${c}`).toBe(live.grids[c] ?? 0)
      }
    })

    it('the demo history is whole: the live tables equal the last entries of the logs', async () => {
      const [bad] = await s.db.sql<{ tasks: number; households: number; orders: number }[]>`
        SELECT
          (SELECT count(*) FROM tasks t WHERE (SELECT count(*) FROM jsonb_array_elements(t.items) i WHERE (i ->> 'done')::boolean)
             <> (SELECT count(*) FROM (SELECT DISTINCT ON (item) done FROM task_item_log l WHERE l.task_id = t.id ORDER BY item, at DESC, id DESC) x WHERE done))::int AS tasks,
          (SELECT count(*) FROM evac_households e WHERE e.status <> coalesce((SELECT to_status FROM evac_status_log l
             WHERE l.order_id = e.order_id AND l.household_id = e.household_id ORDER BY at DESC, id DESC LIMIT 1), 'not_notified'))::int AS households,
          (SELECT count(*) FROM evac_orders WHERE status = 'closed' AND closed_at IS NULL)::int AS orders`
      expect(bad).toEqual({ tasks: 0, households: 0, orders: 0 })
      const [n] = await s.db.sql<{ ticks: number; moves: number; orders: number }[]>`
        SELECT (SELECT count(*) FROM task_item_log)::int AS ticks, (SELECT count(*) FROM evac_status_log)::int AS moves,
               (SELECT count(*) FROM evac_orders)::int AS orders`
      expect(n.ticks).toBeGreaterThan(100)
      expect(n.moves).toBeGreaterThan(50)
      expect(n.orders).toBe(2)
      // The storm is listed for replay, from before its first forecast to after its after-rain checks.
      const storms = (await (await commander.get(`/api/wall/storms?unit=${UNIT}`)).json()) as { storms: { from: string; to: string; counties: string[] }[] }
      expect(storms.storms).toHaveLength(1)
      expect(storms.storms[0].counties).toEqual([COUNTY])
      expect(Date.parse(storms.storms[0].from)).toBeLessThan(Date.parse(storm.forecasts[0].issuedAt))
      expect(Date.parse(storms.storms[0].to)).toBeGreaterThan(Date.parse(storm.hours.at(-1)!.hour))
    })

    it('state at any moment equals the live tables then, and a fold of the logs up to it', async () => {
      const sql = s.db.sql
      const snapshot = async (): Promise<Snapshot> => {
        const at = new Date().toISOString()
        const transfer: Snapshot['transfer'] = { peopleAtShelter: 0, vulnerableNotSafe: 0 }
        for (const r of await sql<{ status: string; n: number; people: number; vns: number }[]>`
          SELECT e.status, count(*)::int AS n, coalesce(sum(e.people) FILTER (WHERE e.status = 'at_shelter'), 0)::int AS people,
                 coalesce(sum(e.vulnerable) FILTER (WHERE e.status NOT IN ('at_shelter', 'returned')), 0)::int AS vns
          FROM evac_households e JOIN evac_orders o ON o.id = e.order_id AND o.status = 'active'
          WHERE e.grid_code LIKE ${COUNTY + '%'} GROUP BY e.status`) {
          transfer[r.status] = r.n
          transfer.peopleAtShelter += r.people
          transfer.vulnerableNotSafe += r.vns
        }
        const checks: Snapshot['checks'] = {}
        for (const r of await sql<{ phase: string; total: number; done: number; ip: number }[]>`
          SELECT phase, count(*)::int AS total, count(*) FILTER (WHERE status = 'done')::int AS done, count(*) FILTER (WHERE status = 'in_progress')::int AS ip
          FROM tasks WHERE event_id = (SELECT id FROM rain_events WHERE county_code = ${COUNTY} ORDER BY started_at DESC, id DESC LIMIT 1)
          GROUP BY phase`) checks[r.phase] = { total: r.total, done: r.done, inProgress: r.ip }
        await sleep(15)
        return { at, transfer, checks }
      }
      const ok = async (r: Promise<Response>) => {
        const res = await r
        expect(res.status, await res.clone().text()).toBeLessThan(300)
        return res.json()
      }
      const snaps = [await snapshot()]
      const issued = await ok(commander.send('POST', '/api/evacuation/orders', { stage: 'everyone', trigger: { kind: 'manual' }, sitesIn: [UNIT], deadline: 120 }))
      const orderId = issued.order.id as number
      snaps.push(await snapshot())
      const hh = await sql<{ id: number; grid: string }[]>`
        SELECT household_id AS id, grid_code AS grid FROM evac_households WHERE order_id = ${orderId} ORDER BY grid_code, household_id`
      expect(hh.length).toBeGreaterThan(10)
      const grid = hh[0].grid
      const others = hh.filter((h) => h.grid !== grid)
      const tasks = await sql<{ id: number; n: number; done: number[] }[]>`
        SELECT id, jsonb_array_length(items) AS n,
               array(SELECT k::int FROM jsonb_array_elements(items) WITH ORDINALITY x(i, k) WHERE (i ->> 'done')::boolean) AS done
        FROM tasks WHERE event_id = (SELECT id FROM rain_events WHERE county_code = ${COUNTY} ORDER BY started_at DESC, id DESC LIMIT 1)
        ORDER BY id LIMIT 200`
      const finished = tasks.find((t) => t.done.length === t.n)!
      const untouched = tasks.filter((t) => t.done.length === 0).slice(0, 2)
      expect(finished && untouched.length).toBeTruthy()
      const patch = (h: number, body: object) => ok(commander.send('PATCH', `/api/evacuation/orders/${orderId}/households/${h}`, body))
      const tick = (t: number, item: number, done: boolean) => ok(commander.send('PATCH', `/api/tasks/${t}/items/${item}`, { done }))
      const actions: (() => Promise<unknown>)[] = [
        () => ok(commander.send('POST', `/api/evacuation/orders/${orderId}/bulk`, { grid, from: 'not_notified', status: 'notified' })),
        () => patch(others[0].id, { status: 'notified' }),
        () => patch(others[0].id, { status: 'moving' }),
        () => tick(untouched[0].id, 1, true),
        () => patch(others[0].id, { status: 'at_shelter', people: 2 }),
        () => patch(others[1].id, { status: 'notified' }),
        () => patch(others[1].id, { status: 'refused', reason: '不愿离家' }),
        () => tick(finished.id, 1, false), // an untick: the finished task is in progress again
        () => ok(commander.send('POST', `/api/evacuation/orders/${orderId}/bulk`, { grid, from: 'notified', status: 'moving' })),
        () => patch(others[0].id, { status: 'moving', reason: '避险点漏雨，改去另一处' }), // backwards, with a reason
        () => tick(finished.id, 1, true),
        ...Array.from({ length: untouched[1].n }, (_, i) => () => tick(untouched[1].id, i + 1, true)),
        () => ok(commander.send('POST', `/api/evacuation/orders/${orderId}/bulk`, { grid, from: 'moving', status: 'at_shelter' })),
      ]
      for (const act of actions) {
        await act()
        snaps.push(await snapshot())
      }
      const [{ version }] = await sql<{ version: number }[]>`SELECT version FROM evac_orders WHERE id = ${orderId}`
      await ok(commander.send('POST', `/api/evacuation/orders/${orderId}/close`, { version }))

      const log = await sql<{ household: number; to: string; people: number | null; at: Date }[]>`
        SELECT household_id AS household, to_status AS to, people, at FROM evac_status_log WHERE order_id = ${orderId} ORDER BY at, id`
      for (const snap of snaps) {
        const w = await wall(commander, `unit=${UNIT}&at=${encodeURIComponent(snap.at)}`)
        const { peopleAtShelter, vulnerableNotSafe, ...statuses } = snap.transfer
        for (const st of ['not_notified', 'notified', 'moving', 'at_shelter', 'returned', 'refused', 'unreachable'] as const) {
          expect(w.transfer[st], `${snap.at} ${st}`).toBe(statuses[st] ?? 0)
        }
        expect(w.transfer.peopleAtShelter, snap.at).toBe(peopleAtShelter)
        expect(w.transfer.vulnerableNotSafe, snap.at).toBe(vulnerableNotSafe)
        for (const ph of ['before', 'during', 'after'] as const) expect(w.checks[ph], `${snap.at} ${ph}`).toEqual(snap.checks[ph] ?? { total: 0, done: 0, inProgress: 0 })

        // The same moment folded from the logs here, in plain code.
        const t = Date.parse(snap.at)
        if (t >= Date.parse(issued.order.issuedAt)) {
          const status = new Map(hh.map((h) => [h.id, 'not_notified']))
          for (const e of log) if (e.at.getTime() <= t) status.set(e.household, e.to)
          const folded: Counts = {}
          for (const v of status.values()) folded[v] = (folded[v] ?? 0) + 1
          for (const [st, n] of Object.entries(folded)) expect(w.transfer[st as 'moving'], `fold ${snap.at} ${st}`).toBe(n)
        }
      }
      // Closed: gone from the wall now, still there at any moment before.
      expect((await wall(commander, `unit=${UNIT}`)).transfer.households).toBe(0)
      expect((await wall(commander, `unit=${UNIT}&at=${encodeURIComponent(snaps.at(-1)!.at)}`)).transfer.households).toBe(hh.length)
    })

    it('counts problem reports at any moment as their steps up to then left them: open by level and urgency, overdue, 办结率 and time to acknowledge per township', async () => {
      const sql = s.db.sql
      await sql`DELETE FROM reports`
      const rules = await loadRules(sql)
      const MIN = 60_000
      const B = Math.floor(Date.now() / MIN) * MIN - 10 * 60 * MIN
      const at = (m: number) => new Date(B + m * MIN)
      // Two townships of the county, a grid in each, a point inside it.
      const grids = await sql<{ code: string; lng: number; lat: number }[]>`
        SELECT DISTINCT ON (left(code, 9)) code, ST_X(ST_PointOnSurface(geom)) AS lng, ST_Y(ST_PointOnSurface(geom)) AS lat
        FROM grids WHERE kind = 'basic' AND code LIKE ${COUNTY + '%'} ORDER BY left(code, 9), code LIMIT 2`
      expect(grids).toHaveLength(2)
      const [ga, gb] = grids
      const person = async (role: Role, unitCode: string): Promise<SessionUser> => {
        const c = await loginAs(s, role, unitCode)
        return { id: c.userId, username: c.username, displayName: '测试', role, unitCode, mustChangePassword: false }
      }
      const townCode = (g: { code: string }) => `${g.code.slice(0, 9)}000`
      const [workerA, workerB, townA, townB, county, villageB] = await Promise.all([
        person('grid_worker', ga.code), person('grid_worker', gb.code), person('township', townCode(ga)), person('township', townCode(gb)),
        person('commander', UNIT), person('grid_worker', gb.code.slice(0, 12)),
      ])
      const file = async (u: SessionUser, g: typeof ga, type: string, urgency: Urgency, m: number) =>
        (await fileReport(sql, u, { type, urgency, lng: g.lng, lat: g.lat, note: '' }, at(m))).id
      const act = (u: SessionUser, id: number, action: 'acknowledge' | 'dispatch' | 'handled' | 'close' | 'merge', m: number, body: object = {}) =>
        actOnReport(sql, u, id, action, body as never, at(m))
      // Township A: r1 goes the whole way; r2 is not acknowledged in time and the clock takes it to the county; r5 waits.
      // Township B: r3 is acknowledged and then not handled in time; r4 is a duplicate of it.
      const r1 = await file(workerA, ga, 'geohazard', 'urgent', 0)
      const r3 = await file(workerB, gb, 'road_cut', 'critical', 5)
      const r2 = await file(workerA, ga, 'other', 'critical', 10)
      await act(townB, r3, 'acknowledge', 12)
      await act(townA, r1, 'acknowledge', 20)
      expect((await escalateDue(sql, at(25))).escalated).toBe(1) // r2, 15 minutes unacknowledged
      await act(townA, r1, 'dispatch', 30, { assignee: '镇应急分队', due: at(120).toISOString() })
      await act(county, r2, 'acknowledge', 40)
      const r4 = await file(workerB, gb, 'flash_flood', 'normal', 50)
      await act(townA, r1, 'handled', 60, { note: '已设置警戒' })
      await act(villageB, r4, 'merge', 70, { into: r3, reason: '同一处' })
      await act(townA, r1, 'close', 90)
      const r5 = await file(workerA, ga, 'house_danger', 'urgent', 100)
      await escalateDue(sql, at(180)) // r3 not handled, r2 not handled at the county, r5 not acknowledged at the village
      expect((await sql`SELECT count(*)::int AS n FROM report_steps WHERE report_id = ANY(${[r1, r2, r3, r4, r5]}::int[])`)[0].n).toBe(16)

      // The same moment folded from the steps here, in plain code, with the pure rule.
      const steps = await sql<{ id: number; urgency: Urgency; grid: string; action: string; toLevel: Level; toState: State; at: Date }[]>`
        SELECT r.id, r.urgency, r.grid_code AS grid, s.action, s.to_level AS "toLevel", s.to_state AS "toState", s.at
        FROM report_steps s JOIN reports r ON r.id = s.report_id WHERE r.grid_code LIKE ${COUNTY + '%'} ORDER BY s.at, s.id`
      const fold = (T: number, since: number) => {
        const reps = new Map<number, { urgency: Urgency; grid: string; state: State; level: Level; filed: number; levelSince: number; firstAck: number | null; ack: number | null }>()
        for (const x of steps) {
          const t = x.at.getTime()
          if (t > T) continue
          const r = reps.get(x.id) ?? { urgency: x.urgency, grid: x.grid, state: x.toState, level: x.toLevel, filed: t, levelSince: t, firstAck: null, ack: null }
          Object.assign(r, { state: x.toState, level: x.toLevel })
          if (x.action === 'escalate') r.levelSince = t
          if (x.action === 'acknowledge') Object.assign(r, { ack: t, firstAck: r.firstAck ?? t })
          reps.set(x.id, r)
        }
        const open = Object.fromEntries(levels.map((l) => [l, Object.fromEntries(urgencies.map((u) => [u, 0]))]))
        const overdue = Object.fromEntries(levels.map((l) => [l, 0]))
        const towns = new Map<string, { filed: number; closed: number; open: number; overdue: number; acks: number[] }>()
        for (const r of reps.values()) {
          const town = `${r.grid.slice(0, 9)}000`
          const tw = towns.get(town) ?? { filed: 0, closed: 0, open: 0, overdue: 0, acks: [] }
          towns.set(town, tw)
          const acknowledgedAt = r.ack !== null && r.ack >= r.levelSince ? new Date(r.ack) : null
          const late = isOverdue({ state: r.state, urgency: r.urgency, level: r.level, levelSince: new Date(r.levelSince), acknowledgedAt }, rules, new Date(T))
          if (openStates.includes(r.state)) {
            open[r.level][r.urgency]++
            tw.open++
          }
          if (late) {
            overdue[r.level]++
            tw.overdue++
          }
          if (r.filed >= since && r.state !== 'merged') {
            tw.filed++
            if (r.state === 'closed') tw.closed++
            if (r.firstAck !== null) tw.acks.push((r.firstAck - r.filed) / MIN)
          }
        }
        const median = (xs: number[]) => {
          if (!xs.length) return null
          const v = [...xs].sort((a, b) => a - b)
          return Math.round(10 * (v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2)) / 10
        }
        return {
          open, overdue,
          townships: [...towns.entries()].filter(([, x]) => x.filed > 0 || x.open > 0).sort(([a], [b]) => a.localeCompare(b))
            .map(([code, x]) => ({ code, filed: x.filed, closed: x.closed, open: x.open, overdue: x.overdue, ackMedianMinutes: median(x.acks) })),
        }
      }
      const moments = [-1, 0, 11, 15, 24, 26, 45, 65, 95, 140, 179, 181, 200, null]
      const seen: Record<string, WallState['reports']> = {}
      for (const m of moments) {
        const w = await wall(commander, m === null ? `unit=${UNIT}` : `unit=${UNIT}&at=${encodeURIComponent(at(m).toISOString())}`)
        const expected = fold(Date.parse(w.at), Date.parse(w.reports.since))
        expect(w.reports.open, `${m}`).toEqual(expected.open)
        expect(w.reports.overdue, `${m}`).toEqual(expected.overdue)
        expect(w.reports.openTotal).toBe(Object.values(expected.open).flatMap((x) => Object.values(x)).reduce((a, b) => a + b, 0))
        expect(w.reports.overdueTotal).toBe(Object.values(expected.overdue).reduce((a, b) => a + b, 0))
        expect(w.reports.townships.map(({ name: _, ...x }) => x), `${m}`).toEqual(expected.townships)
        seen[String(m)] = w.reports
      }
      // What those moments were, said by hand.
      const A = townCode(ga), Bt = townCode(gb)
      expect(seen['-1'].openTotal).toBe(0)
      expect(seen['15'].open.township).toEqual({ normal: 0, urgent: 1, critical: 2 })
      expect(seen['26'].open.county.critical).toBe(1) // r2, raised by the clock at minute 25
      expect(seen['26'].overdueTotal).toBe(0)
      expect(seen['24'].overdue.township).toBe(0) // r2 due at 25
      expect(seen['140'].overdue.township).toBe(1) // r3: acknowledged at 12, not handled within 2 h, the clock not yet run
      expect(seen['140'].open.township.critical).toBe(1)
      expect(seen['181'].open.county.critical).toBe(1) // r3 raised at 180; r2 to the city
      expect(seen['181'].open.city.critical).toBe(1)
      const live = seen['null']
      if (Date.parse(live.since) <= B) {
        expect(live.townships.find((x) => x.code === A)).toMatchObject({ filed: 3, closed: 1, ackMedianMinutes: 25 })
        expect(live.townships.find((x) => x.code === Bt)).toMatchObject({ filed: 1, closed: 0, open: 1, ackMedianMinutes: 7 })
        expect(seen['95'].townships.find((x) => x.code === A)).toMatchObject({ filed: 2, closed: 1, open: 1 })
      }
      expect(live.townships.find((x) => x.code === A)?.name).toMatch(/\p{Script=Han}/u)
    })

    it('answers bad requests with a reason, never a 500', async () => {
      const township = (await s.db.sql<{ code: string }[]>`SELECT code FROM admin_units WHERE level = 'township' AND code LIKE ${COUNTY + '%'} ORDER BY code`)
      const local = await loginAs(s, 'township', township[0].code)
      const cases: [Client, string, number, RegExp][] = [
        [commander, '/api/wall/state?at=yesterday', 400, /at/],
        [commander, '/api/wall/state?at=2999-01-01T00:00:00Z', 400, /future/],
        [commander, '/api/wall/state?at=1999-12-31T23:00:00Z', 400, /after 2000/],
        [commander, '/api/wall/state?unit=5306', 400, /12-digit/],
        [commander, '/api/wall/state?unit=530626999999', 404, /no admin unit 530626999999/],
        [commander, '/api/wall/state?colour=red', 400, /colour|Unrecognized/i],
        [commander, '/api/wall/state?unit=530602000000', 403, /outside your area/],
        [local, `/api/wall/state?unit=${township[1].code}`, 403, /outside your area/],
        [commander, '/api/wall/storms?unit=abc', 400, /12-digit/],
      ]
      for (const [c, path, status, msg] of cases) {
        const r = await c.get(path)
        const body = await r.json()
        expect(r.status, path).toBe(status)
        expect(JSON.stringify(body), path).toMatch(msg)
      }
      expect((await fetch(`${s.url}/api/wall/state`)).status).toBe(401)
      // A township asking for its county sees its own township.
      expect((await wall(local, `unit=${UNIT}`)).unit.code).toBe(township[0].code)
    })
  })
}
