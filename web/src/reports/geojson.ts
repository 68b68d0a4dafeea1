import type { ReportList } from './types.ts'

/** Open reports as the GeoJSON the map's reports layer draws (web/src/map/reportsLayer.ts): the command map and the print sheet. */
export function reportsGeoJson(list: ReportList): GeoJSON.FeatureCollection {
  return {
    type: 'FeatureCollection',
    features: list.reports.map((r) => ({
      type: 'Feature',
      id: r.id,
      geometry: { type: 'Point', coordinates: [r.lng, r.lat] },
      properties: { id: r.id, urgency: r.urgency, overdue: r.overdue, state: r.state },
    })),
  }
}
