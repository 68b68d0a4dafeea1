import type { SessionUser } from '../auth/guard.ts'
import { commonUnit, inScope } from '../../core/units.ts'
import type { Sql } from '../../db/connect.ts'
import { writeTx, type Tx } from '../../db/write.ts'
import { HttpError } from '../../core/errors.ts'
import { log } from '../../core/log.ts'
import { publish } from '../events/publish.ts'
import { assignShelters, nearestShelters, type Place } from '../../core/rules/shelters.ts'
import { insertTransferRows } from './insert-rows.ts'
import { pickHouseholds } from './pick.ts'
import type { OrderInput } from './order-body.ts'
import { notifyEvacTiles } from './tile-notice.ts'

/** How far a household is sent to a shelter other than its planned one. */
export const SHELTER_REACH_M = 8000
/** More than SHELTER_REACH_M in degrees of latitude, and of longitude as far north as Zhaotong (~29°N). */
const REACH_DEGREES = 0.1

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

/**
 * Issues (or, with dryRun, previews) a transfer order: the households it
 * reaches, each with its shelter, route and answerable cadre, in one
 * transaction. Orders are issued one at a time so two never promise the same
 * shelter places.
 */
export async function issueOrder(sql: Sql, user: SessionUser, b: OrderInput, opts: { copy: boolean } = { copy: false },
  /** More to write in the order's transaction once it is in (a report's timeline step): both or neither. */
  alsoIn?: (tx: Tx, order: { id: number; title: string }) => Promise<void>,
): Promise<{ order: Record<string, unknown> | null; summary: OrderSummary }> {
  for (const u of [...b.units, ...b.sitesIn]) {
    if (!inScope(user.unitCode, u) && !inScope(u, user.unitCode)) {
      throw new HttpError(403, 'forbidden_scope', `超出您的管辖范围（${user.unitCode}）：${u}`, `outside your area (${user.unitCode}): ${u}`)
    }
  }
  const issued = await writeTx(sql, user, async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtext('gridwatch.evac_orders'))`
    const picked = await pickHouseholds(tx, user, b)
    const mine = picked.filter((p) => p.inScope)
    const todo = mine.filter((p) => !p.busy)
    const busy = mine.length - todo.length
    if (!todo.length) {
      if (!picked.length) throw new HttpError(400, 'no_households', '所选范围内没有需转移的住户', 'there is no household to move in what you chose')
      if (!mine.length) throw new HttpError(403, 'forbidden_scope', `所选住户都不在您的管辖范围（${user.unitCode}）内`, `none of these households is in your area (${user.unitCode})`)
      throw new HttpError(409, 'already_in_transfer', `所选 ${busy} 户已在其他转移指令中`, `all ${busy} households are already under another open transfer order`)
    }
    // The grids (their codes, and their label points for the distance to shelters) and the shelters in reach,
    // with the room each has left under every open order.
    const grids = await tx<(Place & { code: string })[]>`
      SELECT g.id, g.code, ST_X(g.label_point) AS lon, ST_Y(g.label_point) AS lat FROM grids g
      WHERE g.id = ANY(${[...new Set(todo.map((r) => r.gridId))]}::int[])`
    const gridCode = new Map(grids.map((g) => [g.id, g.code]))
    const pad = REACH_DEGREES
    const box = grids.reduce((b, g) => [Math.min(b[0], g.lon - pad), Math.min(b[1], g.lat - pad), Math.max(b[2], g.lon + pad), Math.max(b[3], g.lat + pad)], [180, 90, -180, -90])
    const planned = [...new Set(todo.flatMap((r) => (r.planned ? [r.planned] : [])))]
    const shelters = await tx<(Place & { certified: boolean; room: number })[]>`
      SELECT s.id, ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat, s.certified_safe AS certified,
             s.capacity - coalesce((SELECT sum(e.members) FROM evac_households e WHERE e.shelter_id = s.id AND e.open), 0)::int AS room
      FROM shelters s
      WHERE (s.certified_safe AND s.geom && ST_MakeEnvelope(${box[0]}, ${box[1]}, ${box[2]}, ${box[3]}, 4326)) OR s.id = ANY(${planned}::int[])`
    const nearby = nearestShelters(grids, shelters.filter((s) => s.certified), SHELTER_REACH_M, 8)
    const assigned = assignShelters(todo, nearby, new Map(shelters.map((r) => [r.id, r.room])))
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
      alreadyInTransfer: busy,
      outsideScope: picked.length - mine.length,
      uncertifiedPlanned: todo.filter((r) => r.uncertified).length,
    }
    if (b.dryRun) return { order: null, summary }

    const codes = grids.map((g) => g.code).sort()
    const unitCode = commonUnit([codes[0], codes[codes.length - 1]])
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
    await insertTransferRows(tx, order.id as number, todo.map((p) => {
      const shelterId = assigned.get(p.id)!.shelterId
      return { householdId: p.id, gridCode: gridCode.get(p.gridId)!, members: p.members, vulnerable: p.vulnerable, hazardId: p.hazardId,
        shelterId, routeId: shelterId != null && shelterId === p.planned ? p.routeId : null, cadreId: p.cadreId }
    }), opts.copy)
    await notifyEvacTiles(tx, order.id as number)
    if (alsoIn) await alsoIn(tx, { id: order.id as number, title })
    await publish(tx, 'evac.order', unitCode, { orderId: order.id, action: 'issued', title, stage: b.stage, ...summaryPayload(summary) })
    return { order, summary }
  })
  // A big order can be most of the table's open rows: until autovacuum next analyses it (a minute or more), the
  // planner reads the order's progress and each status change with statistics of a table without them, and
  // picked plans that joined every row (0.8 s a progress read). Done after the answer, so the order waits for none of it.
  if (issued.order && issued.summary.households >= REANALYSE_AFTER) {
    sql`ANALYZE evac_households`.catch((e: unknown) => log.warn('evacuation: ANALYZE after a large order failed', e))
  }
  return issued
}

/** Rows of one order past which the table's statistics are refreshed at once. */
const REANALYSE_AFTER = 10_000

const summaryPayload = (s: OrderSummary) => ({ households: s.households, people: s.people, shortfall: s.shortfall })
