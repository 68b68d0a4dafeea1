import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Tx } from '../../db/write.ts'
import { HttpError } from '../../core/errors.ts'

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
 * Rows in grid-code order, then household. A county's 300,000 rows come from
 * the pick in no useful order, and a comparator sort of them took 0.2 s: here
 * the household ids are sorted natively as numbers (id and position packed in
 * one float64), then dealt stably into their grid's place (counting sort on
 * the grid code's rank).
 */
export function inGridOrder(rows: TransferRow[]): TransferRow[] {
  const n = rows.length
  const codes = [...new Set(rows.map((r) => r.gridCode))].sort()
  const rank = new Map(codes.map((c, i) => [c, i]))
  let byId: ArrayLike<number>
  if (n <= POSITIONS && rows.every((r) => r.householdId >= 0 && r.householdId < 2 ** 31)) {
    const keys = new Float64Array(n)
    for (let i = 0; i < n; i++) keys[i] = rows[i].householdId * POSITIONS + i
    keys.sort()
    byId = keys.map((k) => k % POSITIONS)
  } else byId = Array.from(rows.keys()).sort((a, b) => rows[a].householdId - rows[b].householdId)
  const ranks = Int32Array.from(rows, (r) => rank.get(r.gridCode)!)
  const start = new Int32Array(codes.length + 1)
  for (const g of ranks) start[g + 1]++
  for (let i = 1; i <= codes.length; i++) start[i] += start[i - 1]
  const out = new Array<TransferRow>(n)
  for (let k = 0; k < n; k++) out[start[ranks[byId[k]]]++] = rows[byId[k]]
  return out
}
/** Positions packed under a household id (< 2^31) in one float64 (53 bits). */
const POSITIONS = 2 ** 21

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
  const sorted = inGridOrder(rows)
  const write = copy ? viaCopy(tx, orderId, sorted) : viaInsert(tx, orderId, sorted)
  await write.catch((e: { code?: string }) => {
    if (e.code === '23505') throw new HttpError(409, 'already_in_transfer', '部分住户刚被其他指令纳入，请重试', 'some households were just taken by another order; retry')
    throw e
  })
  await tx`SELECT brin_summarize_new_values('evac_households_grid'::regclass)`
}

const BATCH = 5000

/**
 * COPY's binary format (PostgreSQL docs, "Binary Format"), columns in
 * COLUMNS order: int4, int4, text, int2, int2 and four int4 or NULL. Written
 * straight into buffers: as text the 2.7 million numbers of a county order
 * were 0.17 s of string building, and the server parsed them back again.
 */
export function* copyBinaryChunks(orderId: number, rows: TransferRow[]): Generator<Buffer> {
  const header = Buffer.alloc(19)
  header.write('PGCOPY\n\xff\r\n\0', 'latin1')
  yield header // flags and header extension length: zero, as alloc left them
  for (let start = 0; start < rows.length; start += BATCH) {
    const batch = rows.slice(start, start + BATCH)
    let size = 0
    for (const r of batch) size += 2 + 8 * 2 + 4 + Buffer.byteLength(r.gridCode) + 6 * 2 + 4 * 8
    const buf = Buffer.allocUnsafe(size)
    let o = 0
    const int4 = (v: number | null) => {
      if (v == null) return (o = buf.writeInt32BE(-1, o))
      o = buf.writeInt32BE(4, o)
      o = buf.writeInt32BE(v, o)
    }
    const int2 = (v: number) => {
      o = buf.writeInt32BE(2, o)
      o = buf.writeInt16BE(v, o)
    }
    for (const r of batch) {
      o = buf.writeInt16BE(9, o)
      int4(orderId)
      int4(r.householdId)
      const len = Buffer.byteLength(r.gridCode)
      o = buf.writeInt32BE(len, o)
      o += buf.write(r.gridCode, o, 'utf8')
      int2(r.members)
      int2(r.vulnerable)
      int4(r.hazardId)
      int4(r.shelterId)
      int4(r.routeId)
      int4(r.cadreId)
    }
    yield buf.subarray(0, o)
  }
  const trailer = Buffer.alloc(2)
  trailer.writeInt16BE(-1)
  yield trailer
}

async function viaCopy(tx: Tx, orderId: number, rows: TransferRow[]) {
  const sink = await tx.unsafe(`COPY evac_households (${COLUMNS}) FROM STDIN (FORMAT binary)`).writable()
  await pipeline(Readable.from(copyBinaryChunks(orderId, rows)), sink)
}

async function viaInsert(tx: Tx, orderId: number, rows: TransferRow[]) {
  const col = <K extends keyof TransferRow>(k: K) => rows.map((r) => r[k])
  await tx`
    INSERT INTO evac_households (${tx.unsafe(COLUMNS)})
    SELECT ${orderId}, * FROM unnest(${col('householdId')}::int[], ${col('gridCode')}::text[], ${col('members')}::int[], ${col('vulnerable')}::int[],
                                     ${col('hazardId')}::int[], ${col('shelterId')}::int[], ${col('routeId')}::int[], ${col('cadreId')}::int[])`
}
