import type { Today } from './types.ts'

/** Where a report is: the phone's position, or a place of the grid the worker picks. */
export interface Place {
  key: string
  kind: 'phone' | 'tapped' | 'center' | 'hazard' | 'household'
  lng: number
  lat: number
  /** The site's or household's name (none for the phone and the grid centre). */
  name?: string
  accuracy?: number
  hazardSiteId?: number
}

/** Ray casting on one ring: whether a point is inside it (lon/lat as plane coordinates: a grid is a few km across). */
function inRing(ring: number[][], x: number, y: number): boolean {
  let inside = false
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i]
    const [xj, yj] = ring[j]
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside
  }
  return inside
}

/** Whether a point lies in a grid's outline (holes excluded). */
export function inOutline(outline: GeoJSON.MultiPolygon, lng: number, lat: number): boolean {
  return outline.coordinates.some(([outer, ...holes]) => inRing(outer, lng, lat) && !holes.some((h) => inRing(h, lng, lat)))
}

/**
 * The places a report may be put at: a point tapped on the grid's map, the phone's position when it has one,
 * the grid's centre, the hazard sites inside the grid (a site outside it is
 * another grid's, which the server would refuse), the grid's households.
 */
export function placesOf(today: Today, phone: { lng: number; lat: number; accuracy: number } | null, tapped: { lng: number; lat: number } | null = null): Place[] {
  const [w, s, e, n] = today.grid.bbox
  const [cx, cy] = today.grid.center ?? [(w + e) / 2, (s + n) / 2]
  return [
    ...(tapped ? [{ key: 'tapped', kind: 'tapped' as const, lng: tapped.lng, lat: tapped.lat }] : []),
    ...(phone ? [{ key: 'phone', kind: 'phone' as const, lng: phone.lng, lat: phone.lat, accuracy: Math.round(phone.accuracy) }] : []),
    { key: 'center', kind: 'center', lng: cx, lat: cy },
    ...today.hazards.filter((h) => inOutline(today.grid.outline, h.lon, h.lat))
      .map((h) => ({ key: `hazard-${h.id}`, kind: 'hazard' as const, lng: h.lon, lat: h.lat, name: h.name, hazardSiteId: h.id })),
    ...today.households.map((h) => ({ key: `household-${h.id}`, kind: 'household' as const, lng: h.lon, lat: h.lat, name: h.householder })),
  ]
}
