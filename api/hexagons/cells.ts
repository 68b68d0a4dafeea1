import { cellToBoundary, latLngToCell } from 'h3-js'
import { encodeRing, type HexagonResolution } from '../../core/contracts/hexagons.ts'

/** One household as read for the hexagons: [id, lon, lat, grid id, risk level, vulnerable people, threatened people]. */
export type HouseholdRow = [number, number, number, number, 'red' | 'yellow' | 'green', number, number]

/**
 * An area's households binned into H3 cells at one resolution: what changes
 * only when households or hazard sites do (the view adds rain, reports and
 * transfers per request). `ids` is sorted, `cellOf[i]` is the cell of
 * household `ids[i]`: transfers name households, and find their cell by it.
 */
export interface HouseholdCells {
  res: HexagonResolution
  cells: string[]
  rings: number[][]
  households: Int32Array
  red: Int32Array
  yellow: Int32Array
  green: Int32Array
  vulnerable: Int32Array
  threatened: Int32Array
  /** The basic grids each cell's households belong to (for the rain of the cell). */
  grids: number[][]
  ids: Int32Array
  cellOf: Int32Array
  /** [west, south, east, north] of the households (null: none): a change elsewhere leaves this binning alone. */
  bbox: [number, number, number, number] | null
}

/** A cell's outline (core/contracts/hexagons.ts encodeRing), without the closing vertex. */
export function cellRing(cell: string): number[] {
  return encodeRing(cellToBoundary(cell, true).slice(0, -1))
}

/** Bins households (sorted by id) into cells; cells come out in the order first met. */
export function binHouseholds(rows: HouseholdRow[], res: HexagonResolution): HouseholdCells {
  const index = new Map<string, number>()
  const cells: string[] = []
  const gridSets: Set<number>[] = []
  const ids = new Int32Array(rows.length)
  const cellOf = new Int32Array(rows.length)
  let w = Infinity, so = Infinity, e = -Infinity, n = -Infinity
  const per = { households: [] as number[], red: [] as number[], yellow: [] as number[], green: [] as number[], vulnerable: [] as number[], threatened: [] as number[] }
  for (let i = 0; i < rows.length; i++) {
    const [id, lon, lat, grid, risk, vulnerable, threatened] = rows[i]
    const cell = latLngToCell(lat, lon, res)
    let k = index.get(cell)
    if (k === undefined) {
      k = cells.length
      index.set(cell, k)
      cells.push(cell)
      gridSets.push(new Set())
      for (const a of Object.values(per)) a.push(0)
    }
    ids[i] = id
    if (lon < w) w = lon
    if (lon > e) e = lon
    if (lat < so) so = lat
    if (lat > n) n = lat
    cellOf[i] = k
    per.households[k]++
    per[risk][k]++
    per.vulnerable[k] += vulnerable
    per.threatened[k] += threatened
    gridSets[k].add(grid)
  }
  return {
    res, cells, rings: cells.map(cellRing), bbox: rows.length ? [w, so, e, n] : null, grids: gridSets.map((s) => [...s]), ids, cellOf,
    households: Int32Array.from(per.households), red: Int32Array.from(per.red), yellow: Int32Array.from(per.yellow),
    green: Int32Array.from(per.green), vulnerable: Int32Array.from(per.vulnerable), threatened: Int32Array.from(per.threatened),
  }
}

/** The index in `cellOf` of household `id`, or -1 (binary search: `ids` is sorted). */
export function cellOfHousehold(b: HouseholdCells, id: number): number {
  let lo = 0, hi = b.ids.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const v = b.ids[mid]
    if (v === id) return b.cellOf[mid]
    if (v < id) lo = mid + 1
    else hi = mid - 1
  }
  return -1
}

export { latLngToCell }
