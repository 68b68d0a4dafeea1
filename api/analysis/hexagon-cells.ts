/**
 * An area's households binned into H3 cells (h3-js) for the planners' hexagon
 * analyses (api/analysis/catalog.ts hex_*). PostgreSQL has no H3 here (no h3
 * extension, and none in the embedded database), so the binning is done in
 * JS and handed to the analysis's SQL as literals: one row per (cell, grid)
 * with the households of that grid in that cell, and one row per cell with
 * its outline (WKT) and centre. Everything spliced is produced here from
 * numbers and H3 indexes, and checked again as it is written.
 */
import { cellToBoundary, cellToLatLng, latLngToCell } from 'h3-js'
import type { Sql } from '../../db/connect.ts'
import type { HexagonResolution } from '../../core/contracts/hexagons.ts'

export interface HexagonBins {
  res: HexagonResolution
  /** H3 indexes, sorted. */
  cells: string[]
  /** Per (cell, grid): index into `cells`, basic grid id, households, people, vulnerable people. */
  pairs: { cell: number[]; grid: number[]; households: number[]; people: number[]; vulnerable: number[] }
}

/** The households of the area under `prefix` (grid codes), binned at `res`. */
export async function binAreaHouseholds(sql: Sql, prefix: string, res: HexagonResolution): Promise<HexagonBins> {
  if (!/^[0-9]{1,15}$/.test(prefix)) throw new Error(`bad prefix ${prefix}`)
  const rows = (await sql`
    SELECT h.grid_id, ST_X(h.geom), ST_Y(h.geom), h.members::int, h.vulnerable::int
    FROM households h JOIN grids g ON g.id = h.grid_id
    WHERE starts_with(g.code, ${prefix})`.values()) as unknown as [number, number, number, number, number][]
  const byPair = new Map<string, [string, number, number, number, number]>()
  for (const [grid, lon, lat, members, vulnerable] of rows) {
    const cell = latLngToCell(lat, lon, res)
    const key = `${cell}/${grid}`
    const e = byPair.get(key)
    if (e) {
      e[2]++
      e[3] += members
      e[4] += vulnerable
    } else byPair.set(key, [cell, grid, 1, members, vulnerable])
  }
  const cells = [...new Set([...byPair.values()].map((p) => p[0]))].sort()
  const index = new Map(cells.map((c, i) => [c, i]))
  const pairs: HexagonBins['pairs'] = { cell: [], grid: [], households: [], people: [], vulnerable: [] }
  for (const [cell, grid, n, people, vulnerable] of byPair.values()) {
    pairs.cell.push(index.get(cell)!)
    pairs.grid.push(grid)
    pairs.households.push(n)
    pairs.people.push(people)
    pairs.vulnerable.push(vulnerable)
  }
  return { res, cells, pairs }
}

const ints = (xs: number[]) => {
  for (const x of xs) if (!Number.isSafeInteger(x)) throw new Error(`not an integer: ${x}`)
  return `'{${xs.join(',')}}'::int[]`
}
const H3 = /^[0-9a-f]{15,16}$/
const num = (x: number) => {
  if (!Number.isFinite(x)) throw new Error(`not a number: ${x}`)
  return x.toFixed(7)
}

/** A cell's outline as WKT (lon lat, closed), the vertices h3-js gives. */
export function cellWkt(cell: string): string {
  const ring = cellToBoundary(cell, true)
  return `POLYGON((${ring.map(([lon, lat]) => `${num(lon)} ${num(lat)}`).join(',')}))`
}

/**
 * SQL (two CTE bodies' worth, as one WITH list without the WITH): `hex_pair(cell, grid_id, households, people,
 * vulnerable)` and `hex_cell(cell, h3_index, lon, lat, geom)`, `cell` the row number of the H3 index in sorted order.
 */
export function binsSql(b: HexagonBins): string {
  for (const c of b.cells) if (!H3.test(c)) throw new Error(`not an H3 index: ${c}`)
  const centres = b.cells.map((c) => cellToLatLng(c))
  const p = b.pairs
  return `
    hex_pair AS MATERIALIZED (
      SELECT * FROM unnest(${ints(p.cell.map((k) => k + 1))}, ${ints(p.grid)}, ${ints(p.households)}, ${ints(p.people)}, ${ints(p.vulnerable)})
        AS x(cell, grid_id, households, people, vulnerable)),
    hex_cell AS MATERIALIZED (
      SELECT x.cell::int AS cell, x.h3_index, x.lon, x.lat, ST_Multi(ST_GeomFromText(x.wkt, 4326)) AS geom
      FROM unnest('{${b.cells.join(',')}}'::text[], '{${centres.map(([lat]) => num(lat)).join(',')}}'::float8[],
                  '{${centres.map(([, lon]) => num(lon)).join(',')}}'::float8[], '{${b.cells.map((c) => `"${cellWkt(c)}"`).join(',')}}'::text[])
        WITH ORDINALITY AS x(h3_index, lat, lon, wkt, cell))`
}

export { latLngToCell }
