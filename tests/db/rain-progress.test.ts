import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gridCheckState, isOverdue, type TaskStatus } from '../../core/rules/checks.ts'
import { startServer, type RunningServer } from '../../api/server.ts'
import { buildStorm } from '../../data/storms/build.ts'
import { testClock } from '../helpers/clock.ts'
import { playStorm, resetRain } from '../helpers/rain.ts'
import { loginAs, type Client } from '../helpers/session.ts'
import { targets } from '../helpers/targets.ts'

const COUNTY = '530626'

interface TaskRow { unit_code: string; grid_id: number; phase: string; status: TaskStatus; due_at: Date; event_id: number; county: string; started_at: Date }
interface GridProgress { id: number; code: string; state: string; total: number; done: number; inProgress: number; notStarted: number; overdue: number; missed: number }

/**
 * What GET /api/tasks/grid-progress should say, worked out here in plain code
 * from the raw task rows: per basic grid, the tasks of its county's latest
 * rain event (older storms are chosen by id, their unfinished work is closed
 * as missed when they end), counted and judged by the pure rules
 * (core/rules/checks.ts isOverdue, gridCheckState) that the SQL mirrors.
 */
function expected(rows: TaskRow[], now: Date, prefix: string, phase?: string): Map<number, Omit<GridProgress, 'id' | 'code'>> {
  const latest = new Map<string, { id: number; at: number }>()
  for (const r of rows) {
    const cur = latest.get(r.county)
    const at = r.started_at.getTime()
    if (!cur || at > cur.at || (at === cur.at && r.event_id > cur.id)) latest.set(r.county, { id: r.event_id, at })
  }
  const out = new Map<number, Omit<GridProgress, 'id' | 'code'>>()
  for (const r of rows) {
    if (!r.unit_code.startsWith(prefix) || (phase && r.phase !== phase)) continue
    if (latest.get(r.county)!.id !== r.event_id) continue
    const g = out.get(r.grid_id) ?? { state: '', total: 0, done: 0, inProgress: 0, notStarted: 0, overdue: 0, missed: 0 }
    g.total++
    if (r.status === 'done') g.done++
    if (r.status === 'in_progress') g.inProgress++
    if (r.status === 'not_started') g.notStarted++
    if (r.status === 'missed') g.missed++
    if (isOverdue({ status: r.status, dueAt: r.due_at }, now)) g.overdue++
    out.set(r.grid_id, g)
  }
  for (const g of out.values()) g.state = gridCheckState(g)
  return out
}

for (const target of targets()) {
  describe(`三查 progress per grid on ${target.name}`, () => {
    let s: RunningServer
    let commander: Client
    // The storm is July's: "now" is fixed a little after it, whatever the hour the suite runs at.
    const clock = testClock()
    const now = () => clock().toISOString()
    // Grids set up to be in each state (see beforeAll).
    const pick: Record<'done' | 'inProgress' | 'notStarted' | 'overdue' | 'oldDone', string> = {} as never

    const rows = async () => (await s.db.sql`
      SELECT t.unit_code, g.id AS grid_id, t.phase, t.status, t.due_at, t.event_id, e.county_code AS county, e.started_at
      FROM tasks t JOIN rain_events e ON e.id = t.event_id JOIN grids g ON g.code = t.unit_code AND g.kind = 'basic'`) as unknown as TaskRow[]
    const progress = async (who: Client, query: string) => {
      const r = await who.get(`/api/tasks/grid-progress${query}`)
      expect(r.status, await r.clone().text()).toBe(200)
      return (await r.json()) as { unit: string; phase: string | null; counts: Record<string, number>; grids: GridProgress[] }
    }
    const asMap = (grids: GridProgress[]) => new Map(grids.map(({ id, code: _c, ...g }) => [id, g]))

    beforeAll(async () => {
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true, clock, sweepEveryMs: 3600_000 })
      await resetRain(s.db.sql)
      const storm = await buildStorm(s.db.sql, { county: COUNTY, seed: 5, spacingKm: 5 })
      await playStorm(s.db.sql, storm)
      clock.set(Date.parse(storm.hours.at(-1)!.hour) + 2 * 3600_000)
      commander = await loginAs(s, 'commander', COUNTY + '000000')
      // Two hours after the storm its before and during checks are overdue, its after checks not yet. Give five grids other states.
      const grids = await s.db.sql<{ c: string }[]>`
        SELECT unit_code AS c FROM tasks WHERE length(unit_code) = 15 GROUP BY 1 HAVING count(*) >= 2 ORDER BY 1 LIMIT 5`
      expect(grids.length).toBe(5)
      ;[pick.done, pick.inProgress, pick.notStarted, pick.overdue, pick.oldDone] = grids.map((g) => g.c)
      await s.db.sql`UPDATE tasks SET status = 'done', done_at = ${now()} WHERE unit_code IN (${pick.done}, ${pick.oldDone})`
      await s.db.sql`UPDATE tasks SET due_at = ${now()}::timestamptz + interval '1 day' WHERE unit_code IN (${pick.inProgress}, ${pick.notStarted})`
      await s.db.sql`UPDATE tasks SET status = 'in_progress' WHERE id = (SELECT min(id) FROM tasks WHERE unit_code = ${pick.inProgress})`
      await s.db.sql`UPDATE tasks SET status = 'done', done_at = ${now()} WHERE id = (SELECT max(id) FROM tasks WHERE unit_code = ${pick.overdue})`
    })
    afterAll(async () => {
      if (s) await resetRain(s.db.sql)
      await s?.close()
    })

    it('gives each grid the state of its tasks, as worked out from the task rows', async () => {
      const body = await progress(commander, '')
      expect(body.unit).toBe(COUNTY + '000000')
      const want = expected(await rows(), clock(), COUNTY)
      expect(asMap(body.grids)).toEqual(want)
      const id = (code: string) => body.grids.find((g) => g.code === code)
      expect(id(pick.done)?.state).toBe('done')
      expect(id(pick.inProgress)?.state).toBe('in_progress')
      expect(id(pick.notStarted)?.state).toBe('not_started')
      expect(id(pick.overdue)?.state).toBe('overdue')
      // Counts of grids per state.
      const counts: Record<string, number> = {}
      for (const g of want.values()) counts[g.state] = (counts[g.state] ?? 0) + 1
      expect(body.counts).toEqual({ done: 0, in_progress: 0, not_started: 0, overdue: 0, missed: 0, ...counts })
      // Every grid carries the id the map's grid tiles use.
      const [{ n }] = await s.db.sql`SELECT count(*)::int AS n FROM grids WHERE kind = 'basic' AND id = ANY(${body.grids.map((g) => g.id)}::int[])`
      expect(n).toBe(body.grids.length)
    })

    it('filters by phase and by unit inside the reader’s area', async () => {
      const all = await rows()
      for (const phase of ['before', 'during', 'after']) {
        const body = await progress(commander, `?phase=${phase}`)
        expect(body.phase).toBe(phase)
        expect(asMap(body.grids), phase).toEqual(expected(all, clock(), COUNTY, phase))
      }
      const township = pick.overdue.slice(0, 9) + '000'
      const body = await progress(commander, `?unit=${township}`)
      expect(body.grids.length).toBeGreaterThan(0)
      expect(body.grids.every((g) => g.code.startsWith(township.slice(0, 9)))).toBe(true)
      expect(asMap(body.grids)).toEqual(expected(all, clock(), township.slice(0, 9)))
    })

    it('keeps each reader to their own area and refuses bad queries with a 4xx', async () => {
      const worker = await loginAs(s, 'grid_worker', pick.inProgress)
      const mine = await progress(worker, '')
      expect(mine.grids.map((g) => g.code)).toEqual([pick.inProgress])
      expect((await worker.get(`/api/tasks/grid-progress?unit=${pick.overdue}`)).status).toBe(403)
      expect((await worker.get(`/api/tasks/grid-progress?unit=${COUNTY}000000`)).status).toBe(403)
      const township = await loginAs(s, 'township', pick.overdue.slice(0, 9) + '000')
      const theirs = await progress(township, '')
      expect(theirs.grids.every((g) => g.code.startsWith(pick.overdue.slice(0, 9)))).toBe(true)
      expect(asMap(theirs.grids)).toEqual(expected(await rows(), clock(), pick.overdue.slice(0, 9)))
      const bad: [string, number, RegExp][] = [
        ['?unit=12', 400, /unit/], ['?unit=53062600000x', 400, /unit/], ['?phase=sometime', 400, /phase/],
        ['?colour=red', 400, /colour|Unrecognized/i], ['?unit=530627000000', 403, /outside your area/],
      ]
      for (const [q, status, message] of bad) {
        const r = await commander.get(`/api/tasks/grid-progress${q}`)
        expect(r.status, q).toBe(status)
        const e = (await r.json()).error
        expect(e.en, q).toMatch(message)
        expect(e.zh, q).toBeTruthy()
      }
      expect((await fetch(`${s.url}/api/tasks/grid-progress`)).status).toBe(401)
    })

    it('shows the current storm event only: an older one, over, is history on the map unless chosen', async () => {
      const [old] = await s.db.sql<{ id: number }[]>`SELECT id FROM rain_events WHERE county_code = ${COUNTY}`
      // The first storm is over (its after-rain checks timed out) and a newer one has begun.
      clock.set(clock().getTime() + 30 * 24 * 3600_000)
      await s.sweepNow()
      const [ev] = await s.db.sql`INSERT INTO rain_events (county_code, started_at) VALUES (${COUNTY}, ${now()}) RETURNING id`
      await s.db.sql`
        INSERT INTO tasks (event_id, phase, step, target_kind, target_id, target_code, target_name, unit_code, opened_at, due_at, items, status, done_at)
        SELECT ${ev.id}, phase, step, target_kind, target_id, target_code, target_name, unit_code, ${now()}, ${now()}::timestamptz + interval '2 hours', items, 'done', ${now()}
        FROM tasks WHERE id = (SELECT min(id) FROM tasks WHERE unit_code = ${pick.done})`
      const body = await progress(commander, '')
      expect(body.grids.map((g) => g.code)).toEqual([pick.done]) // only the newer storm's task
      expect(body.grids[0]).toMatchObject({ state: 'done', total: 1 })
      expect(asMap(body.grids)).toEqual(expected(await rows(), clock(), COUNTY))
      // The older storm when chosen: what was done, and the rest closed as missed; nothing overdue any more.
      const older = await progress(commander, `?event=${old.id}`)
      expect(new Set(older.grids.map((g) => g.state))).toEqual(new Set(['done', 'missed']))
      expect(older.grids.find((g) => g.code === pick.oldDone)?.state).toBe('done')
      expect(older.grids.find((g) => g.code === pick.overdue)?.state).toBe('missed')
      expect(older.counts.overdue).toBe(0)
      await s.db.sql`DELETE FROM rain_events WHERE id = ${ev.id}`
    })
  })
}
