import type { Cover } from './types.ts'

type XY = { x: number; y: number }

/**
 * Where a dragged or drawn vertex snaps: the nearest vertex of the village
 * outline or of any grid within `px` screen pixels, else nothing (terra-draw
 * then keeps the pointer position). Vertices only, not edges: shared edges
 * are kept by the server, which clips the neighbours to the edited grid.
 */
export function snapTarget(cover: Cover | null, at: [number, number], project: (p: [number, number]) => XY, px: number): [number, number] | undefined {
  if (!cover) return undefined
  const here = project(at)
  let best: [number, number] | undefined
  let bestD = px * px
  const visit = (c: unknown): void => {
    const a = c as unknown[]
    if (typeof a[0] === 'number') {
      const p = project(a as [number, number])
      const d = (p.x - here.x) ** 2 + (p.y - here.y) ** 2
      if (d <= bestD) {
        bestD = d
        best = [a[0] as number, a[1] as number]
      }
    } else a.forEach(visit)
  }
  visit(cover.village.geom.coordinates)
  for (const g of cover.grids) if (g.kind === 'basic') visit(g.geom.coordinates)
  return best
}
