import { z } from 'zod'
import type { SessionUser } from '../auth/guard.ts'
import { inScope, scopePrefix } from '../auth/policy.ts'
import type { Sql } from '../db/connect.ts'
import { writeTx, type Tx } from '../db/write.ts'
import { HttpError } from '../errors.ts'
import { publish } from '../events/publish.ts'
import { assignShelters, type Candidate } from './assign.ts'
import { notifyEvacTiles } from './updates.ts'

export const ORDER = { zh: '转移指令', en: 'transfer order' }

/** How far a household is sent to a shelter other than its planned one. */
export const SHELTER_REACH_M = 8000

const position = z.tuple([z.number().min(-180).max(180), z.number().min(-90).max(90)])
const ring = z.array(position).min(4).max(5000)
const area = z.union([
  z.object({ type: z.literal('Polygon'), coordinates: z.array(ring).min(1).max(50) }).strict(),
  z.object({ type: z.literal('MultiPolygon'), coordinates: z.array(z.array(ring).min(1).max(50)).min(1).max(50) }).strict(),
])
const code = z.string().regex(/^[0-9]{12}$/, '须为12位区划代码 / a 12-digit admin code')
const id = z.number().int().positive().max(2147483647)

export const orderBody = z
  .object({
    title: z.string().trim().min(1).max(80).optional(),
    stage: z.enum(['vulnerable', 'everyone']),
    trigger: z.object({ kind: z.enum(['warning', 'site_alert', 'forecast', 'manual']), ref: z.record(z.string(), z.unknown()).optional() }).strict(),
    sites: z.array(id).max(5000).default([]),
    grids: z.array(id).max(50000).default([]),
    units: z.array(code).max(200).default([]),
    area: area.optional(),
    /** Minutes from now, or an ISO time with offset. */
    deadline: z.union([z.number().int().min(5).max(7 * 24 * 60), z.iso.datetime({ offset: true })]).default(120),
    note: z.string().max(500).optional(),
    dryRun: z.boolean().default(false),
  })
  .strict()
  .refine((b) => b.sites.length + b.grids.length + b.units.length > 0 || b.area, {
    message: '须指定隐患点、网格、区域或所画范围 / name hazard sites, grids, areas or a drawn area',
  })
export type OrderBody = z.infer<typeof orderBody>

export interface OrderSummary {
  households: number
  people: number
  vulnerable: number
  planned: number
  nearest: number
  shortfall: { households: number; people: number }
  /** Already moving under another open order: left where they are. */
  alreadyInTransfer: number
  /** Inside the chosen sites/area but outside the issuer's area. */
  outsideScope: number
  /** Planned shelters skipped because they are not certified safe. */
  uncertifiedPlanned: number
}

/** The smallest admin unit holding every grid code: village, township, county or the city. */
export function commonUnit(gridCodes: string[]): string {
  const same = (n: number) => gridCodes.every((g) => g.slice(0, n) === gridCodes[0].slice(0, n))
  const c = gridCodes[0]
  if (same(12)) return c.slice(0, 12)
  if (same(9)) return c.slice(0, 9) + '000'
  if (same(6)) return c.slice(0, 6) + '000000'
  return c.slice(0, 4) + '00000000'
}

interface Row extends Candidate {
  gridCode: string
  cadreId: number | null
  routeId: number | null
  plannedShelter: number | null
  certified: boolean | null
  inScope: boolean
  busy: boolean
}

/** The households an order reaches: threatened by the sites, in the grids or units, inside the area. */
async function affected(tx: Tx, user: SessionUser, b: OrderBody): Promise<Row[]> {
  const area = b.area ? JSON.stringify(b.area) : null
  if (area) {
    const [v] = await tx<{ ok: boolean; why: string }[]>`
      SELECT ST_IsValid(g) AS ok, ST_IsValidReason(g) AS why FROM (SELECT ST_SetSRID(ST_GeomFromGeoJSON(${area}), 4326) AS g) x`
    if (!v.ok) throw new HttpError(400, 'bad_area', `所画范围不是有效的多边形：${v.why}`, `the drawn area is not a valid polygon: ${v.why}`)
  }
  const prefixes = b.units.map((u) => scopePrefix(u) + '%')
  const vulnerableOnly = b.stage === 'vulnerable'
  return tx<Row[]>`
    WITH chosen AS (
      SELECT t.household_id AS id, t.hazard_id FROM hazard_threats t JOIN hazard_sites s ON s.id = t.hazard_id
      WHERE t.hazard_id = ANY(${b.sites}::int[]) AND s.status = 'active'
      UNION ALL
      SELECT h.id, NULL FROM households h JOIN grids g ON g.id = h.grid_id WHERE g.id = ANY(${b.grids}::int[]) AND g.kind = 'basic'
      UNION ALL
      SELECT h.id, NULL FROM households h JOIN grids g ON g.id = h.grid_id WHERE g.code LIKE ANY(${prefixes}::text[])
      UNION ALL
      SELECT h.id, NULL FROM households h
      WHERE ${area}::text IS NOT NULL AND ST_Intersects(h.geom, ST_SetSRID(ST_GeomFromGeoJSON(${area}), 4326))
    ), hh AS (SELECT id, min(hazard_id) AS hazard_id FROM chosen GROUP BY id)
    SELECT h.id, h.members::int, h.vulnerable::int, h.grid_id AS "gridId", g.code AS "gridCode", h.cadre_id AS "cadreId",
           coalesce(hh.hazard_id, (SELECT min(t.hazard_id) FROM hazard_threats t WHERE t.household_id = h.id)) AS "hazardId",
           r.id AS "routeId", r.shelter_id AS "plannedShelter", sh.certified_safe AS certified,
           g.code LIKE ${scopePrefix(user.unitCode) + '%'} AS "inScope",
           EXISTS (SELECT 1 FROM evac_households e WHERE e.household_id = h.id AND e.open) AS busy
    FROM hh JOIN households h ON h.id = hh.id JOIN grids g ON g.id = h.grid_id
    LEFT JOIN LATERAL (
      SELECT r.id, r.shelter_id FROM routes r
      WHERE r.hazard_id = coalesce(hh.hazard_id, (SELECT min(t.hazard_id) FROM hazard_threats t WHERE t.household_id = h.id))
      ORDER BY r.length_m, r.id LIMIT 1) r ON true
    LEFT JOIN shelters sh ON sh.id = r.shelter_id
    WHERE NOT ${vulnerableOnly} OR h.vulnerable > 0`
}

/**
 * Issues (or, with dryRun, previews) a transfer order: the households it
 * reaches, each with its shelter, route and answerable cadre, in one
 * transaction. Orders are issued one at a time so two never promise the same
 * shelter places.
 */
export async function issueOrder(sql: Sql, user: SessionUser, b: OrderBody): Promise<{ order: Record<string, unknown> | null; summary: OrderSummary }> {
  for (const u of b.units) {
    if (!inScope(user.unitCode, u) && !inScope(u, user.unitCode)) {
      throw new HttpError(403, 'forbidden_scope', `超出您的管辖范围（${user.unitCode}）：${u}`, `outside your area (${user.unitCode}): ${u}`)
    }
  }
  const run = async (tx: Tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtext('gridwatch.evac_orders'))`
    const rows = await affected(tx, user, b)
    const outsideScope = rows.filter((r) => !r.inScope).length
    const busy = rows.filter((r) => r.inScope && r.busy).length
    const todo = rows.filter((r) => r.inScope && !r.busy)
    if (!todo.length) {
      if (!rows.length) throw new HttpError(400, 'no_households', '所选范围内没有需转移的住户', 'there is no household to move in what you chose')
      if (!rows.some((r) => r.inScope)) throw new HttpError(403, 'forbidden_scope', `所选住户都不在您的管辖范围（${user.unitCode}）内`, `none of these households is in your area (${user.unitCode})`)
      throw new HttpError(409, 'already_in_transfer', `所选 ${busy} 户已在其他转移指令中`, `all ${busy} households are already under another open transfer order`)
    }
    const uncertifiedPlanned = todo.filter((r) => r.plannedShelter != null && !r.certified).length
    for (const r of todo) r.planned = r.certified ? r.plannedShelter : null
    const gridIds = [...new Set(todo.map((r) => r.gridId))]
    const near = await tx<{ gridId: number; shelters: number[] }[]>`
      SELECT g.id AS "gridId", array_agg(s.id ORDER BY s.d) AS shelters
      FROM grids g CROSS JOIN LATERAL (
        SELECT x.id, x.geom, x.geom <-> g.label_point AS d FROM shelters x WHERE x.certified_safe
        ORDER BY x.geom <-> g.label_point LIMIT 8) s
      WHERE g.id = ANY(${gridIds}::int[]) AND ST_DWithin(s.geom::geography, g.label_point::geography, ${SHELTER_REACH_M})
      GROUP BY g.id`
    const nearby = new Map(near.map((n) => [n.gridId, n.shelters]))
    const shelterIds = [...new Set([...near.flatMap((n) => n.shelters), ...todo.flatMap((r) => (r.planned ? [r.planned] : []))])]
    const rooms = await tx<{ id: number; room: number }[]>`
      SELECT s.id, s.capacity - coalesce(sum(e.members), 0)::int AS room FROM shelters s
      LEFT JOIN evac_households e ON e.shelter_id = s.id AND e.open
      WHERE s.id = ANY(${shelterIds}::int[]) GROUP BY s.id`
    const assigned = assignShelters(todo, nearby, new Map(rooms.map((r) => [r.id, r.room])))
    const lost = todo.filter((r) => assigned.get(r.id)!.how === 'none')
    const summary: OrderSummary = {
      households: todo.length,
      people: todo.reduce((n, r) => n + r.members, 0),
      vulnerable: todo.reduce((n, r) => n + r.vulnerable, 0),
      planned: todo.filter((r) => assigned.get(r.id)!.how === 'planned').length,
      nearest: todo.filter((r) => assigned.get(r.id)!.how === 'nearest').length,
      shortfall: { households: lost.length, people: lost.reduce((n, r) => n + r.members, 0) },
      alreadyInTransfer: busy,
      outsideScope,
      uncertifiedPlanned,
    }
    if (b.dryRun) return { order: null, summary }

    const unitCode = commonUnit(todo.map((r) => r.gridCode))
    const deadline = typeof b.deadline === 'number' ? new Date(Date.now() + b.deadline * 60_000) : new Date(b.deadline)
    if (deadline.getTime() <= Date.now()) throw new HttpError(400, 'bad_deadline', '转移时限须晚于当前时间', 'the deadline must be in the future')
    const title = b.title ?? (b.stage === 'vulnerable' ? '弱势群体优先转移' : '受威胁群众全部转移')
    const [order] = await tx`
      INSERT INTO evac_orders (unit_code, title, stage, trigger_kind, trigger_ref, scope, area, deadline, issued_by, issued_by_name, note)
      VALUES (${unitCode}, ${title}, ${b.stage}, ${b.trigger.kind}, ${b.trigger.ref ? tx.json(b.trigger.ref as never) : null},
              ${tx.json({ sites: b.sites, grids: b.grids, units: b.units, area: b.area ?? null } as never)},
              ${b.area ? tx`ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(${JSON.stringify(b.area)}), 4326))` : null},
              ${deadline}, ${user.id}, ${user.displayName}, ${b.note ?? null})
      RETURNING id, unit_code AS "unitCode", title, stage, trigger_kind AS "triggerKind", deadline, status, issued_at AS "issuedAt", version`
    const col = <K extends keyof Row>(k: K) => todo.map((r) => r[k])
    const inserted = await tx`
      INSERT INTO evac_households (order_id, household_id, grid_code, members, vulnerable, hazard_id, shelter_id, route_id, cadre_id)
      SELECT ${order.id as number}, u.* FROM unnest(${col('id')}::int[], ${col('gridCode')}::text[], ${col('members')}::int[],
        ${col('vulnerable')}::int[], ${col('hazardId')}::int[], ${todo.map((r) => assigned.get(r.id)!.shelterId)}::int[],
        ${todo.map((r) => (assigned.get(r.id)!.how === 'planned' ? r.routeId : null))}::int[], ${col('cadreId')}::int[]) u
      ON CONFLICT (household_id) WHERE open DO NOTHING
      RETURNING household_id`
    if (inserted.length !== todo.length) {
      // Another order took some of them meanwhile (it cannot: orders are issued under one lock).
      throw new HttpError(409, 'already_in_transfer', '部分住户刚被其他指令纳入，请重试', 'some households were just taken by another order; retry')
    }
    await notifyEvacTiles(tx, order.id as number, col('id'))
    await publish(tx, 'evac.order', unitCode, { orderId: order.id, action: 'issued', title, stage: b.stage, ...summaryPayload(summary) })
    return { order, summary }
  }
  return writeTx(sql, user, run)
}

const summaryPayload = (s: OrderSummary) => ({ households: s.households, people: s.people, shortfall: s.shortfall })
