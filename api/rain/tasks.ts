import type { Sql } from '../../db/connect.ts'
import type { Tx } from '../../db/write.ts'
import { HttpError, notFound } from '../../core/errors.ts'
import { scopePrefix } from '../../core/units.ts'
import { gridStates, statusOfItems, type Phase, type TargetKind, type TaskStatus } from '../../core/rules/checks.ts'
import { loadConfig } from './config.ts'
import { authorizeUser, type SessionUser } from '../auth/guard.ts'
import { publish } from '../events/publish.ts'
import { endEvents, eventIds, type EventSelector } from './events.ts'

export const TASK = { zh: '任务', en: 'task' }

/** core/rules/checks.ts isOverdue, in SQL. `now` is the caller's clock (tests fix it). */
const overdueSql = (sql: Sql | Tx, now: Date) => sql`(t.status IN ('not_started', 'in_progress') AND t.due_at < ${now.toISOString()}::timestamptz)`

export interface TaskFilter {
  /** Whose tasks: the current event (default), every event, or one. */
  event?: EventSelector
  phase?: Phase
  status?: TaskStatus
  kind?: TargetKind
  /** Admin or grid code: tasks whose unit lies inside it. */
  unit?: string
  overdue?: boolean
  assignee?: number
  limit: number
  offset: number
}

const taskColumns = (sql: Sql | Tx, now: Date) => sql`
  t.id, t.event_id AS "eventId", t.phase, t.step, t.target_kind AS "targetKind", t.target_id AS "targetId",
  t.target_code AS "targetCode", t.target_name AS "targetName", t.unit_code AS "unitCode",
  t.assignee_id AS "assigneeId", w.name AS "assigneeName", w.role AS "assigneeRole",
  t.opened_at AS "openedAt", t.due_at AS "dueAt", t.status, t.done_at AS "doneAt", ${overdueSql(sql, now)} AS overdue,
  jsonb_array_length(t.items) AS "itemCount",
  (SELECT count(*)::int FROM jsonb_array_elements(t.items) i WHERE (i ->> 'done')::boolean) AS "itemsDone",
  t.version`

/** Tasks inside `scope` (the reader's area) matching the filter: the newest event first, then soonest due. */
export async function listTasks(sql: Sql, scope: string, f: TaskFilter, now: Date) {
  const where = sql`
    t.unit_code LIKE ${scopePrefix(scope) + '%'}
    AND t.event_id IN ${eventIds(sql, f.event ?? 'current')}
    ${f.unit ? sql`AND t.unit_code LIKE ${scopePrefix(f.unit) + '%'}` : sql``}
    ${f.phase ? sql`AND t.phase = ${f.phase}` : sql``}
    ${f.status ? sql`AND t.status = ${f.status}` : sql``}
    ${f.kind ? sql`AND t.target_kind = ${f.kind}` : sql``}
    ${f.assignee ? sql`AND t.assignee_id = ${f.assignee}` : sql``}
    ${f.overdue === undefined ? sql`` : f.overdue ? sql`AND ${overdueSql(sql, now)}` : sql`AND NOT ${overdueSql(sql, now)}`}`
  const [{ total }] = await sql<{ total: number }[]>`SELECT count(*)::int AS total FROM tasks t WHERE ${where}`
  const tasks = await sql`
    SELECT ${taskColumns(sql, now)} FROM tasks t LEFT JOIN grid_workers w ON w.id = t.assignee_id JOIN rain_events e ON e.id = t.event_id
    WHERE ${where} ORDER BY e.started_at DESC, e.id DESC, t.due_at, t.id LIMIT ${f.limit} OFFSET ${f.offset}`
  return { total, limit: f.limit, offset: f.offset, tasks }
}

export async function taskDetail(sql: Sql | Tx, id: number, now: Date) {
  const [t] = await sql`
    SELECT ${taskColumns(sql, now)}, t.items, w.phone AS "assigneePhone",
           json_build_object('id', e.id, 'county', e.county_code, 'startedAt', e.started_at, 'lastAlertAt', e.last_alert_at,
                             'afterOpenedAt', e.after_opened_at, 'closedAt', e.closed_at, 'overAt', e.over_at,
                             'overReason', e.over_reason) AS event
    FROM tasks t LEFT JOIN grid_workers w ON w.id = t.assignee_id JOIN rain_events e ON e.id = t.event_id
    WHERE t.id = ${id}`
  if (!t) throw notFound(TASK, String(id))
  return t
}

/**
 * Ticks or unticks one item, or sets its note: records who and when, and
 * rolls the task's status up from its items. `version` (optional) guards
 * against overwriting someone else's tick made meanwhile. A task closed as
 * missed (its storm event is over) is a record: it changes no more. The last
 * after-rain check of a finished event ends the event.
 */
export async function updateItem(
  tx: Tx, id: number, index: number,
  change: { done?: boolean; note?: string | null; version?: number },
  who: { id: number | null; name: string },
  now: Date,
  /** When the tick was made, if earlier than now (the field app's phone time). */
  doneAt: Date = now,
) {
  const [t] = await tx<{ items: { done: boolean }[]; version: number; status: TaskStatus; event_id: number }[]>`
    SELECT items, version, status, event_id FROM tasks WHERE id = ${id} FOR UPDATE`
  if (!t) throw notFound(TASK, String(id))
  if (t.status === 'missed') {
    throw new HttpError(409, 'task_closed', `任务 ${id} 所属的降雨过程已结束，任务已关闭为“未完成”，不能再修改`,
      `task ${id} belongs to a storm event that is over: it was closed as missed and can no longer change`)
  }
  if (change.version !== undefined && change.version !== t.version) {
    throw new HttpError(409, 'version_conflict', `任务已被他人修改（当前版本 ${t.version}，您的版本 ${change.version}），请刷新后重试`,
      `the task was changed meanwhile (now version ${t.version}, yours ${change.version}); reload and retry`)
  }
  if (index < 1 || index > t.items.length) {
    throw new HttpError(404, 'no_such_item', `任务 ${id} 没有第 ${index} 项（共 ${t.items.length} 项）`, `task ${id} has no item ${index} (it has ${t.items.length})`)
  }
  const at = doneAt.toISOString()
  const ticked = change.done !== undefined && change.done !== t.items[index - 1].done
  const items = t.items.map((it, i) => {
    if (i !== index - 1) return it
    const next = { ...it } as Record<string, unknown>
    if (ticked) {
      next.done = change.done
      next.by = change.done ? who.id : null
      next.byName = change.done ? who.name : null
      next.at = change.done ? at : null
    }
    if (change.note !== undefined) next.note = change.note
    return next
  })
  const status = statusOfItems(items as { done: boolean }[])
  await tx`
    UPDATE tasks SET items = ${tx.json(items as never)}, status = ${status},
                     done_at = CASE WHEN ${status} = 'done' THEN coalesce(done_at, ${at}::timestamptz) END, version = version + 1
    WHERE id = ${id}`
  // The replay rebuilds a task at any moment from this log (data/migrations/008_history.sql).
  if (ticked) await tx`INSERT INTO task_item_log (task_id, item, done, at, actor) VALUES (${id}, ${index}, ${change.done!}, ${at}, ${who.name})`
  if (status === 'done') await endEvents(tx, await loadConfig(tx), now, t.event_id)
  return { ticked, status }
}

/**
 * Ticks, unticks or notes an item of a task in the writer's area, and tells
 * the live feed: what PATCH /api/tasks/{id}/items/{n} and the field app's
 * outbox both do. `doneAt`: when it was done (default now).
 */
export async function tickTaskItem(
  tx: Tx, user: SessionUser, input: { task: number; item: number; done?: boolean; note?: string | null; version?: number },
  now: Date, doneAt: Date = now,
) {
  authorizeUser(user, 'task.complete')
  const [t] = await tx<{ unit_code: string }[]>`SELECT unit_code FROM tasks WHERE id = ${input.task}`
  if (!t) throw notFound(TASK, String(input.task))
  // Where: a grid worker ticks only the tasks of their own grid.
  authorizeUser(user, 'task.complete', t.unit_code)
  const r = await updateItem(tx, input.task, input.item, input, { id: user.id, name: user.displayName }, now, doneAt)
  if (r.ticked) await publish(tx, 'task.item', t.unit_code, { taskId: input.task, item: input.item, done: input.done, status: r.status, by: user.displayName })
  return { ...r, unitCode: t.unit_code }
}

/** How many leading digits name a unit one level down from a code of each level. */
const childDigits = { city: 6, county: 9, township: 12, village: 15 } as const

/**
 * Completion per child unit of `code` (county → townships → villages →
 * grids): done (and of those, done late), overdue, not started, in progress,
 * missed (closed unfinished with their event), over the tasks of `event`
 * (default: each county's current event).
 */
export async function rollup(sql: Sql, code: string, opts: { phase?: Phase; event?: EventSelector }, now: Date) {
  const { phase } = opts
  const level = code.length > 12 ? 'grid' : (await sql<{ level: keyof typeof childDigits }[]>`SELECT level FROM admin_units WHERE code = ${code}`)[0]?.level
  if (!level) throw notFound({ zh: '行政区划', en: 'admin unit' }, code)
  if (level === 'grid') throw new HttpError(400, 'no_children', '网格没有下级单位；请用任务列表', 'a grid has no units below it; use the task list')
  const n = childDigits[level]
  const prefix = scopePrefix(code)
  const rows = await sql`
    WITH c AS (
      SELECT left(t.unit_code, ${n}) AS child,
             count(*)::int AS total,
             count(*) FILTER (WHERE t.status = 'done')::int AS done,
             count(*) FILTER (WHERE t.status = 'done' AND t.done_at > t.due_at)::int AS "doneLate",
             count(*) FILTER (WHERE ${overdueSql(sql, now)})::int AS overdue,
             count(*) FILTER (WHERE t.status = 'not_started')::int AS "notStarted",
             count(*) FILTER (WHERE t.status = 'in_progress')::int AS "inProgress",
             count(*) FILTER (WHERE t.status = 'missed')::int AS missed
      FROM tasks t
      WHERE t.unit_code LIKE ${prefix + '%'} AND t.event_id IN ${eventIds(sql, opts.event ?? 'current')}
        ${phase ? sql`AND t.phase = ${phase}` : sql``}
      GROUP BY 1
    )
    SELECT coalesce(a.code, g.code, c.child) AS code, coalesce(a.name, g.name) AS name, c.total, c.done, c."doneLate",
           c.overdue, c."notStarted", c."inProgress", c.missed
    FROM c
    LEFT JOIN admin_units a ON ${n} <= 12 AND a.code = rpad(c.child, 12, '0')
    LEFT JOIN grids g ON ${n} = 15 AND g.code = c.child
    ORDER BY 1`
  const sum = (k: string) => rows.reduce((a, r) => a + (r[k] as number), 0)
  return {
    code, level,
    totals: { total: sum('total'), done: sum('done'), doneLate: sum('doneLate'), overdue: sum('overdue'), notStarted: sum('notStarted'),
              inProgress: sum('inProgress'), missed: sum('missed') },
    children: rows,
  }
}

/**
 * 三查 progress per basic grid inside `code`, for the map, over the tasks of
 * `event` (default: each county's current event; older storms are chosen by
 * id). A grid is `done` when all of these are, else `overdue` when one is
 * open past due, else `missed` when one was closed unfinished, else
 * `not_started` when none has begun, else `in_progress`. Grids without such
 * tasks are left out. `events` says which storm events the answer is about.
 */
export async function gridProgress(sql: Sql, code: string, opts: { phase?: Phase; event?: EventSelector }, now: Date) {
  const { phase } = opts
  const chosen = eventIds(sql, opts.event ?? 'current')
  const grids = await sql`
    WITH c AS (
      SELECT t.unit_code,
             count(*)::int AS total,
             count(*) FILTER (WHERE t.status = 'done')::int AS done,
             count(*) FILTER (WHERE t.status = 'in_progress')::int AS "inProgress",
             count(*) FILTER (WHERE t.status = 'not_started')::int AS "notStarted",
             count(*) FILTER (WHERE ${overdueSql(sql, now)})::int AS overdue,
             count(*) FILTER (WHERE t.status = 'missed')::int AS missed
      FROM tasks t
      WHERE t.unit_code LIKE ${scopePrefix(code) + '%'} AND length(t.unit_code) = 15
        AND t.event_id IN ${chosen}
        ${phase ? sql`AND t.phase = ${phase}` : sql``}
      GROUP BY 1
    )
    SELECT g.id, g.code,
           -- core/rules/checks.ts gridCheckState
           CASE WHEN c.done = c.total THEN 'done' WHEN c.overdue > 0 THEN 'overdue' WHEN c.missed > 0 THEN 'missed'
                WHEN c."notStarted" = c.total THEN 'not_started' ELSE 'in_progress' END AS state,
           c.total, c.done, c."inProgress", c."notStarted", c.overdue, c.missed
    FROM c JOIN grids g ON g.code = c.unit_code AND g.kind = 'basic'
    ORDER BY g.code`
  const counts = Object.fromEntries(gridStates.map((k) => [k, 0])) as Record<(typeof gridStates)[number], number>
  for (const g of grids) counts[g.state as (typeof gridStates)[number]]++
  const events = await eventsIn(sql, code, chosen)
  return { unit: code, phase: phase ?? null, event: opts.event ?? 'current', events, counts, grids }
}

/** Storm events with tasks inside `code`, newest first (those of `only` when given): for choosing one and for saying which one a view shows. */
export async function eventsIn(sql: Sql, code: string, only?: ReturnType<typeof eventIds>, limit = 50) {
  const prefix = scopePrefix(code)
  return sql`
    SELECT e.id, e.county_code AS county, a.name AS "countyName", e.started_at AS "startedAt", e.closed_at AS "closedAt",
           e.over_at AS "overAt", e.over_reason AS "overReason", x.total, x.done, x.missed
    FROM rain_events e
    JOIN LATERAL (
      SELECT count(*)::int AS total, count(*) FILTER (WHERE t.status = 'done')::int AS done,
             count(*) FILTER (WHERE t.status = 'missed')::int AS missed
      FROM tasks t WHERE t.event_id = e.id AND t.unit_code LIKE ${prefix + '%'}
    ) x ON x.total > 0
    LEFT JOIN admin_units a ON a.code = e.county_code || '000000'
    WHERE e.county_code LIKE ${prefix.slice(0, 6) + '%'} ${only ? sql`AND e.id IN ${only}` : sql``}
    ORDER BY e.started_at DESC, e.id DESC LIMIT ${limit}`
}
