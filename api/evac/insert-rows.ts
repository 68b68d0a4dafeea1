import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Tx } from '../db/write.ts'
import { HttpError } from '../errors.ts'

/** One evac_households row of a new order. */
export interface TransferRow {
  householdId: number
  gridCode: string
  members: number
  vulnerable: number
  hazardId: number | null
  shelterId: number | null
  routeId: number | null
  cadreId: number | null
}

const COLUMNS = 'order_id, household_id, grid_code, members, vulnerable, hazard_id, shelter_id, route_id, cadre_id'

/**
 * Writes an order's rows in grid-code order, so an area's rows land on
 * neighbouring pages (the BRIN index of migration 009). On PostgreSQL, COPY:
 * it writes a page of rows at a time, where INSERT writes and logs them one
 * by one (half the time of a county order went there). The embedded database
 * cannot take COPY FROM STDIN over its socket, so there it is one INSERT from
 * arrays. No ON CONFLICT either way: orders are issued under one lock and the
 * pick left out every household already in an open order, so a conflict can
 * only come from a writer outside this code; the unique index then refuses
 * the whole write, and it becomes a 409.
 */
export async function insertTransferRows(tx: Tx, orderId: number, rows: TransferRow[], copy: boolean): Promise<void> {
  rows.sort((a, b) => (a.gridCode < b.gridCode ? -1 : a.gridCode > b.gridCode ? 1 : a.householdId - b.householdId))
  const write = copy ? viaCopy(tx, orderId, rows) : viaInsert(tx, orderId, rows)
  await write.catch((e: { code?: string }) => {
    if (e.code === '23505') throw new HttpError(409, 'already_in_transfer', '部分住户刚被其他指令纳入，请重试', 'some households were just taken by another order; retry')
    throw e
  })
  await tx`SELECT brin_summarize_new_values('evac_households_grid'::regclass)`
}

const cell = (v: number | null) => (v == null ? '\\N' : String(v))

async function viaCopy(tx: Tx, orderId: number, rows: TransferRow[]) {
  const sink = await tx.unsafe(`COPY evac_households (${COLUMNS}) FROM STDIN`).writable()
  // Grid codes are digits only: nothing in a line needs COPY's escaping.
  function* lines() {
    const batch: string[] = []
    for (const r of rows) {
      batch.push(`${orderId}\t${r.householdId}\t${r.gridCode}\t${r.members}\t${r.vulnerable}\t${cell(r.hazardId)}\t${cell(r.shelterId)}\t${cell(r.routeId)}\t${cell(r.cadreId)}\n`)
      if (batch.length === 5000) yield batch.splice(0).join('')
    }
    if (batch.length) yield batch.join('')
  }
  await pipeline(Readable.from(lines()), sink)
}

async function viaInsert(tx: Tx, orderId: number, rows: TransferRow[]) {
  const col = <K extends keyof TransferRow>(k: K) => rows.map((r) => r[k])
  await tx`
    INSERT INTO evac_households (${tx.unsafe(COLUMNS)})
    SELECT ${orderId}, * FROM unnest(${col('householdId')}::int[], ${col('gridCode')}::text[], ${col('members')}::int[], ${col('vulnerable')}::int[],
                                     ${col('hazardId')}::int[], ${col('shelterId')}::int[], ${col('routeId')}::int[], ${col('cadreId')}::int[])`
}
