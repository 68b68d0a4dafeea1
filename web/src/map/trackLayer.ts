import type { GeoJSONSource, LngLatBoundsLike, Map as MapLibreMap } from 'maplibre-gl'

/**
 * A grid worker's patrol track for a day on the command map (issue #19): a
 * line with a dot at each position the phone sent. One track at a time; null
 * takes it off. A GeoJSON source: a day is a few hundred points at most.
 */
export const trackColor = '#00e5ff'
const empty: GeoJSON.FeatureCollection = { type: 'FeatureCollection', features: [] }

export function showTrack(map: MapLibreMap, points: { lon: number; lat: number }[] | null) {
  const data: GeoJSON.FeatureCollection = !points?.length ? empty : {
    type: 'FeatureCollection',
    features: [
      ...(points.length > 1 ? [{ type: 'Feature' as const, properties: {}, geometry: { type: 'LineString' as const, coordinates: points.map((p) => [p.lon, p.lat]) } }] : []),
      ...points.map((p) => ({ type: 'Feature' as const, properties: {}, geometry: { type: 'Point' as const, coordinates: [p.lon, p.lat] } })),
    ],
  }
  const src = map.getSource('patrol-track') as GeoJSONSource | undefined
  if (src) src.setData(data)
  else {
    map.addSource('patrol-track', { type: 'geojson', data })
    map.addLayer({ id: 'patrol-track-line', type: 'line', source: 'patrol-track', filter: ['==', ['geometry-type'], 'LineString'],
      paint: { 'line-color': trackColor, 'line-width': 3, 'line-opacity': 0.9 } })
    map.addLayer({ id: 'patrol-track-points', type: 'circle', source: 'patrol-track', filter: ['==', ['geometry-type'], 'Point'],
      paint: { 'circle-radius': 3.5, 'circle-color': trackColor, 'circle-stroke-color': '#0b1a2e', 'circle-stroke-width': 1 } })
  }
  if (points?.length) {
    const xs = points.map((p) => p.lon)
    const ys = points.map((p) => p.lat)
    const bounds: LngLatBoundsLike = [[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]]
    map.fitBounds(bounds, { padding: 80, maxZoom: 16, duration: 600 })
  }
}
