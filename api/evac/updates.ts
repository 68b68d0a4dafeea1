import { z } from 'zod'
import { authorizeUser, type SessionUser } from '../auth/guard.ts'
import type { Sql } from '../../db/connect.ts'
import { writeTx, type Tx } from '../../db/write.ts'
import { HttpError, notFound } from '../../core/errors.ts'
import { publish } from '../events/publish.ts'
import { checkTransition, statusNames, statuses, type Status } from '../../core/rules/transfer.ts'
import { ORDER } from './order-body.ts'
import { notifyEvacTiles } from './tile-notice.ts'

export const TRANSFER = { zh: '该指令中的住户', en: 'household in this order' }

export const statusBody = z
  .object({
    status: z.enum(statuses),
    /** The status the client saw: a different one now means someone else changed it (409). */
    from: z.enum(statuses).optional(),
    people: z.number().int().min(0).max(60).optional(),
    reason: z.string().trim().min(2).max(300).optional(),
  })
  .strict()

export const bulkBody = z
  .object({
    grid: z.string().regex(/^[0-9]{15}$/, '须为15位网格编码 / a 15-digit grid code'),
    from: z.enum(statuses),
    status: z.enum(statuses),
    reason: z.string().trim().min(2).max(300).optional(),
  })
  .strict()

async function activeOrder(tx: Tx, orderId: number) {
  const [o] = await tx<{ status: string; unitCode: string }[]>`SELECT status, unit_code AS "unitCode" FROM evac_orders WHERE id = ${orderId} FOR SHARE`
  if (!o) throw notFound(ORDER, String(orderId))
  if (o.status !== 'active') throw new HttpError(409, 'order_closed', '该转移指令已结束，不能再更改状态', 'this transfer order is closed; statuses can no longer change')
  return o
}

const actorName = (u: SessionUser) => `${u.displayName}（${u.username}）`

/** One household's status in one order. */
export async function setStatus(sql: Sql, user: SessionUser, orderId: number, householdId: number, b: z.infer<typeof statusBody>) {
  authorizeUser(user, 'evacuation.update')
  const { gridCode: _, ...out } = await writeTx(sql, user, (tx) => moveHousehold(tx, user, orderId, householdId, b))
  return out
}

/**
 * Moves one household of an order along its transfer, in the writer's area:
 * the rules of checkTransition, `from` guarding against a change made by
 * someone else meanwhile (409 status_conflict, with the status it has now).
 * `doneAt`: when it was done (the field app's phone time; default now).
 */
export async function moveHousehold(tx: Tx, user: SessionUser, orderId: number, householdId: number, b: z.infer<typeof statusBody>, doneAt?: Date) {
  authorizeUser(user, 'evacuation.update')
  await activeOrder(tx, orderId)
  const [row] = await tx<{ status: Status; gridCode: string; members: number }[]>`
    SELECT status, grid_code AS "gridCode", members FROM evac_households
    WHERE order_id = ${orderId} AND household_id = ${householdId} FOR UPDATE`
  if (!row) throw notFound(TRANSFER, String(householdId))
  authorizeUser(user, 'evacuation.update', row.gridCode)
  if (b.from && b.from !== row.status) throw new StatusConflict(row.status)
  checkTransition(row.status, b.status, b.reason)
  if (b.people !== undefined && b.status !== 'at_shelter') {
    throw new HttpError(400, 'people_only_at_shelter', '只有"已到避险点"时才登记人数', 'people are counted only on arrival at the shelter')
  }
  const people = b.status === 'at_shelter' ? (b.people ?? row.members) : null
  const at = doneAt ? doneAt.toISOString() : null
  const [r] = await tx<{ householdId: number; status: Status; people: number | null; at: Date }[]>`
    WITH up AS (
      UPDATE evac_households SET status = ${b.status}, people = coalesce(${people}::int, CASE WHEN ${b.status} = 'returned' THEN people END),
             reason = ${b.reason ?? null}, open = ${b.status !== 'returned'}, updated_at = coalesce(${at}::timestamptz, now()),
             updated_by = ${actorName(user)}, version = version + 1
      WHERE order_id = ${orderId} AND household_id = ${householdId}
      RETURNING household_id, status, people, updated_at, version)
    INSERT INTO evac_status_log (order_id, household_id, from_status, to_status, people, reason, actor, actor_id, at)
    SELECT ${orderId}, household_id, ${row.status}, status, people, ${b.reason ?? null}, ${actorName(user)}, ${user.id}, updated_at FROM up
    RETURNING household_id AS "householdId", to_status AS status, people, at`.catch((e: { code?: string }) => {
    // The unique "one open transfer" index: back from returned while another order holds the household.
    if (e.code === '23505') throw new HttpError(409, 'already_in_transfer', '该户已在其他转移指令中', 'this household is under another open transfer order now')
    throw e
  })
  await notifyEvacTiles(tx, orderId, [householdId])
  await publish(tx, 'evac.status', row.gridCode, { orderId, households: [householdId], from: row.status, status: b.status, by: user.displayName })
  return { orderId, ...r, from: row.status, gridCode: row.gridCode }
}

/** 409: the household's status is no longer the one the writer saw; `current` says what it is now. */
export class StatusConflict extends HttpError {
  constructor(readonly current: Status) {
    super(409, 'status_conflict', `该户状态已被他人改为"${statusNames[current].zh}"，请刷新后再改`,
      `someone else changed this household to "${statusNames[current].en}" meanwhile; reload and retry`)
  }
}

/** Every household of one grid in the order that is at `from` moves to `status` at once (e.g. the whole grid notified). */
export async function setGridStatus(sql: Sql, user: SessionUser, orderId: number, b: z.infer<typeof bulkBody>) {
  authorizeUser(user, 'evacuation.update', b.grid)
  checkTransition(b.from, b.status, b.reason)
  return writeTx(sql, user, async (tx) => {
    await activeOrder(tx, orderId)
    const rows = await tx<{ householdId: number }[]>`
      WITH target AS (
        SELECT household_id FROM evac_households WHERE order_id = ${orderId} AND grid_code = ${b.grid} AND status = ${b.from}
        ORDER BY household_id FOR UPDATE),
      up AS (
        UPDATE evac_households e SET status = ${b.status}, people = CASE WHEN ${b.status} = 'at_shelter' THEN e.members ELSE e.people END,
               reason = ${b.reason ?? null}, open = ${b.status !== 'returned'}, updated_at = now(), updated_by = ${actorName(user)},
               version = version + 1
        FROM target t WHERE e.order_id = ${orderId} AND e.household_id = t.household_id AND e.status = ${b.from}
        RETURNING e.household_id, e.people)
      INSERT INTO evac_status_log (order_id, household_id, from_status, to_status, people, reason, actor, actor_id)
      SELECT ${orderId}, household_id, ${b.from}, ${b.status}, people, ${b.reason ?? null}, ${actorName(user)}, ${user.id} FROM up
      RETURNING household_id AS "householdId"`.catch((e: { code?: string }) => {
      if (e.code === '23505') throw new HttpError(409, 'already_in_transfer', '部分住户已在其他转移指令中', 'some of these households are under another open transfer order now')
      throw e
    })
    if (!rows.length) {
      throw new HttpError(409, 'nothing_to_change', `该网格中没有状态为"${statusNames[b.from].zh}"的住户`, `no household in this grid is "${statusNames[b.from].en}"`)
    }
    const ids = rows.map((r) => r.householdId)
    await notifyEvacTiles(tx, orderId, ids)
    await publish(tx, 'evac.status', b.grid, { orderId, households: ids, from: b.from, status: b.status, by: user.displayName })
    return { orderId, grid: b.grid, from: b.from, status: b.status, households: ids.length }
  })
}

/** Closing an order ends every transfer in it (rows stay for the record; the households can be ordered again). */
export async function closeOrder(sql: Sql, user: SessionUser, orderId: number, version: number) {
  authorizeUser(user, 'order.issue')
  return writeTx(sql, user, async (tx) => {
    const [o] = await tx<{ unitCode: string; status: string; version: number }[]>`
      SELECT unit_code AS "unitCode", status, version FROM evac_orders WHERE id = ${orderId} FOR UPDATE`
    if (!o) throw notFound(ORDER, String(orderId))
    authorizeUser(user, 'order.issue', o.unitCode)
    if (o.version !== version) {
      throw new HttpError(409, 'version_conflict', `转移指令已被他人修改（当前版本 ${o.version}，您的版本 ${version}），请刷新后重试`,
        `the order was changed meanwhile (now version ${o.version}, yours ${version}); reload and retry`)
    }
    if (o.status !== 'active') throw new HttpError(409, 'order_closed', '该转移指令已结束', 'this transfer order is already closed')
    await tx`UPDATE evac_orders SET status = 'closed', closed_at = now(), version = version + 1 WHERE id = ${orderId}`
    await tx`UPDATE evac_households SET open = false WHERE order_id = ${orderId} AND open`
    await notifyEvacTiles(tx, orderId)
    await publish(tx, 'evac.order', o.unitCode, { orderId, action: 'closed', by: user.displayName })
    return { id: orderId, status: 'closed', version: o.version + 1 }
  })
}
