import type { SessionUser } from '../auth/guard.ts'
import { mayReadPersonal } from '../auth/guard.ts'
import { maskPersonal } from '../auth/mask.ts'
import { scopePrefix } from '../../core/units.ts'
import type { Sql } from '../../db/connect.ts'
import { notFound } from '../../core/errors.ts'
import { orderHouseholds } from './progress.ts'

const HAZARD = { zh: '隐患点', en: 'hazard site' }
const HOUSEHOLD = { zh: '农户', en: 'household' }

/**
 * The printable transfer lists of an order: for each answerable cadre
 * (包保责任人), whom to move, from where, by which route, to which shelter.
 */
export async function cadreLists(sql: Sql, user: SessionUser, orderId: number, unit?: string) {
  const all = await orderHouseholds(sql, user, orderId, { grid: unit, limit: 100_000, offset: 0 })
  const byCadre = new Map<string, { cadre: unknown; households: typeof all.households }>()
  for (const h of all.households) {
    const c = h.cadre as { id: number } | null
    const key = c ? String(c.id) : 'none'
    if (!byCadre.has(key)) byCadre.set(key, { cadre: c, households: [] })
    byCadre.get(key)!.households.push(h)
  }
  return { order: all.order, total: all.total, lists: [...byCadre.values()] }
}

/**
 * A site's plan: the six things every hazard site must have fixed (六落实).
 * The ledger names the monitor; the official answerable is the village's
 * 包保责任人 and the reporter the grid head (网格长) of the site's grid, the
 * people the field assigns those duties to.
 */
export async function sitePlan(sql: Sql, id: number) {
  const [p] = await sql`
    SELECT s.id, s.code, s.name, s.type, s.warning_signal AS "warningSignal", s.threatened_households AS "threatenedHouseholds",
           s.threatened_people AS "threatenedPeople",
           (SELECT json_build_object('name', w.name, 'phone', w.phone) FROM grid_workers w
            WHERE w.village_id = v.id AND w.role = '包保责任人' ORDER BY w.id LIMIT 1) AS official,
           (SELECT json_build_object('name', w.name, 'phone', w.phone) FROM grid_workers w WHERE w.id = s.monitor_id) AS monitor,
           (SELECT json_build_object('name', w.name, 'phone', w.phone) FROM grid_workers w JOIN grids g ON g.id = w.grid_id
            WHERE g.kind = 'basic' AND ST_Intersects(g.geom, s.geom) AND w.role = '网格长' ORDER BY w.id LIMIT 1) AS reporter,
           (SELECT json_agg(json_build_object('id', r.id, 'lengthM', r.length_m, 'from', r.from_name) ORDER BY r.length_m) FROM routes r
            WHERE r.hazard_id = s.id) AS routes,
           (SELECT json_agg(json_build_object('id', x.id, 'name', x.name, 'capacity', x.capacity, 'certifiedSafe', x.certified_safe,
                                              'manager', x.manager, 'managerPhone', x.manager_phone))
            FROM shelters x WHERE x.id IN (SELECT shelter_id FROM routes r WHERE r.hazard_id = s.id)) AS shelters,
           v.code AS "villageCode"
    FROM hazard_sites s JOIN admin_units v ON v.code = s.admin_code WHERE s.id = ${id}`
  if (!p) throw notFound(HAZARD, String(id))
  const fixed = {
    official: p.official != null,
    monitor: p.monitor != null,
    reporter: p.reporter != null,
    warningSignal: !!p.warningSignal,
    route: p.routes != null,
    shelter: p.shelters != null,
  }
  return { ...p, fixed, complete: Object.values(fixed).every(Boolean) }
}

/**
 * A household's 避险明白卡: where it would go and who answers for it, and
 * where it stands in an open transfer, if any.
 */
export async function householdCard(sql: Sql, user: SessionUser | undefined, id: number) {
  const [h] = await sql`
    SELECT h.id, h.code, h.householder, h.phone, h.members, h.vulnerable, g.code AS "gridCode", g.name AS "gridName",
           (SELECT json_agg(json_build_object('id', z.id, 'name', z.name, 'type', z.type, 'signal', z.warning_signal,
                   'monitor', (SELECT json_build_object('name', w.name, 'phone', w.phone) FROM grid_workers w WHERE w.id = z.monitor_id),
                   'route', (SELECT json_build_object('id', r.id, 'lengthM', r.length_m) FROM routes r WHERE r.hazard_id = z.id ORDER BY r.length_m LIMIT 1),
                   'shelter', (SELECT json_build_object('id', x.id, 'name', x.name, 'certifiedSafe', x.certified_safe, 'manager', x.manager,
                                                        'managerPhone', x.manager_phone)
                               FROM routes r JOIN shelters x ON x.id = r.shelter_id WHERE r.hazard_id = z.id ORDER BY r.length_m LIMIT 1)))
            FROM hazard_threats t JOIN hazard_sites z ON z.id = t.hazard_id WHERE t.household_id = h.id) AS hazards,
           CASE WHEN w.id IS NULL THEN NULL ELSE json_build_object('name', w.name, 'phone', w.phone, 'role', w.role) END AS cadre,
           (SELECT json_build_object('orderId', e.order_id, 'title', o.title, 'status', e.status, 'deadline', o.deadline,
                                     'shelter', (SELECT x.name FROM shelters x WHERE x.id = e.shelter_id))
            FROM evac_households e JOIN evac_orders o ON o.id = e.order_id WHERE e.household_id = h.id AND e.open) AS transfer
    FROM households h JOIN grids g ON g.id = h.grid_id LEFT JOIN grid_workers w ON w.id = h.cadre_id WHERE h.id = ${id}`
  if (!h) throw notFound(HOUSEHOLD, String(id))
  const open = mayReadPersonal(user, h.gridCode as string)
  return { ...(open ? h : maskPersonal(h)), masked: !open }
}

/**
 * What the 1262 ladder asks for and nobody has ordered yet: each open 6 h /
 * 2 h step of a storm event, per township, as an order a commander can
 * confirm (6 h → vulnerable people first, 2 h or night → everyone threatened).
 */
export async function ladderProposals(sql: Sql, user: SessionUser) {
  const mine = scopePrefix(user.unitCode)
  return sql`
    WITH steps AS (
      SELECT t.event_id, t.step, left(t.unit_code, 9) || '000' AS township,
             bool_or(t.target_kind = 'household' AND h.vulnerable = 0) AS everyone, min(t.due_at) AS due
      FROM tasks t JOIN rain_events e ON e.id = t.event_id LEFT JOIN households h ON t.target_kind = 'household' AND h.id = t.target_id
      WHERE t.phase = 'before' AND t.step IN ('6h', '2h') AND e.closed_at IS NULL AND t.unit_code LIKE ${mine + '%'}
      GROUP BY 1, 2, 3)
    SELECT * FROM (
      SELECT s.event_id AS "eventId", s.step, s.township, a.name AS "townshipName", s.due,
             -- core/rules/ladder.ts proposedStage
             CASE WHEN s.step = '2h' OR s.everyone THEN 'everyone' ELSE 'vulnerable' END AS stage,
             (SELECT array_agg(z.id ORDER BY z.id) FROM hazard_sites z
              WHERE z.admin_code LIKE left(s.township, 9) || '%' AND z.status = 'active' AND z.threatened_households > 0) AS sites
      FROM steps s JOIN admin_units a ON a.code = s.township
      WHERE NOT EXISTS (SELECT 1 FROM evac_orders o WHERE o.trigger_kind = 'forecast' AND o.trigger_ref ->> 'eventId' = s.event_id::text
                          AND o.trigger_ref ->> 'step' = s.step AND o.trigger_ref ->> 'township' = s.township)) p
    -- A township with no threatened household has nobody to move.
    WHERE sites IS NOT NULL
    ORDER BY due, township`
}
