import { actionsOn, mayReadPersonal, type SessionUser } from '../auth/guard.ts'
import { maskPersonal } from '../auth/mask.ts'
import type { Sql } from '../../db/connect.ts'
import { notFound } from '../../core/errors.ts'
import type { RiskLevel } from '../../core/rules/risk.ts'
import { visitIntervalDays, visitOverdue } from '../../core/rules/visits.ts'
import { householdPhotos } from '../field/photos.ts'

export const HOUSEHOLD = { zh: '农户', en: 'household' }
export const GRID = { zh: '网格', en: 'grid' }
export const HAZARD = { zh: '隐患点', en: 'hazard site' }
export const SHELTER = { zh: '避险点', en: 'shelter' }

/**
 * A household's ledger record with its place, cadre, hazards and visit
 * due; names and numbers only for those who work with this household.
 */
export async function householdRecord(sql: Sql, user: SessionUser | undefined, id: number) {
  const [h] = await sql`
    SELECT h.id, h.code, h.householder, h.phone, h.members, h.elderly_alone, h.left_behind_children, h.disabled,
           h.vulnerable, h.risk_level, h.flood_exposed, h.measures, h.last_visit_at, h.version,
           ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat,
           CASE WHEN w.id IS NULL THEN NULL ELSE json_build_object('name', w.name, 'phone', w.phone, 'role', w.role) END AS cadre,
           json_build_object('id', g.id, 'code', g.code, 'name', g.name) AS grid,
           CASE WHEN m.id IS NULL THEN NULL ELSE json_build_object('id', m.id, 'code', m.code, 'name', m.name) END AS micro_grid,
           json_build_object('code', v.code, 'name', v.name) AS village,
           json_build_object('code', t.code, 'name', t.name) AS township,
           json_build_object('code', k.code, 'name', k.name) AS county,
           coalesce((SELECT json_agg(json_build_object('id', s.id, 'code', s.code, 'name', s.name, 'type', s.type) ORDER BY s.code)
                     FROM hazard_threats ht JOIN hazard_sites s ON s.id = ht.hazard_id WHERE ht.household_id = h.id), '[]') AS hazards
    FROM households h
    JOIN grids g ON g.id = h.grid_id
    LEFT JOIN grids m ON m.id = h.micro_grid_id
    JOIN admin_units v ON v.id = g.village_id JOIN admin_units t ON t.id = v.parent_id JOIN admin_units k ON k.id = t.parent_id
    LEFT JOIN grid_workers w ON w.id = h.cadre_id
    WHERE h.id = ${id}`
  if (!h) throw notFound(HOUSEHOLD, String(id))
  const risk = h.risk_level as RiskLevel
  const interval = visitIntervalDays[risk]
  const overdue = visitOverdue(risk, h.last_visit_at as Date | null, new Date())
  const gridCode = (h.grid as { code: string }).code
  const open = mayReadPersonal(user, gridCode)
  const can = actionsOn(user, gridCode, ['household.edit', 'household.visit', 'audit.read'])
  // Photos from the field (visits, 三查 items): thumbnails in the record, the photo on a click.
  const photos = await householdPhotos(sql, user, h.id as number, h.code as string, gridCode)
  return { ...(open ? h : maskPersonal(h)), masked: !open, can, visit_interval_days: interval, overdue, photos }
}

/** A grid (or micro-grid) with its outline, counts and workers, and what the user may do to it. */
export async function gridRecord(sql: Sql, user: SessionUser | undefined, id: number) {
  const [g] = await sql`
    SELECT g.id, g.code, g.name, g.kind, g.version,
           CASE WHEN p.id IS NULL THEN NULL ELSE json_build_object('id', p.id, 'code', p.code, 'name', p.name) END AS parent,
           json_build_object('code', v.code, 'name', v.name) AS village,
           json_build_array(ST_XMin(g.geom), ST_YMin(g.geom), ST_XMax(g.geom), ST_YMax(g.geom)) AS bbox,
           ST_AsGeoJSON(g.geom, 6)::json AS outline,
           json_build_object('households', coalesce(r.households, 0), 'red', coalesce(r.red, 0), 'yellow', coalesce(r.yellow, 0),
                             'green', coalesce(r.green, 0), 'people', coalesce(r.people, 0),
                             'vulnerable', coalesce(r.vulnerable, 0), 'exposed', coalesce(r.exposed, 0)) AS stats,
           coalesce((SELECT json_agg(json_build_object('name', w.name, 'phone', w.phone, 'role', w.role) ORDER BY w.role, w.id)
                     FROM grid_workers w WHERE w.grid_id = g.id), '[]') AS workers
    FROM grids g
    LEFT JOIN grids p ON p.id = g.parent_id
    JOIN admin_units v ON v.id = g.village_id
    LEFT JOIN household_rollups r ON r.level = CASE g.kind WHEN 'basic' THEN 'grid' ELSE 'micro' END AND r.unit_id = g.id
    WHERE g.id = ${id}`
  if (!g) throw notFound(GRID, String(id))
  return { ...g, can: actionsOn(user, g.code as string, ['grid.edit', 'audit.read']) }
}

/** A hazard site with its monitor and its routes to shelters. */
export async function hazardRecord(sql: Sql, id: number) {
  const [h] = await sql`
    SELECT s.id, s.code, s.name, s.admin_code, s.type, s.scale, s.threat_object, s.threatened_households, s.threatened_people,
           s.threatened_property::float8 AS threatened_property, s.danger_level, s.countermeasure, s.monitoring_method,
           s.warning_signal, s.trigger_factor, s.critical_rain_1h::float8 AS critical_rain_1h,
           s.critical_rain_24h::float8 AS critical_rain_24h, s.status, ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat,
           CASE WHEN w.id IS NULL THEN NULL ELSE json_build_object('name', w.name, 'phone', w.phone) END AS monitor,
           json_build_object('code', v.code, 'name', v.name) AS village,
           coalesce((SELECT json_agg(json_build_object('id', r.id, 'length_m', r.length_m,
                       'shelter', json_build_object('id', sh.id, 'name', sh.name, 'capacity', sh.capacity)) ORDER BY r.id)
                     FROM routes r JOIN shelters sh ON sh.id = r.shelter_id WHERE r.hazard_id = s.id), '[]') AS routes
    FROM hazard_sites s JOIN admin_units v ON v.code = s.admin_code LEFT JOIN grid_workers w ON w.id = s.monitor_id
    WHERE s.id = ${id}`
  if (!h) throw notFound(HAZARD, String(id))
  return h
}

/** A shelter and its village. */
export async function shelterRecord(sql: Sql, id: number) {
  const [s] = await sql`
    SELECT s.id, s.code, s.name, s.kind, s.capacity, s.certified_safe, s.manager, s.manager_phone,
           ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat, json_build_object('code', v.code, 'name', v.name) AS village
    FROM shelters s JOIN admin_units v ON v.id = s.village_id WHERE s.id = ${id}`
  if (!s) throw notFound(SHELTER, String(id))
  return s
}
