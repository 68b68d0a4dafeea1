import { drawPrecision } from './snap.ts'

/** Outer ring of the largest polygon of a (Multi)Polygon: what the user drags. */
export function mainPolygon(g: GeoJSON.Polygon | GeoJSON.MultiPolygon): GeoJSON.Polygon {
  const round = (r: GeoJSON.Position[]) => r.map(drawPrecision)
  if (g.type === 'Polygon') return { type: 'Polygon', coordinates: [round(g.coordinates[0])] }
  const area = (r: GeoJSON.Position[]) => Math.abs(r.reduce((a, p, i) => a + (i ? (r[i - 1][0] * p[1] - p[0] * r[i - 1][1]) : 0), 0))
  const best = [...g.coordinates].sort((a, b) => area(b[0]) - area(a[0]))[0]
  return { type: 'Polygon', coordinates: [round(best[0])] }
}

export function bboxOf(g: GeoJSON.Geometry): [number, number, number, number] {
  const b = [180, 90, -180, -90]
  const walk = (c: unknown): void => {
    if (typeof (c as number[])[0] === 'number') {
      const [x, y] = c as number[]
      b[0] = Math.min(b[0], x); b[1] = Math.min(b[1], y); b[2] = Math.max(b[2], x); b[3] = Math.max(b[3], y)
    } else (c as unknown[]).forEach(walk)
  }
  walk((g as GeoJSON.Polygon).coordinates)
  return b as [number, number, number, number]
}
