import { cellToBoundary } from 'h3-js'

/**
 * A cell's polygon for PostGIS (GeoJSON). H3's edges are great-circle arcs (straight on the icosahedron face's
 * gnomonic projection); joined straight in lon/lat a res-5 edge strays up to ~0.7 m, and a household that close to
 * an edge was counted in the neighbour. Each edge is cut in 16 along its great circle: the stray drops under a centimetre.
 */
export function cellPolygon(cell: string) {
  const rad = Math.PI / 180
  const vec = ([lon, lat]: number[]) => [Math.cos(lat * rad) * Math.cos(lon * rad), Math.cos(lat * rad) * Math.sin(lon * rad), Math.sin(lat * rad)]
  const ring = cellToBoundary(cell, true)
  const out: number[][] = []
  for (let k = 0; k < ring.length - 1; k++) {
    const a = vec(ring[k]), b = vec(ring[k + 1])
    const omega = Math.acos(Math.min(1, a[0] * b[0] + a[1] * b[1] + a[2] * b[2]))
    for (let j = 0; j < 16; j++) {
      const t = j / 16
      const wa = Math.sin((1 - t) * omega) / Math.sin(omega), wb = Math.sin(t * omega) / Math.sin(omega)
      const p = [0, 1, 2].map((d) => wa * a[d] + wb * b[d])
      out.push([Math.atan2(p[1], p[0]) / rad, Math.atan2(p[2], Math.hypot(p[0], p[1])) / rad])
    }
  }
  out.push(out[0])
  return { type: 'Polygon', coordinates: [out] }
}
