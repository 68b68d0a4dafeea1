import { randomUUID } from 'node:crypto'
import iconv from 'iconv-lite'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deadline, defaultRules, escalation, type Clocked } from '../../core/rules/escalation.ts'
import type { Sql } from '../../db/connect.ts'
import { escalateDue } from '../../api/reports/sweep.ts'
import { startServer, type RunningServer } from '../../api/server.ts'
import { testClock } from '../helpers/clock.ts'
import { loginAs, type Client } from '../helpers/session.ts'
import { targets } from '../helpers/targets.ts'

const MIN = 60_000
const t0 = Date.parse('2026-07-15T10:00:00+08:00')

interface Step { action: string; fromLevel: string | null; toLevel: string; toState: string; reason: string | null; auto: boolean; at: string }

/**
 * Issue #20: a report starts at the level its type and urgency say, goes up
 * by itself when its level does not acknowledge it in time (the server's
 * clock, driven here), and is acknowledged, dispatched, handled and closed by
 * the level that owns it; every step a row, held to core/rules/escalation.ts.
 */
for (const target of targets()) {
  describe(`problem reports on ${target.name}`, () => {
    let s: RunningServer
    const clock = testClock(t0)
    /** A basic grid of the test seed, a point inside it, and its village, township and county. */
    let grid: { code: string; lng: number; lat: number }
    let other: { code: string; lng: number; lat: number }
    let worker: Client
    let villageWorker: Client
    let township: Client
    let county: Client
    const village = () => grid.code.slice(0, 12)
    const townshipCode = () => `${grid.code.slice(0, 9)}000`
    const countyCode = () => `${grid.code.slice(0, 6)}000000`
    const file = (c: Client, body: Record<string, unknown>) => c.send('POST', '/api/reports', { lng: grid.lng, lat: grid.lat, ...body })
    const detail = async (c: Client, id: number) => {
      const r = await c.get(`/api/reports/${id}`)
      expect(r.status, await r.clone().text()).toBe(200)
      return (await r.json()) as { state: string; level: string; unitCode: string; overdue: boolean; dueAt: string | null; steps: Step[]; may: string[] }
    }
    const counts = async () => {
      const [n] = await s.db.sql`SELECT (SELECT count(*) FROM reports)::int AS reports, (SELECT count(*) FROM report_steps)::int AS steps`
      return n
    }

    beforeAll(async () => {
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true, clock, reportSweepEveryMs: 3600_000 })
      await s.db.sql`DELETE FROM reports`
      const pick = (offset: number) => s.db.sql<{ code: string; lng: number; lat: number }[]>`
        SELECT code, ST_X(p) AS lng, ST_Y(p) AS lat FROM (SELECT code, ST_PointOnSurface(geom) AS p FROM grids WHERE kind = 'basic' ORDER BY code OFFSET ${offset} LIMIT 1) g`
      ;[grid] = await pick(0)
      // A grid in another township: out of the first township's reach.
      const [o] = await s.db.sql<{ code: string; lng: number; lat: number }[]>`
        SELECT code, ST_X(p) AS lng, ST_Y(p) AS lat FROM (SELECT code, ST_PointOnSurface(geom) AS p FROM grids
        WHERE kind = 'basic' AND left(code, 9) <> ${grid.code.slice(0, 9)} ORDER BY code LIMIT 1) g`
      other = o
      worker = await loginAs(s, 'grid_worker', grid.code)
      villageWorker = await loginAs(s, 'grid_worker', village())
      township = await loginAs(s, 'township', townshipCode())
      county = await loginAs(s, 'commander', countyCode())
    })
    afterAll(async () => {
      if (s) await s.db.sql`DELETE FROM reports`
      await s?.close()
    })

    it('escalates an unacknowledged report to the township by itself, and the township acknowledges, dispatches, handles and closes it', async () => {
      clock.set(t0)
      const r = await file(worker, { type: 'other', urgency: 'urgent', note: '沟道堵塞' })
      expect(r.status, await r.clone().text()).toBe(201)
      const { id } = (await r.json()) as { id: number }
      let d = await detail(worker, id)
      expect(d).toMatchObject({ state: 'reported', level: 'village', unitCode: village(), overdue: false })
      expect(d.dueAt).toBe(new Date(t0 + 60 * MIN).toISOString())
      // The village must acknowledge within an hour; a minute before, nothing moves.
      expect((await escalateDue(s.db.sql, new Date(t0 + 59 * MIN))).escalated).toBe(0)
      expect((await escalateDue(s.db.sql, new Date(t0 + 60 * MIN))).escalated).toBe(1)
      d = await detail(township, id)
      expect(d).toMatchObject({ state: 'reported', level: 'township', unitCode: townshipCode() })
      expect(d.may).toEqual(expect.arrayContaining(['acknowledge', 'escalate']))
      expect(d.steps.at(-1)).toMatchObject({ action: 'escalate', fromLevel: 'village', toLevel: 'township', reason: 'not_acknowledged', auto: true })

      clock.set(t0 + 70 * MIN)
      for (const [action, body] of [
        ['acknowledge', {}], ['dispatch', { assignee: '镇应急分队', due: new Date(t0 + 3 * 60 * MIN).toISOString() }],
        ['handled', { note: '已清理沟道' }], ['close', {}],
      ] as const) {
        const a = await township.send('POST', `/api/reports/${id}/${action}`, body)
        expect(a.status, `${action}: ${await a.clone().text()}`).toBe(200)
      }
      d = await detail(county, id)
      expect(d).toMatchObject({ state: 'closed', level: 'township', dueAt: null, overdue: false })
      expect(d.steps.map((x) => x.action)).toEqual(['filed', 'escalate', 'acknowledge', 'dispatch', 'handled', 'close'])
      // A closed report's clock no longer runs.
      expect((await escalateDue(s.db.sql, new Date(t0 + 100 * 24 * 60 * MIN))).escalated).toBe(0)
    })

    it('files a call log by import: every row as if filed by hand, all or nothing, every bad row named; a dry run writes nothing', async () => {
      clock.set(t0)
      const csv = (rows: string[], head = '类型,紧急程度,经度,纬度,说明,时间,来电人,电话') => [head, ...rows].join('\n') + '\n'
      const send = (c: Client, text: string | Buffer, dryRun: boolean) =>
        c.send('POST', '/api/reports/import', { file: Buffer.from(text).toString('base64'), dryRun })
      const good = csv([
        `地质灾害险情,紧急,${grid.lng},${grid.lat},屋后裂缝,2026-07-15 09:30,张三,13800000000`,
        `road_cut,一般,${grid.lng},${grid.lat},"村道塌方，""单车道""通行",,,`,
      ])
      const before = await counts()
      const dry = await send(township, good, true)
      expect(dry.status, await dry.clone().text()).toBe(200)
      expect(await dry.json()).toMatchObject({ dryRun: true, rows: 2 })
      expect(await counts()).toEqual(before)
      const r = await send(township, good, false)
      expect(r.status, await r.clone().text()).toBe(200)
      expect(await r.json()).toMatchObject({ dryRun: false, rows: 2 })
      const rows = await s.db.sql`SELECT type, urgency, level, note, reported_at, received_at, caller_name, caller_phone, grid_code FROM reports
                                  WHERE id > (SELECT coalesce(max(id), 0) - 2 FROM reports) ORDER BY id`
      // Each at the level its type and urgency say (core/rules/escalation.ts), seen when the log says, received now.
      expect(rows.map((x) => [x.type, x.urgency, x.level])).toEqual([['geohazard', 'urgent', 'township'], ['road_cut', 'normal', 'village']])
      expect((rows[0].reported_at as Date).toISOString()).toBe('2026-07-15T01:30:00.000Z')
      expect((rows[0].received_at as Date).getTime()).toBe(t0)
      expect(rows[0]).toMatchObject({ caller_name: '张三', caller_phone: '13800000000', grid_code: grid.code })
      expect(rows[1].note).toBe('村道塌方，"单车道"通行')
      // GBK, as Excel saves a CSV on a Chinese Windows.
      const gbk = iconv.encode(csv([`其他,特急,${grid.lng},${grid.lat},河水上涨,,,`]), 'gbk')
      const g = await send(township, gbk, true)
      expect(g.status, await g.clone().text()).toBe(200)
      // Bad rows: all named, nothing filed.
      const bad = csv([
        `地质灾害险情,紧急,${grid.lng},${grid.lat},,,,`,
        `滑坡了,紧急,${grid.lng},${grid.lat},,,,`,
        `其他,很急,${grid.lng},${grid.lat},,,,`,
        `其他,一般,${other.lng},${other.lat},,,,`,
        `其他,一般,${grid.lat},${grid.lng},,,,`,
        `其他,一般,${grid.lng},${grid.lat},,昨天下午,,`,
      ])
      const mid = await counts()
      const e = await send(township, bad, false)
      expect(e.status).toBe(400)
      const body = await e.json()
      expect(body.error.code).toBe('bad_rows')
      expect(body.error.zh).toMatch(/5 行有误/)
      for (const row of [3, 4, 5, 6, 7]) expect(body.error.zh).toContain(`第 ${row} 行`)
      expect(body.error.zh).not.toContain('第 2 行')
      expect(await counts()).toEqual(mid)
      // A file that is no call log, no rows, too many; a role that may not file.
      expect((await (await send(township, csv([`x,y`], 'a,b'), true)).json()).error.code).toBe('missing_columns')
      expect((await (await send(township, csv([]), true)).json()).error.code).toBe('empty_file')
      expect((await (await send(township, csv(Array(2001).fill(`其他,一般,${grid.lng},${grid.lat},,,,`)), true)).json()).error.code).toBe('too_many_rows')
      const planner = await loginAs(s, 'planner', countyCode())
      expect((await send(planner, good, true)).status).toBe(403)
      await s.db.sql`DELETE FROM reports WHERE received_at = ${new Date(t0)} AND note IN ('屋后裂缝', '村道塌方，"单车道"通行')`
    })

    it('holds the stored due times and every clock step to the pure rule', async () => {
      clock.set(t0)
      const ids: number[] = []
      for (const [type, urgency] of [['geohazard', 'normal'], ['road_cut', 'critical'], ['house_danger', 'normal'], ['refuses_transfer', 'urgent']] as const) {
        const r = await file(worker, { type, urgency })
        expect(r.status).toBe(201)
        ids.push(((await r.json()) as { id: number }).id)
      }
      // Walk the clock through four days in 15-minute passes: each report rises on the first pass after its rule says.
      for (let t = t0; t <= t0 + 97 * 60 * MIN; t += 15 * MIN) await escalateDue(s.db.sql, new Date(t))
      const rows = await s.db.sql<(Clocked & { id: number; dueAt: Date | null })[]>`
        SELECT id, state, urgency, level, level_since AS "levelSince", acknowledged_at AS "acknowledgedAt", due_at AS "dueAt"
        FROM reports WHERE id = ANY(${ids}::int[])`
      for (const r of rows) {
        expect(r.dueAt?.toISOString() ?? null).toBe(deadline(r, defaultRules)?.toISOString() ?? null)
        const steps = await s.db.sql<{ at: Date; fromLevel: string; toLevel: string }[]>`
          SELECT at, from_level AS "fromLevel", to_level AS "toLevel" FROM report_steps WHERE report_id = ${r.id} AND action = 'escalate' ORDER BY id`
        // Each rise happened on the first pass at or after the level's deadline.
        let at = (await s.db.sql<{ at: Date; level: string }[]>`SELECT at, to_level AS level FROM report_steps WHERE report_id = ${r.id} AND action = 'filed'`)[0]
        for (const step of steps) {
          const due = deadline({ state: 'reported', urgency: r.urgency, level: at.level as Clocked['level'], levelSince: at.at, acknowledgedAt: null }, defaultRules)!
          expect(step.at.getTime() - due.getTime()).toBeGreaterThanOrEqual(0)
          expect(step.at.getTime() - due.getTime()).toBeLessThan(15 * MIN)
          expect(escalation({ state: 'reported', urgency: r.urgency, level: at.level as Clocked['level'], levelSince: at.at, acknowledgedAt: null }, defaultRules, step.at)?.to).toBe(step.toLevel)
          at = { at: step.at, level: step.toLevel }
        }
        // Four days unanswered: everything has reached the city, where it stays overdue.
        expect(r.level).toBe('city')
      }
    })

    it('escalates once however many processes sweep at the same moment', async () => {
      clock.set(t0)
      await s.db.sql`DELETE FROM reports`
      for (let i = 0; i < 20; i++) expect((await file(worker, { type: 'other', urgency: 'critical' })).status).toBe(201)
      // Several API processes are several connections to a real PostgreSQL; the embedded one is one process's own.
      const others = target.name === 'postgis' ? [0, 1, 2].map(() => postgres(target.url, { onnotice: () => {}, max: 1 }) as Sql) : []
      try {
        const at = new Date(t0 + 16 * MIN)
        const out = await Promise.all([s.db.sql, s.db.sql, ...others].map((q) => escalateDue(q, at)))
        expect(out.reduce((n, o) => n + o.escalated, 0)).toBe(20)
        const [{ steps }] = await s.db.sql`SELECT count(*)::int AS steps FROM report_steps WHERE action = 'escalate'`
        expect(steps).toBe(20)
        // One live event each, in one batch: every screen up the chain hears every rise.
        const events = await s.db.sql<{ id: number }[]>`
          SELECT (payload ->> 'id')::int AS id FROM live_events WHERE kind = 'report' AND payload ->> 'action' = 'escalate' AND at >= now() - interval '1 minute'
            AND (payload ->> 'id')::int IN (SELECT id FROM reports)`
        expect(new Set(events.map((e) => e.id)).size).toBe(20)
        expect(events).toHaveLength(20)
      } finally {
        await Promise.all(others.map((q) => q.end()))
      }
    })

    it('makes a report sent twice with the same phone id one report, and tells every screen in the area', async () => {
      clock.set(t0)
      const clientId = randomUUID()
      const before = await counts()
      const [{ max }] = await s.db.sql`SELECT coalesce(max(id), 0)::int AS max FROM live_events`
      const a = await file(worker, { type: 'geohazard', urgency: 'critical', clientId, at: new Date(t0 - 30 * MIN).toISOString() })
      const b = await file(worker, { type: 'geohazard', urgency: 'critical', clientId })
      expect([a.status, b.status]).toEqual([201, 200])
      const ra = (await a.json()) as { id: number }
      expect(((await b.json()) as { id: number }).id).toBe(ra.id)
      expect(await counts()).toEqual({ reports: before.reports + 1, steps: before.steps + 1 })
      const [row] = await s.db.sql`SELECT reported_at, received_at, level FROM reports WHERE id = ${ra.id}`
      expect(row.reported_at.toISOString()).toBe(new Date(t0 - 30 * MIN).toISOString())
      expect(row.received_at.toISOString()).toBe(new Date(t0).toISOString())
      expect(row.level).toBe('county')
      const events = await s.db.sql`SELECT kind, unit_code, payload FROM live_events WHERE id > ${max} AND kind = 'report'`
      expect(events).toHaveLength(1)
      expect(events[0]).toMatchObject({ unit_code: grid.code, payload: { id: ra.id, action: 'filed', urgency: 'critical', level: 'county' } })
    })

    it('refuses bad input and the wrong level with a clear 4xx, writing nothing', async () => {
      clock.set(t0)
      const r = await file(worker, { type: 'other', urgency: 'normal' })
      const { id } = (await r.json()) as { id: number }
      expect((await detail(worker, id)).level).toBe('grid')
      const before = await counts()
      const refusals: [Promise<Response>, number, string][] = [
        [file(worker, { type: 'alien_landing', urgency: 'normal' }), 400, 'unknown_type'],
        [file(worker, { type: 'other', urgency: 'extreme' }), 400, 'bad_input'],
        [file(worker, { type: 'other', urgency: 'normal', lng: 2.35, lat: 48.85 }), 400, 'outside_china'],
        [file(worker, { type: 'other', urgency: 'normal', lng: 116.4, lat: 39.9 }), 400, 'outside_grids'],
        [file(worker, { type: 'other', urgency: 'normal', lng: other.lng, lat: other.lat }), 403, 'forbidden_scope'],
        [file(worker, { type: 'other', urgency: 'normal', at: new Date(t0 + 60 * MIN).toISOString() }), 400, 'time_in_future'],
        [file(worker, { type: 'other', urgency: 'normal', note: 'x'.repeat(501) }), 400, 'bad_input'],
        // The report is the grid's: the township above sees it but does not own it yet.
        [township.send('POST', `/api/reports/${id}/acknowledge`, {}), 403, 'not_your_level'],
        [county.send('POST', `/api/reports/${id}/close`, {}), 403, 'not_your_level'],
        [worker.send('POST', `/api/reports/${id}/close`, {}), 409, 'bad_state'],
        [worker.send('POST', `/api/reports/${id}/escalate`, { reason: '' }), 400, 'bad_input'],
        [worker.send('POST', `/api/reports/${id}/merge`, { into: id }), 400, 'merge_into_itself'],
        [worker.send('POST', `/api/reports/${id}/fly`, {}), 404, 'not_found'],
        [worker.send('POST', `/api/reports/${id}/dispatch`, { assignee: '张三', due: new Date(t0 - MIN).toISOString() }), 409, 'bad_state'],
      ]
      for (const [p, status, code] of refusals) {
        const res = await p
        const body = (await res.json()) as { error: { code: string; zh: string; en: string } }
        expect([res.status, body.error.code], JSON.stringify(body)).toEqual([status, code])
        expect(body.error.zh).toMatch(/\p{Script=Han}/u)
      }
      expect(await counts()).toEqual(before)
      // Another township's staff: the report does not exist for them.
      const far = await loginAs(s, 'township', `${other.code.slice(0, 9)}000`)
      expect((await far.get(`/api/reports/${id}`)).status).toBe(404)
      expect((await far.send('POST', `/api/reports/${id}/escalate`, { reason: '看不到也想升级' })).status).toBe(404)
      // A planner sees but may not act; a viewer may not file.
      const viewer = await loginAs(s, 'viewer', countyCode())
      expect((await file(viewer, { type: 'other', urgency: 'normal' })).status).toBe(403)
      expect(await counts()).toEqual(before)
    })

    it('lets the grid escalate by hand with a reason, and the village take it from there', async () => {
      clock.set(t0)
      const r = await file(worker, { type: 'house_danger', urgency: 'normal' })
      const { id } = (await r.json()) as { id: number }
      const up = await worker.send('POST', `/api/reports/${id}/escalate`, { reason: '需要村里协调' })
      expect(up.status, await up.clone().text()).toBe(200)
      const d = await detail(villageWorker, id)
      expect(d).toMatchObject({ level: 'village', state: 'reported' })
      expect(d.steps.at(-1)).toMatchObject({ action: 'escalate', reason: '需要村里协调', auto: false })
      expect(d.may).toContain('acknowledge')
      expect((await villageWorker.send('POST', `/api/reports/${id}/acknowledge`, {})).status).toBe(200)
      // The worker below no longer owns it.
      expect((await worker.send('POST', `/api/reports/${id}/handled`, { note: '已处理' })).status).toBe(403)
    })

    it('keeps a duty-phone caller beside the officer who filed it, masked for readers without personal data, and counts the area', async () => {
      clock.set(t0)
      await s.db.sql`DELETE FROM reports`
      const r = await file(township, { type: 'flash_flood', urgency: 'critical', note: '村民来电：河水漫过桥面', caller: { name: '李四', phone: '13812345678' }, at: new Date(t0 - 10 * MIN).toISOString() })
      expect(r.status, await r.clone().text()).toBe(201)
      const { id } = (await r.json()) as { id: number }
      expect(await detail(county, id)).toMatchObject({ callerName: '李四', callerPhone: '13812345678' })
      const planner = await loginAs(s, 'planner', countyCode())
      const seen = (await (await planner.get(`/api/reports/${id}`)).json()) as { callerName: string; callerPhone: string }
      expect(seen).toMatchObject({ callerName: '李*', callerPhone: '138****5678' })
      const bad = await file(township, { type: 'other', urgency: 'normal', caller: { name: '王五', phone: 'call me maybe' } })
      expect(bad.status).toBe(400)

      // Counts: the area's open reports whatever the filter; total: those the filter matches.
      expect((await file(worker, { type: 'other', urgency: 'normal' })).status).toBe(201)
      clock.set(t0 + 20 * MIN)
      const list = async (q: string) => (await (await township.get(`/api/reports?unit=${townshipCode()}${q}`)).json()) as {
        total: number; counts: Record<string, number>; reports: { id: number; overdue: boolean }[]
      }
      const all = await list('')
      expect(all.counts).toEqual({ open: 2, overdue: 1, critical: 1, urgent: 0, normal: 1 })
      expect(all.total).toBe(2)
      expect(all.reports[0]).toMatchObject({ id, overdue: true })
      const overdue = await list('&overdue=true')
      expect([overdue.total, overdue.reports.map((x) => x.id)]).toEqual([1, [id]])
      expect(overdue.counts).toEqual(all.counts)
      expect((await list('&state=closed')).total).toBe(0)
    })
  })
}
