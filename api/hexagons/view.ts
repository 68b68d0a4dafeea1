import type { Sql } from '../../db/connect.ts'
import type { SessionUser } from '../auth/guard.ts'
import { forbiddenScope } from '../auth/guard.ts'
import { requireUnit } from '../units/known.ts'
import { inScope, scopePrefix } from '../../core/units.ts'
import { safeStatuses } from '../../core/rules/transfer.ts'
import type { HexagonAnswer, HexagonResolution } from '../../core/contracts/hexagons.ts'
import { binHouseholds, cellOfHousehold, cellRing, latLngToCell, type HouseholdCells, type HouseholdRow } from './cells.ts'
import type { HexagonCache } from './cache.ts'

const SAFE = safeStatuses as string[]

/** The area's households, compactly (arrays, not objects), sorted by id; threatened: members of households an active site threatens. */
async function readHouseholds(sql: Sql, prefix: string): Promise<HouseholdRow[]> {
  const rows = await sql`
    SELECT h.id, ST_X(h.geom), ST_Y(h.geom), h.grid_id, h.risk_level, h.vulnerable::int,
           CASE WHEN EXISTS (SELECT 1 FROM hazard_threats t JOIN hazard_sites s ON s.id = t.hazard_id
                             WHERE t.household_id = h.id AND s.status = 'active') THEN h.members::int ELSE 0 END
    FROM households h JOIN grids g ON g.id = h.grid_id
    WHERE g.code LIKE ${prefix + '%'}
    ORDER BY h.id`.values()
  return rows as unknown as HouseholdRow[]
}

/**
 * An area's households per H3 cell at resolution `res`, with the moving
 * figures of now: rain of the last 3 h (current rain only), open problem
 * reports, transfer progress. The area must lie in the reader's own.
 * Households are binned once per area and resolution (`cache`); the moving
 * figures are read each time (small tables, or one row per transfer).
 */
export async function hexagonView(
  sql: Sql, user: SessionUser, input: { unit: string; res: HexagonResolution },
  deps: { cache: HexagonCache; now: Date },
): Promise<HexagonAnswer> {
  await requireUnit(sql, input.unit)
  // As the wall (routes/wall.ts): an area larger than the reader's shows the reader's own part of it
  // (a grid worker's wall is their village's, its hexagons their grid's); another area is refused.
  const area = inScope(user.unitCode, input.unit) ? input.unit : inScope(input.unit, user.unitCode) ? user.unitCode : null
  if (!area) throw forbiddenScope(user.unitCode, input.unit)
  const prefix = scopePrefix(area)
  const base = await deps.cache.get(`${area}/${input.res}`, async () => binHouseholds(await readHouseholds(sql, prefix), input.res))
  return addMovingFigures(sql, base, area, prefix, deps.now)
}

async function addMovingFigures(sql: Sql, base: HouseholdCells, unit: string, prefix: string, now: Date): Promise<HexagonAnswer> {
  const like = prefix + '%'
  const [rain, reports, transfers] = await Promise.all([
    // core/rules/rain-current.ts: rain_state_current (migration 012) is its SQL form; asked once per lag, not per row
    // (per row it was 160 ms for a county's 3,300 grids).
    sql`WITH d AS MATERIALIZED (SELECT DISTINCT lag_hours AS l FROM rain_state),
        lags AS MATERIALIZED (SELECT l FROM d WHERE rain_state_current(l, ${now.toISOString()}::timestamptz))
        SELECT r.unit_id, r.rain_3h::float8 FROM rain_state r JOIN lags ON lags.l = r.lag_hours
        WHERE r.kind = 'grid' AND r.unit_code LIKE ${like}`.values(),
    sql`SELECT ST_X(geom), ST_Y(geom) FROM reports WHERE state NOT IN ('closed', 'merged') AND grid_code LIKE ${like}`.values(),
    sql`SELECT e.household_id, e.status = ANY(${SAFE}) FROM evac_households e JOIN evac_orders o ON o.id = e.order_id
        WHERE o.status = 'active' AND e.grid_code LIKE ${like}`.values(),
  ])
  const cells = [...base.cells]
  const rings = [...base.rings]
  const n = cells.length
  const zeros = () => new Array<number>(n).fill(0)
  const counts: HexagonAnswer['counts'] = {
    households: Array.from(base.households), red: Array.from(base.red), yellow: Array.from(base.yellow), green: Array.from(base.green),
    vulnerable: Array.from(base.vulnerable), threatened: Array.from(base.threatened),
    rain3h: new Array<number | null>(n).fill(null), reports: zeros(), transfer: zeros(), transferSafe: zeros(),
  }
  const rainOf = new Map((rain as unknown as [number, number][]).map(([g, mm]) => [g, mm]))
  base.grids.forEach((grids, k) => {
    for (const g of grids) {
      const mm = rainOf.get(g)
      if (mm !== undefined && (counts.rain3h[k] === null || mm > counts.rain3h[k]!)) counts.rain3h[k] = mm
    }
  })
  // A report may lie where no household lives: its cell is added, with no households.
  let index: Map<string, number> | undefined
  for (const [lon, lat] of reports as unknown as [number, number][]) {
    index ??= new Map(cells.map((c, k) => [c, k]))
    const cell = latLngToCell(lat, lon, base.res)
    let k = index.get(cell)
    if (k === undefined) {
      k = cells.length
      index.set(cell, k)
      cells.push(cell)
      rings.push(cellRing(cell))
      for (const a of Object.values(counts) as (number | null)[][]) a.push(a === counts.rain3h ? null : 0)
    }
    counts.reports[k]++
  }
  for (const [id, safe] of transfers as unknown as [number, boolean][]) {
    const k = cellOfHousehold(base, id)
    if (k < 0) continue // moved out of the area since the order: its transfer is counted where it lives now
    counts.transfer[k]++
    if (safe) counts.transferSafe[k]++
  }
  return { unit, res: base.res, at: now.toISOString(), cells, rings, counts }
}
