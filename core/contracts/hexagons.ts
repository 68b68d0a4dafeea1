/**
 * The answer of GET /api/hexagons (api/hexagons/view.ts makes it; the command
 * map's hexagon layer and the wall's map in web/ read it): an area's
 * households counted per H3 cell, with each cell's outline, so the browser
 * needs no H3 code to draw them.
 *
 * Columnar to stay small: `cells[i]`, `rings[i]` and `counts.<field>[i]`
 * describe one cell.
 */

/** H3 resolutions served: 5 (edge ≈ 8.5 km, a county in ~30 cells) to 8 (≈ 0.46 km, a few villages' fields). */
export const hexagonResolutions = [5, 6, 7, 8] as const
export type HexagonResolution = (typeof hexagonResolutions)[number]

/**
 * What is counted per cell:
 * - households, red, yellow, green: households (红黄绿 by their risk level)
 * - vulnerable: people living alone elderly, left-behind children, disabled (households.vulnerable)
 * - threatened: people of households threatened by an active hazard site (hazard_threats)
 * - rain3h: the most rain in the last 3 h (mm) over the basic grids of the cell's households,
 *   from current rain only (rain_state_current); null when no grid there has current rain
 * - reports: open problem reports (not closed or merged) located in the cell
 * - transfer, transferSafe: households in an open transfer of an active order, and those of them safe
 *   (core/rules/transfer.ts safeStatuses)
 */
export const hexagonFields = ['households', 'red', 'yellow', 'green', 'vulnerable', 'threatened', 'rain3h', 'reports', 'transfer', 'transferSafe'] as const
export type HexagonField = (typeof hexagonFields)[number]

export interface HexagonAnswer {
  unit: string
  res: HexagonResolution
  /** When the moving figures (rain, reports, transfers) were read. */
  at: string
  /** H3 indexes. */
  cells: string[]
  /** Each cell's outline, not closed (6 vertices, more where a cell is distorted), as encodeRing writes it. */
  rings: number[][]
  counts: Record<Exclude<HexagonField, 'rain3h'>, number[]> & { rain3h: (number | null)[] }
}

/** Ring coordinates are whole multiples of this (≈ 1 m): a res-8 cell's vertices lie some 400 steps apart. */
const STEP = 1e-5

/**
 * An outline, small: the first vertex in degrees (5 decimals), each next one
 * as whole steps of 1e-5° from the one before. The demo county's res-8
 * answer (2,868 cells) went from 455 KB to 312 KB, gzipped 91 KB to 51 KB.
 */
export function encodeRing(points: readonly (readonly [number, number] | readonly number[])[]): number[] {
  const out: number[] = []
  let px = 0, py = 0
  points.forEach(([lon, lat], i) => {
    const x = Math.round(lon / STEP), y = Math.round(lat / STEP)
    if (i === 0) out.push(x * STEP, y * STEP)
    else out.push(x - px, y - py)
    px = x
    py = y
  })
  return out.map((v, i) => (i < 2 ? Math.round(v * 1e5) / 1e5 : v))
}

/** encodeRing's outline back as [lon, lat] vertices (not closed). */
export function decodeRing(ring: readonly number[]): [number, number][] {
  if (ring.length < 2) return []
  let x = Math.round(ring[0] / STEP), y = Math.round(ring[1] / STEP)
  const out: [number, number][] = [[ring[0], ring[1]]]
  for (let k = 2; k < ring.length; k += 2) {
    x += ring[k]
    y += ring[k + 1]
    out.push([Math.round(x) / 1e5, Math.round(y) / 1e5])
  }
  return out
}
