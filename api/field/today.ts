import { mayReadPersonal, type SessionUser } from '../auth/guard.ts'
import { maskPersonal } from '../auth/mask.ts'
import { inScope, scopePrefix } from '../../core/units.ts'
import { forbiddenScope } from '../auth/guard.ts'
import type { Sql } from '../../db/connect.ts'
import { HttpError, notFound } from '../../core/errors.ts'
import { eventIds } from '../rain/events.ts'
import { visitIntervalDays } from '../../core/rules/visits.ts'
import { GRID } from '../records/read.ts'
import { byDue, visitDue, type Risk } from './due.ts'

/** The basic grids a user may open in the field app (a grid worker: theirs; township staff: the township's). */
export async function fieldGrids(sql: Sql, user: SessionUser) {
  const prefix = scopePrefix(user.unitCode)
  return sql`
    SELECT g.code, g.name, v.name AS village FROM grids g JOIN admin_units v ON v.id = g.village_id
    WHERE g.kind = 'basic' AND g.code LIKE ${prefix + '%'} ORDER BY g.code LIMIT 500`
}

/**
 * Everything the phone keeps for one grid: its outline, the 三查 tasks still
 * open (overdue first), the households by when their visit is due (overdue
 * first), the open transfer orders' households with their status, and the
 * shelters, routes and hazard sites that concern the grid. Inside the
 * reader's area only; names masked as the ledger masks them.
 */
export async function gridToday(sql: Sql, user: SessionUser, gridCode: string, now: Date) {
  if (!inScope(user.unitCode, gridCode)) throw forbiddenScope(user.unitCode, gridCode)
  const [grid] = await sql`
    SELECT g.id, g.code, g.name, v.name AS village, t.name AS township,
           ST_AsGeoJSON(g.geom, 5)::json AS outline,
           json_build_array(ST_XMin(g.geom), ST_YMin(g.geom), ST_XMax(g.geom), ST_YMax(g.geom)) AS bbox,
           -- A point surely inside the grid (a centroid may fall outside it): where a report goes when the phone has no position.
           json_build_array(round(ST_X(ST_PointOnSurface(g.geom))::numeric, 6), round(ST_Y(ST_PointOnSurface(g.geom))::numeric, 6)) AS center
    FROM grids g JOIN admin_units v ON v.id = g.village_id JOIN admin_units t ON t.id = v.parent_id
    WHERE g.code = ${gridCode} AND g.kind = 'basic'`
  if (!grid) throw notFound(GRID, gridCode)
  const nowIso = now.toISOString()

  const tasks = await sql`
    SELECT t.id::int AS id, t.phase, t.target_kind AS "targetKind", t.target_name AS "targetName", t.target_code AS "targetCode",
           t.due_at AS "dueAt", t.status, t.due_at < ${nowIso}::timestamptz AS overdue, t.items, t.version
    FROM tasks t
    WHERE t.unit_code = ${gridCode} AND t.status IN ('not_started', 'in_progress') AND t.event_id IN ${eventIds(sql, 'current')}
    ORDER BY (t.due_at < ${nowIso}::timestamptz) DESC, t.due_at, t.id`

  // A cadre's account (包保责任人) sees the households they answer for; everyone else the grid's all.
  const [me] = await sql<{ cadre: number | null; name: string | null }[]>`
    SELECT u.worker_id AS cadre, w.name FROM users u LEFT JOIN grid_workers w ON w.id = u.worker_id WHERE u.id = ${user.id}`
  const cadre = me?.cadre ?? null
  const open = mayReadPersonal(user, gridCode)
  const rows = await sql<{ id: number; code: string; householder: string; phone: string | null; members: number; vulnerable: number;
                           risk: Risk; lastVisitAt: Date | null; lon: number; lat: number }[]>`
    SELECT h.id, h.code, h.householder, h.phone, h.members, h.vulnerable, h.risk_level AS risk, h.last_visit_at AS "lastVisitAt",
           round(ST_X(h.geom)::numeric, 6)::float8 AS lon, round(ST_Y(h.geom)::numeric, 6)::float8 AS lat
    FROM households h WHERE h.grid_id = ${grid.id as number} AND (${cadre}::int IS NULL OR h.cadre_id = ${cadre}::int)`
  // The newest photos of each household's visits and of each task's items: thumbnails on the phone's lists.
  const hPhotos = !rows.length ? [] : await sql<{ household: number; ids: number[] }[]>`
    SELECT substr(target, 11)::int AS household, (array_agg(id::int ORDER BY taken_at DESC, id DESC))[1:3] AS ids FROM field_photos
    WHERE target = ANY(${rows.map((h) => `household:${h.id}`)}::text[]) GROUP BY target`
  const byHousehold = new Map(hPhotos.map((p) => [Number(p.household), p.ids.map(Number)]))
  const households = rows
    .map((h) => ({
      ...(open ? h : maskPersonal(h)), intervalDays: visitIntervalDays[h.risk], ...visitDue(h.risk, h.lastVisitAt, now), photos: byHousehold.get(h.id) ?? [],
    }))
    .sort(byDue)

  const tPhotos = tasks.length ? await sql<{ task: number; item: number; id: number }[]>`
    SELECT split_part(substr(target, 6), '/', 1)::int AS task, split_part(target, '/', 2)::int AS item, id::int AS id FROM field_photos
    WHERE target LIKE ANY(${tasks.map((t) => `task:${t.id}/%`)}::text[]) ORDER BY taken_at DESC, id DESC LIMIT 200` : []
  for (const t of tasks) t.photos = tPhotos.filter((p) => Number(p.task) === t.id).map((p) => ({ item: Number(p.item), id: Number(p.id) }))

  const transfer = await sql`
    SELECT e.order_id AS "orderId", e.household_id AS "householdId", e.status, e.people, e.members, e.vulnerable, e.reason,
           e.shelter_id AS "shelterId", e.route_id AS "routeId", e.updated_at AS "updatedAt"
    FROM evac_households e JOIN evac_orders o ON o.id = e.order_id
    WHERE e.grid_code = ${gridCode} AND o.status = 'active'
      AND (${cadre}::int IS NULL OR e.household_id IN (SELECT id FROM households WHERE cadre_id = ${cadre}::int))
    ORDER BY e.order_id, e.household_id`
  const orderIds = [...new Set(transfer.map((r) => r.orderId as number))]
  const orders = orderIds.length
    ? await sql`SELECT id, title, stage, deadline, issued_at AS "issuedAt" FROM evac_orders WHERE id = ANY(${orderIds}::int[]) ORDER BY id`
    : []

  // Sites threatening the grid's households, their routes and shelters, and the shelters orders send the grid to.
  const hazards = await sql`
    SELECT DISTINCT s.id, s.name, s.type, s.danger_level AS "dangerLevel", round(ST_X(s.geom)::numeric, 6)::float8 AS lon,
           round(ST_Y(s.geom)::numeric, 6)::float8 AS lat
    FROM hazard_threats ht JOIN households h ON h.id = ht.household_id JOIN hazard_sites s ON s.id = ht.hazard_id
    WHERE h.grid_id = ${grid.id as number} AND s.status = 'active' ORDER BY s.id`
  const hazardIds = hazards.map((h) => h.id as number)
  const routes = hazardIds.length
    ? await sql`SELECT r.id, r.hazard_id AS "hazardId", r.shelter_id AS "shelterId", r.length_m AS "lengthM", ST_AsGeoJSON(r.geom, 5)::json AS line
                FROM routes r WHERE r.hazard_id = ANY(${hazardIds}::int[]) ORDER BY r.id`
    : []
  const shelterIds = [...new Set([...routes.map((r) => r.shelterId as number), ...transfer.map((r) => r.shelterId as number | null).filter((x) => x !== null)])]
  const shelters = shelterIds.length
    ? await sql`SELECT s.id, s.name, s.kind, s.capacity, s.certified_safe AS certified, s.manager, s.manager_phone AS "managerPhone",
                       round(ST_X(s.geom)::numeric, 6)::float8 AS lon, round(ST_Y(s.geom)::numeric, 6)::float8 AS lat
                FROM shelters s WHERE s.id = ANY(${shelterIds}::int[]) ORDER BY s.id`
    : []
  return { at: now, grid, cadre: cadre === null ? null : { id: cadre, name: me.name }, tasks, households, orders, transfer, hazards, routes, shelters }
}

export const gridRequired = () =>
  new HttpError(400, 'grid_required', '请选择一个网格（grid=15 位网格编码）', 'choose a grid (grid=a 15-digit grid code)')
