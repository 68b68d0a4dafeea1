import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { buildStorm, type Storm } from '../../data/storms/build.ts'
import { shifted, writeStormHistory } from '../../api/demo/storm.ts'
import { testClock } from '../helpers/clock.ts'
import { playStorm } from '../helpers/rain.ts'
import { loginAs, type Client } from '../helpers/session.ts'
import { CITY_CODE } from '../../core/units.ts'
import { targets } from '../helpers/targets.ts'
import { clearStorms } from '../helpers/wall.ts'

const COUNTY = '530626'
const UNIT = COUNTY + '000000'
const H = 3600_000
const DAY = 24 * H

interface Event { id: number; county: string; startedAt: string; closedAt: string | null; overAt: string | null; overReason: string | null; total: number; done: number; missed: number }
interface Progress { counts: Record<string, number>; events: { id: number; overAt: string | null }[]; grids: { id: number; code: string; state: string; missed: number; overdue: number }[] }

/**
 * Issue #17: tasks belong to a storm event. When the event is over (its
 * after-rain checks all done, or timed out) its unfinished checklists are
 * closed as missed, kept for the record, and no longer overdue or on the
 * map; the current event comes first everywhere, older ones by choice.
 * Two storms over one county, ten days apart; the server's clock is fixed.
 */
for (const target of targets()) {
  describe(`storm events that are over on ${target.name}`, () => {
    let s: RunningServer
    let commander: Client
    let cityCommander: Client
    let first: Storm
    let second: Storm
    let ev: { first: number; second: number }
    const clock = testClock()
    const sql = () => s.db.sql
    const get = async <T>(path: string) => {
      const r = await commander.get(path)
      expect(r.status, `${path}: ${await r.clone().text()}`).toBe(200)
      return (await r.json()) as T
    }

    beforeAll(async () => {
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true, clock, sweepEveryMs: 3600_000 })
      await clearStorms(s.db.sql)
      first = await buildStorm(s.db.sql, { county: COUNTY, seed: 5, spacingKm: 5 })
      // The first storm as lived: checklists ticked at their times, some late, some never.
      await writeStormHistory(s.db.sql, first)
      const [e1] = await s.db.sql<{ id: number; after: Date }[]>`SELECT id, after_opened_at AS after FROM rain_events WHERE county_code = ${COUNTY}`
      // Just before the first storm's after-rain checks time out: it is still the current event, owed and overdue.
      clock.set(e1.after.getTime() + 47 * H)
      commander = await loginAs(s, 'commander', UNIT)
      // The rain rules are the whole city's: only a city-level account changes them.
      cityCommander = await loginAs(s, 'commander', CITY_CODE)
      ev = { first: e1.id, second: 0 }
    })
    afterAll(async () => {
      if (s) await clearStorms(s.db.sql)
      await s?.close()
    })

    it('keeps an event owed until it times out, then closes its unfinished checklists as missed', async () => {
      await s.sweepNow?.()
      const before = await get<Progress>(`/api/tasks/grid-progress?unit=${UNIT}`)
      expect(before.counts.overdue, 'the storm is over but its after-rain checks are not yet timed out').toBeGreaterThan(0)
      const [open] = await sql()<{ n: number; done: number }[]>`
        SELECT count(*) FILTER (WHERE status IN ('not_started', 'in_progress'))::int AS n, count(*) FILTER (WHERE status = 'done')::int AS done
        FROM tasks WHERE event_id = ${ev.first}`
      expect(open.n).toBeGreaterThan(0)

      const [{ after }] = await sql()<{ after: Date }[]>`SELECT after_opened_at AS after FROM rain_events WHERE id = ${ev.first}`
      clock.set(after.getTime() + 48 * H + 60_000)
      await s.sweepNow?.()
      const [e] = await sql()<{ over_at: Date | null; over_reason: string | null }[]>`SELECT over_at, over_reason FROM rain_events WHERE id = ${ev.first}`
      expect(e).toEqual({ over_at: new Date(after.getTime() + 48 * H), over_reason: 'timeout' })
      const statuses = Object.fromEntries((await sql()<{ status: string; n: number }[]>`
        SELECT status, count(*)::int AS n FROM tasks WHERE event_id = ${ev.first} GROUP BY 1`).map((r) => [r.status, r.n]))
      // Kept, not deleted: what was done stays done, the rest is missed.
      expect(statuses).toEqual({ done: open.done, missed: open.n })

      const after48 = await get<Progress>(`/api/tasks/grid-progress?unit=${UNIT}`)
      expect(after48.counts).toMatchObject({ overdue: 0, not_started: 0, in_progress: 0 })
      expect(after48.counts.missed).toBeGreaterThan(0)
      expect(after48.counts.missed + after48.counts.done).toBe(before.grids.length)
      expect((await get<{ total: number }>(`/api/tasks?unit=${UNIT}&overdue=true`)).total).toBe(0)
      const roll = await get<{ totals: Record<string, number> }>(`/api/tasks/rollup?unit=${UNIT}`)
      expect(roll.totals).toMatchObject({ overdue: 0, done: open.done, missed: open.n, notStarted: 0, inProgress: 0 })

      // A missed checklist is a record: nobody ticks it any more.
      const [t] = await sql()<{ id: number; items: { done: boolean }[] }[]>`SELECT id, items FROM tasks WHERE event_id = ${ev.first} AND status = 'missed' ORDER BY id LIMIT 1`
      const r = await commander.send('PATCH', `/api/tasks/${t.id}/items/${t.items.findIndex((i) => !i.done) + 1}`, { done: true })
      expect(r.status).toBe(409)
      const body = await r.json()
      expect(body.error.code).toBe('task_closed')
      expect(body.error.zh).toMatch(/已结束/)
      const [still] = await sql()<{ status: string }[]>`SELECT status FROM tasks WHERE id = ${t.id}`
      expect(still.status).toBe('missed')
    })

    it('puts the current storm event first and shows older ones only when chosen', async () => {
      // A second storm ten days later: the rain engine itself ends nothing more of the first (already over).
      second = shifted(first, 10 * DAY)
      await playStorm(s.db.sql, second)
      const [e2] = await sql()<{ id: number; after: Date }[]>`
        SELECT id, after_opened_at AS after FROM rain_events WHERE county_code = ${COUNTY} AND id <> ${ev.first}`
      ev.second = e2.id
      clock.set(Date.parse(second.hours.at(-1)!.hour) + 2 * H)

      const events = await get<{ events: Event[] }>(`/api/tasks/events?unit=${UNIT}`)
      expect(events.events.map((e) => e.id)).toEqual([ev.second, ev.first])
      expect(events.events[1]).toMatchObject({ overReason: 'timeout' })
      expect(events.events[0]).toMatchObject({ overAt: null, missed: 0 })

      // The task list: the current event's tasks only by default; every event newest first on asking.
      const list = await get<{ total: number; tasks: { eventId: number }[] }>(`/api/tasks?unit=${UNIT}&limit=1000`)
      const [n2] = await sql()<{ n: number }[]>`SELECT count(*)::int AS n FROM tasks WHERE event_id = ${ev.second}`
      expect(list.total).toBe(n2.n)
      expect(new Set(list.tasks.map((t) => t.eventId))).toEqual(new Set([ev.second]))
      const all = await get<{ total: number; tasks: { eventId: number }[] }>(`/api/tasks?unit=${UNIT}&event=all&limit=1000`)
      expect(all.tasks[0].eventId).toBe(ev.second)
      const [nAll] = await sql()<{ n: number }[]>`SELECT count(*)::int AS n FROM tasks`
      expect(all.total).toBe(nAll.n)
      const firstIdx = all.tasks.findIndex((t) => t.eventId === ev.first)
      if (firstIdx >= 0) expect(all.tasks.slice(firstIdx).every((t) => t.eventId === ev.first)).toBe(true)
      const old = await get<{ total: number; tasks: { eventId: number; status: string; overdue: boolean }[] }>(`/api/tasks?unit=${UNIT}&event=${ev.first}&limit=1000`)
      expect(old.tasks.every((t) => t.eventId === ev.first && !t.overdue && ['done', 'missed'].includes(t.status))).toBe(true)

      // The map's 三查 colours: the current event's only; the older one when chosen (done or missed, nothing overdue).
      const now = await get<Progress>(`/api/tasks/grid-progress?unit=${UNIT}`)
      expect(now.events.map((e) => e.id)).toEqual([ev.second])
      const [g2] = await sql()<{ n: number }[]>`
        SELECT count(DISTINCT unit_code)::int AS n FROM tasks WHERE event_id = ${ev.second} AND length(unit_code) = 15`
      expect(now.grids.length).toBe(g2.n)
      expect(now.counts.missed).toBe(0)
      expect(now.counts.overdue).toBeGreaterThan(0) // nobody ticked the second storm's checklists
      const chosen = await get<Progress>(`/api/tasks/grid-progress?unit=${UNIT}&event=${ev.first}`)
      expect(chosen.events.map((e) => e.id)).toEqual([ev.first])
      expect(new Set(chosen.grids.map((g) => g.state))).toEqual(new Set(['done', 'missed']))
      const roll = await get<{ totals: Record<string, number> }>(`/api/tasks/rollup?unit=${UNIT}&event=${ev.first}`)
      expect(roll.totals.overdue).toBe(0)

      // Bad event choices are refused.
      for (const q of ['event=latest', 'event=0', 'event=-3', 'event=1.5', 'event=']) {
        const r = await commander.get(`/api/tasks?${q}`)
        expect(r.status, q).toBe(400)
        expect((await r.json()).error.zh, q).toBeTruthy()
      }
      expect((await commander.get(`/api/tasks/events?unit=530627000000`)).status).toBe(403)
    })

    it('ends an event when its after-rain checks are all done, closing its other unfinished checklists as missed', async () => {
      const [{ after }] = await sql()<{ after: Date }[]>`SELECT after_opened_at AS after FROM rain_events WHERE id = ${ev.second}`
      expect(after).not.toBeNull()
      clock.set(after.getTime() + 2 * H)
      // Every after-rain check but one done; the last one ticked through the API.
      const [last] = await sql()<{ id: number; n: number }[]>`
        SELECT id, jsonb_array_length(items) AS n FROM tasks WHERE event_id = ${ev.second} AND phase = 'after' ORDER BY id DESC LIMIT 1`
      await sql()`UPDATE tasks SET status = 'done', done_at = ${new Date(after.getTime() + H)} WHERE event_id = ${ev.second} AND phase = 'after' AND id <> ${last.id}`
      const [open] = await sql()<{ n: number }[]>`
        SELECT count(*)::int AS n FROM tasks WHERE event_id = ${ev.second} AND phase <> 'after' AND status <> 'done'`
      expect(open.n).toBeGreaterThan(0)
      for (let i = 1; i <= last.n; i++) {
        const r = await commander.send('PATCH', `/api/tasks/${last.id}/items/${i}`, { done: true })
        expect(r.status, await r.clone().text()).toBe(200)
      }
      const [e] = await sql()<{ over_at: Date | null; over_reason: string | null }[]>`SELECT over_at, over_reason FROM rain_events WHERE id = ${ev.second}`
      expect(e).toEqual({ over_at: new Date(after.getTime() + 2 * H), over_reason: 'done' })
      const [{ missed, open: still }] = await sql()<{ missed: number; open: number }[]>`
        SELECT count(*) FILTER (WHERE status = 'missed')::int AS missed,
               count(*) FILTER (WHERE status IN ('not_started', 'in_progress'))::int AS open
        FROM tasks WHERE event_id = ${ev.second}`
      expect({ missed, open: still }).toEqual({ missed: open.n, open: 0 })
      // The tick itself was recorded at the server's time.
      const [log] = await sql()<{ at: Date }[]>`SELECT at FROM task_item_log WHERE task_id = ${last.id} ORDER BY id DESC LIMIT 1`
      expect(log.at).toEqual(new Date(after.getTime() + 2 * H))
      const progress = await get<Progress>(`/api/tasks/grid-progress?unit=${UNIT}`)
      expect(progress.counts).toMatchObject({ overdue: 0, not_started: 0, in_progress: 0 })
    })

    it('takes the timeout from rain_config, and refuses a bad one', async () => {
      const { config } = await get<{ config: { key: string; version: number; value: Record<string, number> }[] }>('/api/rain/config')
      const after = config.find((c) => c.key === 'after')!
      expect(after.value.timeoutHours).toBe(48)
      for (const bad of [{ ...after.value, timeoutHours: 0 }, { ...after.value, timeoutHours: 'soon' }, { dryHours: 6, dueHours: 24 }]) {
        expect((await cityCommander.send('PUT', '/api/rain/config/after', { version: after.version, value: bad })).status).toBe(400)
      }
      // A third storm with a 3 h timeout: over 3 h after its after-rain checks open, in rain time.
      const r = await cityCommander.send('PUT', '/api/rain/config/after', { version: after.version, value: { ...after.value, timeoutHours: 3 } })
      expect(r.status, await r.clone().text()).toBe(200)
      try {
        await playStorm(s.db.sql, shifted(first, 20 * DAY))
        const [e3] = await sql()<{ after: Date; over_at: Date | null; over_reason: string | null }[]>`
          SELECT after_opened_at AS after, over_at, over_reason FROM rain_events WHERE county_code = ${COUNTY} ORDER BY started_at DESC LIMIT 1`
        // The storm's readings go on 3 h past the after-rain opening: the engine ended it at that hour.
        expect(e3.over_reason).toBe('timeout')
        expect(e3.over_at).toEqual(new Date(e3.after.getTime() + 3 * H))
      } finally {
        const { config: now } = await get<{ config: { key: string; version: number }[] }>('/api/rain/config')
        await cityCommander.send('PUT', '/api/rain/config/after', { version: now.find((c) => c.key === 'after')!.version, value: after.value })
      }
    })
  })
}
