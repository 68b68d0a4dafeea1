import type { Cover } from './types.ts'

type XY = { x: number; y: number }
type LngLat = [number, number]

/**
 * Where a dragged or drawn vertex snaps: the nearest vertex of the village
 * outline or of any basic grid (and, editing a micro-grid, of the micro-grids
 * of `microOf`) within `px` screen pixels; failing that, the
 * nearest point on one of their edges within `px` (so a vertex can be put
 * on a neighbour's edge, not only on its corners); else nothing (terra-draw
 * then keeps the pointer position). A point on an edge is interpolated in
 * lon/lat between the edge's ends, so it lies on the edge as PostGIS sees it
 * (planar EPSG:4326), not merely near it on screen.
 */
export function snapTarget(cover: Cover | null, at: LngLat, project: (p: LngLat) => XY, px: number, microOf: string | null = null): LngLat | undefined {
  if (!cover) return undefined
  const here = project(at)
  const rings: LngLat[][] = []
  const collect = (c: unknown): void => {
    const a = c as unknown[]
    if (typeof (a[0] as unknown[])[0] === 'number') rings.push(a as LngLat[])
    else a.forEach(collect)
  }
  collect(cover.village.geom.coordinates)
  // Micro-grids only while one of a grid's micro-grids is edited: then its siblings are the neighbours.
  for (const g of cover.grids) if (g.kind === 'basic' || (microOf && g.parent === microOf)) collect(g.geom.coordinates)

  const limit = px * px
  let vertex: LngLat | undefined
  let vertexD = limit
  let edge: LngLat | undefined
  let edgeD = limit
  for (const ring of rings) {
    const xy = ring.map(project)
    for (let i = 0; i < ring.length; i++) {
      const d = dist2(xy[i], here)
      if (d <= vertexD) {
        vertexD = d
        vertex = [ring[i][0], ring[i][1]]
      }
      if (i === 0) continue
      const [a, b] = [xy[i - 1], xy[i]]
      const len = dist2(a, b)
      if (len === 0) continue
      const t = Math.max(0, Math.min(1, ((here.x - a.x) * (b.x - a.x) + (here.y - a.y) * (b.y - a.y)) / len))
      const e = dist2({ x: a.x + t * (b.x - a.x), y: a.y + t * (b.y - a.y) }, here)
      if (e < edgeD) {
        edgeD = e
        const [p, q] = [ring[i - 1], ring[i]]
        edge = [p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])]
      }
    }
  }
  return vertex ?? edge
}

/** terra-draw keeps 9 decimals (~0.1 mm) and refuses features with more (addFeatures after an undo would drop it). */
export const drawPrecision = (p: number[]): [number, number] => [Number(p[0].toFixed(9)), Number(p[1].toFixed(9))]

const dist2 = (a: XY, b: XY) => (a.x - b.x) ** 2 + (a.y - b.y) ** 2
