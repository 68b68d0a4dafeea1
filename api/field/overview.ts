import { forbiddenRole, forbiddenScope, type SessionUser } from '../auth/guard.ts'
import { inScope } from '../../core/units.ts'
import { fieldChainRoles } from '../../core/policy.ts'
import type { Sql } from '../../db/connect.ts'
import { notFound } from '../../core/errors.ts'
import { beijingDay } from './patrols.ts'


/** The rows one level down: a city by county, a county by township, a township or a village by grid. */
const rowDigits = { city: 6, county: 9, township: 15, village: 15 } as const

/**
 * A unit's field work on one Beijing day, at a glance (issue #19): per row
 * (grid, township or county below the unit) the visits recorded, 三查 items
 * ticked, problem reports filed, grid workers with a patrol track, and when
 * the row's phones were last in touch — so a township sees which grids went
 * quiet in a storm. Counts, not people: but only the workers' chain reads it.
 */
export async function fieldOverview(sql: Sql, user: SessionUser, input: { unit: string; day: string }) {
  if (!fieldChainRoles.has(user.role)) throw forbiddenRole(user.role, 'personal.read')
  const [u] = await sql<{ code: string; name: string; level: keyof typeof rowDigits }[]>`
    SELECT code, name, level FROM admin_units WHERE code = ${input.unit}`
  if (!u || !(u.level in rowDigits)) throw notFound({ zh: '行政区划', en: 'admin unit' }, input.unit)
  if (!inScope(user.unitCode, u.code)) throw forbiddenScope(user.unitCode, u.code)
  const n = rowDigits[u.level]
  // The unit's own digits: a village's 12, a township's 9, a county's 6, the city's 4.
  const prefix = u.code.slice(0, { city: 4, county: 6, township: 9, village: 12 }[u.level])
  const { from, to } = beijingDay(input.day)
  const [f, t] = [from.toISOString(), to.toISOString()]
  const rows = await sql<{ code: string; name: string | null; visits: number; ticks: number; reports: number; patrollers: number; lastContact: Date | null }[]>`
    WITH r AS (
      SELECT left(g.code, ${n}) AS code FROM grids g
      WHERE g.kind = 'basic' AND starts_with(g.code, ${prefix}) GROUP BY 1
    ), v AS (
      SELECT left(g.code, ${n}) AS code, count(*)::int AS n
      FROM visits x JOIN households h ON h.id = x.household_id JOIN grids g ON g.id = h.grid_id
      WHERE x.visited_at >= ${f} AND x.visited_at < ${t} AND starts_with(g.code, ${prefix}) GROUP BY 1
    ), k AS (
      SELECT left(tk.unit_code, ${n}) AS code, count(*)::int AS n
      FROM task_item_log l JOIN tasks tk ON tk.id = l.task_id
      WHERE l.done AND l.at >= ${f} AND l.at < ${t} AND starts_with(tk.unit_code, ${prefix}) AND length(tk.unit_code) >= ${n} GROUP BY 1
    ), p AS (
      SELECT left(grid_code, ${n}) AS code, count(*)::int AS n
      FROM reports WHERE reported_at >= ${f} AND reported_at < ${t} AND starts_with(grid_code, ${prefix}) GROUP BY 1
    ), w AS (
      SELECT left(us.unit_code, ${n}) AS code, count(DISTINCT ft.user_id)::int AS n
      FROM field_tracks ft JOIN users us ON us.id = ft.user_id
      WHERE ft.at >= ${f} AND ft.at < ${t} AND starts_with(us.unit_code, ${prefix}) AND length(us.unit_code) >= ${n} GROUP BY 1
    ), c AS (
      SELECT left(us.unit_code, ${n}) AS code, max(a.received_at) AS at
      FROM field_actions a JOIN users us ON us.id = a.user_id
      WHERE us.role = 'grid_worker' AND starts_with(us.unit_code, ${prefix}) AND length(us.unit_code) >= ${n} GROUP BY 1
    )
    SELECT r.code, coalesce(gr.name, au.name) AS name,
           coalesce(v.n, 0) AS visits, coalesce(k.n, 0) AS ticks, coalesce(p.n, 0) AS reports, coalesce(w.n, 0) AS patrollers,
           c.at AS "lastContact"
    FROM r
    LEFT JOIN grids gr ON ${n} = 15 AND gr.code = r.code
    LEFT JOIN admin_units au ON ${n} < 15 AND au.code = rpad(r.code, 12, '0')
    LEFT JOIN v ON v.code = r.code LEFT JOIN k ON k.code = r.code LEFT JOIN p ON p.code = r.code
    LEFT JOIN w ON w.code = r.code LEFT JOIN c ON c.code = r.code
    ORDER BY r.code`
  const sum = (key: 'visits' | 'ticks' | 'reports' | 'patrollers') => rows.reduce((a, r) => a + r[key], 0)
  return {
    unit: { code: u.code, name: u.name, level: u.level },
    day: input.day,
    totals: { visits: sum('visits'), ticks: sum('ticks'), reports: sum('reports'), patrollers: sum('patrollers') },
    rows,
  }
}
