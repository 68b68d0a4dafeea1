import type { SessionUser } from '../auth/guard.ts'
import { mayReadPersonal } from '../auth/guard.ts'
import { maskPersonal } from '../auth/mask.ts'
import { inScope, scopePrefix } from '../../core/units.ts'
import type { Sql } from '../../db/connect.ts'
import { HttpError, notFound } from '../../core/errors.ts'
import { ORDER } from './order-body.ts'
import { safeStatuses, statuses } from '../../core/rules/transfer.ts'

const SAFE = safeStatuses as string[]

/** Orders the user may see: those inside their area, or covering it. */
export async function listOrders(sql: Sql, user: SessionUser, status?: 'active' | 'closed') {
  const mine = scopePrefix(user.unitCode)
  return sql`
    SELECT o.id, o.unit_code AS "unitCode", a.name AS "unitName", o.title, o.stage, o.trigger_kind AS "triggerKind",
           o.deadline, o.status, o.issued_by_name AS "issuedBy", o.issued_at AS "issuedAt", o.closed_at AS "closedAt", o.version,
           count(e.*)::int AS households, coalesce(sum(e.members), 0)::int AS people,
           (count(*) FILTER (WHERE e.status = ANY(${SAFE})))::int AS safe,
           (count(*) FILTER (WHERE e.status IN ('refused', 'unreachable')))::int AS exceptions
    FROM evac_orders o LEFT JOIN admin_units a ON a.code = o.unit_code
    LEFT JOIN evac_households e ON e.order_id = o.id AND e.grid_code LIKE ${mine + '%'}
    WHERE (o.unit_code LIKE ${mine + '%'} OR ${user.unitCode} LIKE rtrim(o.unit_code, '0') || '%')
      ${status ? sql`AND o.status = ${status}` : sql``}
    GROUP BY o.id, a.name ORDER BY o.status, o.issued_at DESC LIMIT 200`
}

async function orderRow(sql: Sql, user: SessionUser, id: number) {
  const [o] = await sql`
    SELECT o.id, o.unit_code AS "unitCode", a.name AS "unitName", o.title, o.stage, o.trigger_kind AS "triggerKind",
           o.trigger_ref AS "triggerRef", o.scope, o.deadline, o.status, o.issued_by_name AS "issuedBy", o.issued_at AS "issuedAt",
           o.closed_at AS "closedAt", o.note, o.version, ST_AsGeoJSON(o.area, 6)::json AS area
    FROM evac_orders o LEFT JOIN admin_units a ON a.code = o.unit_code WHERE o.id = ${id}`
  if (!o) throw notFound(ORDER, String(id))
  const code = o.unitCode as string
  if (!inScope(user.unitCode, code) && !inScope(code, user.unitCode)) {
    throw new HttpError(403, 'forbidden_scope', `超出您的管辖范围（${user.unitCode}）`, `outside your area (${user.unitCode})`)
  }
  return o
}

/** The deeper of two nested codes' prefixes: what a reader of `unit` inside their own area sees. */
function viewPrefix(user: SessionUser, unit: string | undefined): string {
  const mine = scopePrefix(user.unitCode)
  if (!unit) return mine
  const p = scopePrefix(unit)
  if (p.startsWith(mine)) return p
  if (mine.startsWith(p)) return mine
  throw new HttpError(403, 'forbidden_scope', `超出您的管辖范围（${user.unitCode}）：${unit}`, `outside your area (${user.unitCode}): ${unit}`)
}

const childLength: Record<number, number> = { 4: 6, 6: 9, 9: 12, 12: 15, 15: 15 }

interface ProgressRow {
  /** null on the per-shelter rows of the grouping */
  k: string | null
  status: string | null
  shelterId: number | null
  households: number
  people: number
  counted: number
  vulnerable: number
  noShelter: number
  noShelterPeople: number
}

/**
 * An order's progress as the reader sees it (inside their area, and inside
 * `unit` when given): households and people by status, a roll-up per child
 * unit, shelters filling against capacity, vulnerable people not yet safe.
 * The order's rows are read once, grouped two ways (child unit and status;
 * shelter), and added up here: four statements over a county order's
 * 300,000 rows took 0.8 s, and every open screen asks again on every change.
 * Names are joined to the groups, not to the rows.
 */
export async function orderProgress(sql: Sql, user: SessionUser, id: number, unit?: string) {
  const order = await orderRow(sql, user, id)
  const prefix = viewPrefix(user, unit)
  const len = childLength[prefix.length]
  const rows = await sql<ProgressRow[]>`
    SELECT k, status, shelter_id AS "shelterId",
           count(*)::int AS households, sum(members)::int AS people, coalesce(sum(people), 0)::int AS counted,
           sum(vulnerable)::int AS vulnerable, (count(*) FILTER (WHERE shelter_id IS NULL))::int AS "noShelter",
           coalesce(sum(members) FILTER (WHERE shelter_id IS NULL), 0)::int AS "noShelterPeople"
    FROM (SELECT left(grid_code, ${len}) AS k, status, shelter_id, members, people, vulnerable
          FROM evac_households WHERE order_id = ${id} AND grid_code LIKE ${prefix + '%'}) e
    GROUP BY GROUPING SETS ((k, status), (shelter_id))`
  const byUnit = rows.filter((r) => r.k !== null)
  const totals = Object.fromEntries(statuses.map((st) => [st, { households: 0, people: 0, counted: 0 }]))
  const v = { vulnerableNotSafe: 0, shortfallHouseholds: 0, shortfallPeople: 0 }
  const perChild = new Map<string, { households: number; people: number; safe: number; peopleSafe: number; notNotified: number; exceptions: number; vulnerableNotSafe: number }>()
  for (const r of byUnit) {
    const t = totals[r.status!]
    t.households += r.households
    t.people += r.people
    t.counted += r.counted
    const safe = SAFE.includes(r.status!)
    if (!safe) v.vulnerableNotSafe += r.vulnerable
    v.shortfallHouseholds += r.noShelter
    v.shortfallPeople += r.noShelterPeople
    let c = perChild.get(r.k!)
    if (!c) perChild.set(r.k!, (c = { households: 0, people: 0, safe: 0, peopleSafe: 0, notNotified: 0, exceptions: 0, vulnerableNotSafe: 0 }))
    c.households += r.households
    c.people += r.people
    if (safe) {
      c.safe += r.households
      c.peopleSafe += r.people
    } else c.vulnerableNotSafe += r.vulnerable
    if (r.status === 'not_notified') c.notNotified += r.households
    if (r.status === 'refused' || r.status === 'unreachable') c.exceptions += r.households
  }
  const codes = [...perChild.keys()].sort()
  const names = new Map((await sql<{ code: string; name: string }[]>`
    SELECT k AS code, coalesce(a.name, g.name) AS name FROM unnest(${codes}::text[]) k
    LEFT JOIN admin_units a ON a.code = rpad(k, 12, '0') AND length(k) < 15 LEFT JOIN grids g ON g.code = k AND length(k) = 15`).map((r) => [r.code, r.name]))
  const children = codes.map((code) => ({ code, name: names.get(code) ?? null, ...perChild.get(code)! }))
  const shelterIds = rows.flatMap((r) => (r.k === null && r.shelterId !== null ? [r.shelterId] : []))
  const shelters = await sql`
    SELECT s.id, s.name, s.capacity, s.certified_safe AS "certifiedSafe", ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat,
           sum(e.members) FILTER (WHERE e.order_id = ${id})::int AS assigned,
           coalesce(sum(e.people) FILTER (WHERE e.status = 'at_shelter'), 0)::int AS present,
           sum(e.members)::int AS "assignedAllOrders"
    FROM shelters s JOIN evac_households e ON e.shelter_id = s.id AND e.open
    WHERE s.id = ANY(${shelterIds}::int[])
    GROUP BY s.id ORDER BY s.name`
  return { order, view: prefix, totals, children, shelters, ...v }
}

export interface HouseholdFilter {
  grid?: string
  status?: string
  /** Only the exceptions: refused, unreachable, or no shelter found. */
  exceptions?: boolean
  cadre?: number
  limit: number
  offset: number
}

/** Each household of an order with its answer to when, who and how; names masked where the reader may not see them. */
export async function orderHouseholds(sql: Sql, user: SessionUser, id: number, f: HouseholdFilter) {
  const order = await orderRow(sql, user, id)
  const like = viewPrefix(user, f.grid) + '%'
  const where = sql`
    e.order_id = ${id} AND e.grid_code LIKE ${like}
    ${f.status ? sql`AND e.status = ${f.status}` : sql``}
    ${f.exceptions ? sql`AND (e.status IN ('refused', 'unreachable') OR e.shelter_id IS NULL)` : sql``}
    ${f.cadre ? sql`AND e.cadre_id = ${f.cadre}` : sql``}`
  const [{ total }] = await sql<{ total: number }[]>`SELECT count(*)::int AS total FROM evac_households e WHERE ${where}`
  const rows = await sql`
    SELECT h.id, h.code, h.householder, h.phone, e.members, e.vulnerable, e.status, e.people, e.reason,
           e.updated_at AS "updatedAt", e.updated_by AS "updatedBy", e.version, e.grid_code AS "gridCode", g.name AS "gridName",
           ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat,
           CASE WHEN e.hazard_id IS NULL THEN NULL ELSE json_build_object('id', z.id, 'name', z.name, 'type', z.type, 'signal', z.warning_signal) END AS hazard,
           CASE WHEN e.shelter_id IS NULL THEN NULL ELSE json_build_object('id', s.id, 'name', s.name, 'manager', s.manager,
             'managerPhone', s.manager_phone, 'certifiedSafe', s.certified_safe) END AS shelter,
           CASE WHEN e.route_id IS NULL THEN NULL ELSE json_build_object('id', r.id, 'lengthM', r.length_m, 'from', r.from_name) END AS route,
           CASE WHEN e.cadre_id IS NULL THEN NULL ELSE json_build_object('id', w.id, 'name', w.name, 'phone', w.phone, 'role', w.role) END AS cadre
    FROM evac_households e JOIN households h ON h.id = e.household_id
    LEFT JOIN grids g ON g.code = e.grid_code LEFT JOIN hazard_sites z ON z.id = e.hazard_id
    LEFT JOIN shelters s ON s.id = e.shelter_id LEFT JOIN routes r ON r.id = e.route_id LEFT JOIN grid_workers w ON w.id = e.cadre_id
    WHERE ${where} ORDER BY e.grid_code, h.code LIMIT ${f.limit} OFFSET ${f.offset}`
  const households = rows.map<Record<string, unknown>>((r) => (mayReadPersonal(user, r.gridCode as string) ? { ...r, masked: false } : { ...maskPersonal(r), masked: true }))
  return { order: { id: order.id, title: order.title, deadline: order.deadline, triggerKind: order.triggerKind, stage: order.stage }, total, limit: f.limit, offset: f.offset, households }
}

