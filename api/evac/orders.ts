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
    /** Every active hazard site inside these admin units (what a commander means by "the sites of this township"). */
    sitesIn: z.array(code).max(200).default([]),
    grids: z.array(id).max(50000).default([]),
    units: z.array(code).max(200).default([]),
    area: area.optional(),
    /** Minutes from now, or an ISO time with offset. */
    deadline: z.union([z.number().int().min(5).max(7 * 24 * 60), z.iso.datetime({ offset: true })]).default(120),
    note: z.string().max(500).optional(),
    dryRun: z.boolean().default(false),
  })
  .strict()
  .refine((b) => b.sites.length + b.sitesIn.length + b.grids.length + b.units.length > 0 || b.area, {
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

/**
 * The households an order reaches — threatened by the sites, in the grids or
 * units, inside the area — into the temporary table evac_pick, each with its
 * planned route and shelter, whether it lies in the issuer's area and whether
 * another open order already moves it. Joins, not per-row subqueries: a
 * county is 100,000s of households.
 */
async function pickHouseholds(tx: Tx, user: SessionUser, b: OrderBody) {
  const area = b.area ? JSON.stringify(b.area) : null
  if (area) {
    const [v] = await tx<{ ok: boolean; why: string }[]>`
      SELECT ST_IsValid(g) AS ok, ST_IsValidReason(g) AS why FROM (SELECT ST_SetSRID(ST_GeomFromGeoJSON(${area}), 4326) AS g) x`
    if (!v.ok) throw new HttpError(400, 'bad_area', `所画范围不是有效的多边形：${v.why}`, `the drawn area is not a valid polygon: ${v.why}`)
  }
  const prefixes = b.units.map((u) => scopePrefix(u) + '%')
  const sitePrefixes = b.sitesIn.map((u) => scopePrefix(u) + '%')
  const bySite = b.sites.length > 0 || sitePrefixes.length > 0
  const geom = tx`ST_SetSRID(ST_GeomFromGeoJSON(${area}), 4326)`
  // Only the selectors in use: an OR with an unused one would stop the planner
  // from starting at the grids (a county) or at the threats (a few sites).
  const chosen = [
    bySite ? tx`st.household_id IS NOT NULL` : null,
    b.grids.length ? tx`(g.id = ANY(${b.grids}::int[]) AND g.kind = 'basic')` : null,
    prefixes.length ? tx`g.code LIKE ANY(${prefixes}::text[])` : null,
    area ? tx`ST_Intersects(h.geom, ${geom})` : null,
  ].filter((x) => x !== null)
  const where = chosen.slice(1).reduce((acc, c) => tx`${acc} OR ${c}`, chosen[0])
  // Whole-county statements: hash joins in memory, and no JIT compile (seconds on PG15 for no gain here).
  await tx`SET LOCAL work_mem = '64MB'`
  await tx`SET LOCAL jit = off`
  await tx`
    CREATE TEMP TABLE evac_pick ON COMMIT DROP AS
    SELECT h.id, h.members::int AS members, h.vulnerable::int AS vulnerable, h.grid_id, g.code AS grid_code, h.cadre_id,
           ${bySite ? tx`coalesce(st.hazard_id, ht.hazard_id)` : tx`ht.hazard_id`} AS hazard_id, r.id AS route_id,
           CASE WHEN sh.certified_safe THEN r.shelter_id END AS planned,
           r.shelter_id IS NOT NULL AND NOT sh.certified_safe AS uncertified,
           g.code LIKE ${scopePrefix(user.unitCode) + '%'} AS in_scope,
           e.household_id IS NOT NULL AS busy
    FROM households h JOIN grids g ON g.id = h.grid_id
    ${bySite ? tx`LEFT JOIN (
      SELECT t.household_id, min(t.hazard_id) AS hazard_id FROM hazard_threats t JOIN hazard_sites s ON s.id = t.hazard_id
      WHERE (t.hazard_id = ANY(${b.sites}::int[]) OR s.admin_code LIKE ANY(${sitePrefixes}::text[])) AND s.status = 'active'
      GROUP BY t.household_id) st ON st.household_id = h.id` : tx``}
    LEFT JOIN (SELECT household_id, min(hazard_id) AS hazard_id FROM hazard_threats GROUP BY household_id) ht ON ht.household_id = h.id
    LEFT JOIN (SELECT DISTINCT ON (hazard_id) id, hazard_id, shelter_id FROM routes ORDER BY hazard_id, length_m, id) r
           ON r.hazard_id = ${bySite ? tx`coalesce(st.hazard_id, ht.hazard_id)` : tx`ht.hazard_id`}
    LEFT JOIN shelters sh ON sh.id = r.shelter_id
    LEFT JOIN evac_households e ON e.household_id = h.id AND e.open
    WHERE (${where}) AND (${b.stage !== 'vulnerable'} OR h.vulnerable > 0)`
}

/**
 * Issues (or, with dryRun, previews) a transfer order: the households it
 * reaches, each with its shelter, route and answerable cadre, in one
 * transaction. Orders are issued one at a time so two never promise the same
 * shelter places.
 */
export async function issueOrder(sql: Sql, user: SessionUser, b: OrderBody): Promise<{ order: Record<string, unknown> | null; summary: OrderSummary }> {
  for (const u of [...b.units, ...b.sitesIn]) {
    if (!inScope(user.unitCode, u) && !inScope(u, user.unitCode)) {
      throw new HttpError(403, 'forbidden_scope', `超出您的管辖范围（${user.unitCode}）：${u}`, `outside your area (${user.unitCode}): ${u}`)
    }
  }
  return writeTx(sql, user, async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtext('gridwatch.evac_orders'))`
    await pickHouseholds(tx, user, b)
    const [n] = await tx<{ all: number; mine: number; busy: number; todo: number; uncertified: number; first: string | null; last: string | null }[]>`
      SELECT count(*)::int AS all, (count(*) FILTER (WHERE in_scope))::int AS mine, (count(*) FILTER (WHERE in_scope AND busy))::int AS busy,
             (count(*) FILTER (WHERE in_scope AND NOT busy))::int AS todo,
             (count(*) FILTER (WHERE in_scope AND NOT busy AND uncertified))::int AS uncertified,
             min(grid_code) FILTER (WHERE in_scope AND NOT busy) AS first, max(grid_code) FILTER (WHERE in_scope AND NOT busy) AS last
      FROM evac_pick`
    if (!n.todo) {
      if (!n.all) throw new HttpError(400, 'no_households', '所选范围内没有需转移的住户', 'there is no household to move in what you chose')
      if (!n.mine) throw new HttpError(403, 'forbidden_scope', `所选住户都不在您的管辖范围（${user.unitCode}）内`, `none of these households is in your area (${user.unitCode})`)
      throw new HttpError(409, 'already_in_transfer', `所选 ${n.busy} 户已在其他转移指令中`, `all ${n.busy} households are already under another open transfer order`)
    }
    // One text value rather than 100,000s of rows: the greedy below needs five numbers a household.
    const [{ packed }] = await tx<{ packed: string }[]>`
      SELECT string_agg(concat_ws(',', id, members, vulnerable, grid_id, coalesce(hazard_id, 0), coalesce(planned, 0)), ';') AS packed
      FROM evac_pick WHERE in_scope AND NOT busy`
    const nums = packed.split(/[,;]/)
    const todo: Candidate[] = []
    for (let i = 0; i < nums.length; i += 6) {
      todo.push({ id: +nums[i], members: +nums[i + 1], vulnerable: +nums[i + 2], gridId: +nums[i + 3], hazardId: +nums[i + 4] || null, planned: +nums[i + 5] || null })
    }
    const near = await tx<{ gridId: number; shelters: number[] }[]>`
      SELECT g.id AS "gridId", array_agg(s.id ORDER BY s.d) AS shelters
      FROM grids g CROSS JOIN LATERAL (
        SELECT x.id, x.geom, x.geom <-> g.label_point AS d FROM shelters x WHERE x.certified_safe
        ORDER BY x.geom <-> g.label_point LIMIT 8) s
      WHERE g.id IN (SELECT DISTINCT grid_id FROM evac_pick WHERE in_scope AND NOT busy)
        AND ST_DWithin(s.geom::geography, g.label_point::geography, ${SHELTER_REACH_M})
      GROUP BY g.id`
    const nearby = new Map(near.map((x) => [x.gridId, x.shelters]))
    const shelterIds = [...new Set([...near.flatMap((x) => x.shelters), ...todo.flatMap((r) => (r.planned ? [r.planned] : []))])]
    const rooms = await tx<{ id: number; room: number }[]>`
      SELECT s.id, s.capacity - coalesce(sum(e.members), 0)::int AS room FROM shelters s
      LEFT JOIN evac_households e ON e.shelter_id = s.id AND e.open
      WHERE s.id = ANY(${shelterIds}::int[]) GROUP BY s.id`
    const assigned = assignShelters(todo, nearby, new Map(rooms.map((r) => [r.id, r.room])))
    const tally = { planned: 0, nearest: 0, none: 0, lostPeople: 0, people: 0, vulnerable: 0 }
    for (const r of todo) {
      const how = assigned.get(r.id)!.how
      tally[how]++
      if (how === 'none') tally.lostPeople += r.members
      tally.people += r.members
      tally.vulnerable += r.vulnerable
    }
    const summary: OrderSummary = {
      households: todo.length,
      people: tally.people,
      vulnerable: tally.vulnerable,
      planned: tally.planned,
      nearest: tally.nearest,
      shortfall: { households: tally.none, people: tally.lostPeople },
      alreadyInTransfer: n.busy,
      outsideScope: n.all - n.mine,
      uncertifiedPlanned: n.uncertified,
    }
    if (b.dryRun) return { order: null, summary }

    const unitCode = commonUnit([n.first!, n.last!])
    const deadline = typeof b.deadline === 'number' ? new Date(Date.now() + b.deadline * 60_000) : new Date(b.deadline)
    if (deadline.getTime() <= Date.now()) throw new HttpError(400, 'bad_deadline', '转移时限须晚于当前时间', 'the deadline must be in the future')
    const title = b.title ?? (b.stage === 'vulnerable' ? '弱势群体优先转移' : '受威胁群众全部转移')
    const [order] = await tx`
      INSERT INTO evac_orders (unit_code, title, stage, trigger_kind, trigger_ref, scope, area, deadline, issued_by, issued_by_name, note)
      VALUES (${unitCode}, ${title}, ${b.stage}, ${b.trigger.kind}, ${b.trigger.ref ? tx.json(b.trigger.ref as never) : null},
              ${tx.json({ sites: b.sites, sitesIn: b.sitesIn, grids: b.grids, units: b.units, area: b.area ?? null } as never)},
              ${b.area ? tx`ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(${JSON.stringify(b.area)}), 4326))` : null},
              ${deadline}, ${user.id}, ${user.displayName}, ${b.note ?? null})
      RETURNING id, unit_code AS "unitCode", title, stage, trigger_kind AS "triggerKind", deadline, status, issued_at AS "issuedAt", version`
    const sent = todo.filter((r) => assigned.get(r.id)!.shelterId != null)
    const inserted = await tx`
      INSERT INTO evac_households (order_id, household_id, grid_code, members, vulnerable, hazard_id, shelter_id, route_id, cadre_id)
      SELECT ${order.id as number}, p.id, p.grid_code, p.members, p.vulnerable, p.hazard_id, a.shelter,
             CASE WHEN a.shelter = p.planned THEN p.route_id END, p.cadre_id
      FROM evac_pick p
      LEFT JOIN unnest(${sent.map((r) => r.id)}::int[], ${sent.map((r) => assigned.get(r.id)!.shelterId)}::int[]) a(id, shelter) ON a.id = p.id
      WHERE p.in_scope AND NOT p.busy
      ON CONFLICT (household_id) WHERE open DO NOTHING`
    if (inserted.count !== todo.length) {
      // Orders are issued under one lock, so only a writer outside this code could have taken them.
      throw new HttpError(409, 'already_in_transfer', '部分住户刚被其他指令纳入，请重试', 'some households were just taken by another order; retry')
    }
    await notifyEvacTiles(tx, order.id as number)
    await publish(tx, 'evac.order', unitCode, { orderId: order.id, action: 'issued', title, stage: b.stage, ...summaryPayload(summary) })
    return { order, summary }
  })
}

const summaryPayload = (s: OrderSummary) => ({ households: s.households, people: s.people, shortfall: s.shortfall })
