import type { Sql } from '../db/connect.ts'
import type { Tx } from '../db/write.ts'
import { HttpError, notFound } from '../errors.ts'
import { scopePrefix } from '../auth/policy.ts'
import type { Phase, TargetKind } from './config.ts'

export const TASK = { zh: '任务', en: 'task' }

/**
 * Overdue is computed when asked (due_at passed, not done), never stored by a
 * cron: it is right at any moment and costs nothing to keep.
 */
const overdueSql = (sql: Sql | Tx) => sql`(t.status <> 'done' AND t.due_at < now())`

export interface TaskFilter {
  phase?: Phase
  status?: 'not_started' | 'in_progress' | 'done'
  kind?: TargetKind
  /** Admin or grid code: tasks whose unit lies inside it. */
  unit?: string
  overdue?: boolean
  assignee?: number
  limit: number
  offset: number
}

const taskColumns = (sql: Sql | Tx) => sql`
  t.id, t.event_id AS "eventId", t.phase, t.step, t.target_kind AS "targetKind", t.target_id AS "targetId",
  t.target_code AS "targetCode", t.target_name AS "targetName", t.unit_code AS "unitCode",
  t.assignee_id AS "assigneeId", w.name AS "assigneeName", w.role AS "assigneeRole",
  t.opened_at AS "openedAt", t.due_at AS "dueAt", t.status, t.done_at AS "doneAt", ${overdueSql(sql)} AS overdue,
  jsonb_array_length(t.items) AS "itemCount",
  (SELECT count(*)::int FROM jsonb_array_elements(t.items) i WHERE (i ->> 'done')::boolean) AS "itemsDone",
  t.version`

/** Tasks inside `scope` (the reader's area) matching the filter, soonest due first. */
export async function listTasks(sql: Sql, scope: string, f: TaskFilter) {
  const where = sql`
    t.unit_code LIKE ${scopePrefix(scope) + '%'}
    ${f.unit ? sql`AND t.unit_code LIKE ${scopePrefix(f.unit) + '%'}` : sql``}
    ${f.phase ? sql`AND t.phase = ${f.phase}` : sql``}
    ${f.status ? sql`AND t.status = ${f.status}` : sql``}
    ${f.kind ? sql`AND t.target_kind = ${f.kind}` : sql``}
    ${f.assignee ? sql`AND t.assignee_id = ${f.assignee}` : sql``}
    ${f.overdue === undefined ? sql`` : f.overdue ? sql`AND ${overdueSql(sql)}` : sql`AND NOT ${overdueSql(sql)}`}`
  const [{ total }] = await sql<{ total: number }[]>`SELECT count(*)::int AS total FROM tasks t WHERE ${where}`
  const tasks = await sql`
    SELECT ${taskColumns(sql)} FROM tasks t LEFT JOIN grid_workers w ON w.id = t.assignee_id
    WHERE ${where} ORDER BY t.due_at, t.id LIMIT ${f.limit} OFFSET ${f.offset}`
  return { total, limit: f.limit, offset: f.offset, tasks }
}

export async function taskDetail(sql: Sql | Tx, id: number) {
  const [t] = await sql`
    SELECT ${taskColumns(sql)}, t.items, w.phone AS "assigneePhone",
           json_build_object('id', e.id, 'county', e.county_code, 'startedAt', e.started_at, 'lastAlertAt', e.last_alert_at,
                             'afterOpenedAt', e.after_opened_at, 'closedAt', e.closed_at) AS event
    FROM tasks t LEFT JOIN grid_workers w ON w.id = t.assignee_id JOIN rain_events e ON e.id = t.event_id
    WHERE t.id = ${id}`
  if (!t) throw notFound(TASK, String(id))
  return t
}

/**
 * Ticks or unticks one item, or sets its note: records who and when, and
 * rolls the task's status up from its items. `version` (optional) guards
 * against overwriting someone else's tick made meanwhile.
 */
export async function updateItem(
  tx: Tx, id: number, index: number,
  change: { done?: boolean; note?: string | null; version?: number },
  who: { id: number | null; name: string },
) {
  const [t] = await tx<{ items: { done: boolean }[]; version: number }[]>`SELECT items, version FROM tasks WHERE id = ${id} FOR UPDATE`
  if (!t) throw notFound(TASK, String(id))
  if (change.version !== undefined && change.version !== t.version) {
    throw new HttpError(409, 'version_conflict', `任务已被他人修改（当前版本 ${t.version}，您的版本 ${change.version}），请刷新后重试`,
      `the task was changed meanwhile (now version ${t.version}, yours ${change.version}); reload and retry`)
  }
  if (index < 1 || index > t.items.length) {
    throw new HttpError(404, 'no_such_item', `任务 ${id} 没有第 ${index} 项（共 ${t.items.length} 项）`, `task ${id} has no item ${index} (it has ${t.items.length})`)
  }
  const at = new Date().toISOString()
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
  const done = items.filter((i) => i.done).length
  const status = done === 0 ? 'not_started' : done === items.length ? 'done' : 'in_progress'
  await tx`
    UPDATE tasks SET items = ${tx.json(items as never)}, status = ${status},
                     done_at = CASE WHEN ${status} = 'done' THEN coalesce(done_at, ${at}::timestamptz) END, version = version + 1
    WHERE id = ${id}`
  // The replay rebuilds a task at any moment from this log (data/migrations/008_history.sql).
  if (ticked) await tx`INSERT INTO task_item_log (task_id, item, done, at, actor) VALUES (${id}, ${index}, ${change.done!}, ${at}, ${who.name})`
  return { ticked, status }
}

/** How many leading digits name a unit one level down from a code of each level. */
const childDigits = { city: 6, county: 9, township: 12, village: 15 } as const

/**
 * Completion per child unit of `code` (county → townships → villages →
 * grids): done (and of those, done late), overdue, not started, in progress.
 */
export async function rollup(sql: Sql, code: string, phase?: Phase) {
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
             count(*) FILTER (WHERE ${overdueSql(sql)})::int AS overdue,
             count(*) FILTER (WHERE t.status = 'not_started')::int AS "notStarted",
             count(*) FILTER (WHERE t.status = 'in_progress')::int AS "inProgress"
      FROM tasks t
      WHERE t.unit_code LIKE ${prefix + '%'} ${phase ? sql`AND t.phase = ${phase}` : sql``}
      GROUP BY 1
    )
    SELECT coalesce(a.code, g.code, c.child) AS code, coalesce(a.name, g.name) AS name, c.total, c.done, c."doneLate",
           c.overdue, c."notStarted", c."inProgress"
    FROM c
    LEFT JOIN admin_units a ON ${n} <= 12 AND a.code = rpad(c.child, 12, '0')
    LEFT JOIN grids g ON ${n} = 15 AND g.code = c.child
    ORDER BY 1`
  const sum = (k: string) => rows.reduce((a, r) => a + (r[k] as number), 0)
  return {
    code, level,
    totals: { total: sum('total'), done: sum('done'), doneLate: sum('doneLate'), overdue: sum('overdue'), notStarted: sum('notStarted'), inProgress: sum('inProgress') },
    children: rows,
  }
}

export const gridStates = ['done', 'in_progress', 'not_started', 'overdue'] as const

/**
 * 三查 progress per basic grid inside `code`, for the map: the tasks of each
 * county's latest rain event (finished work of older storms is history), plus
 * any older task still not done (it is still owed). A grid is `done` when all
 * of these are, else `overdue` when one is past due, else `not_started` when
 * none has begun, else `in_progress`. Grids without such tasks are left out.
 */
export async function gridProgress(sql: Sql, code: string, phase?: Phase) {
  const grids = await sql`
    WITH latest AS (
      SELECT DISTINCT ON (county_code) id FROM rain_events ORDER BY county_code, started_at DESC, id DESC
    ), c AS (
      SELECT t.unit_code,
             count(*)::int AS total,
             count(*) FILTER (WHERE t.status = 'done')::int AS done,
             count(*) FILTER (WHERE t.status = 'in_progress')::int AS "inProgress",
             count(*) FILTER (WHERE t.status = 'not_started')::int AS "notStarted",
             count(*) FILTER (WHERE ${overdueSql(sql)})::int AS overdue
      FROM tasks t
      WHERE t.unit_code LIKE ${scopePrefix(code) + '%'} AND length(t.unit_code) = 15
        AND (t.status <> 'done' OR t.event_id IN (SELECT id FROM latest))
        ${phase ? sql`AND t.phase = ${phase}` : sql``}
      GROUP BY 1
    )
    SELECT g.id, g.code,
           CASE WHEN c.done = c.total THEN 'done' WHEN c.overdue > 0 THEN 'overdue'
                WHEN c."notStarted" = c.total THEN 'not_started' ELSE 'in_progress' END AS state,
           c.total, c.done, c."inProgress", c."notStarted", c.overdue
    FROM c JOIN grids g ON g.code = c.unit_code AND g.kind = 'basic'
    ORDER BY g.code`
  const counts = Object.fromEntries(gridStates.map((k) => [k, 0])) as Record<(typeof gridStates)[number], number>
  for (const g of grids) counts[g.state as (typeof gridStates)[number]]++
  return { unit: code, phase: phase ?? null, counts, grids }
}
