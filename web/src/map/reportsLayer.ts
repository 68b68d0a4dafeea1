import type { ExpressionSpecification, GeoJSONSource, Map as MapLibreMap } from 'maplibre-gl'
import { reportColor } from './colors.ts'

/**
 * The reports layer: open problem reports as dots coloured by urgency, over
 * every tile layer; one past its level's time gets a wide red ring. A GeoJSON
 * source fed from the list endpoint (web/src/reports/useReportsOnMap.ts): an
 * area has hundreds of open reports at most, not a tile's worth.
 */
export const reportLayerIds = ['reports-overdue', 'reports'] as const

const urgency = (critical: number | string, urgent: number | string, normal: number | string): ExpressionSpecification =>
  ['match', ['get', 'urgency'], 'critical', critical, 'urgent', urgent, normal]

export function applyReports(map: MapLibreMap, data: GeoJSON.FeatureCollection, visible: boolean) {
  const src = map.getSource('reports') as GeoJSONSource | undefined
  if (src) return void src.setData(data)
  map.addSource('reports', { type: 'geojson', data })
  const visibility = visible ? 'visible' : 'none'
  map.addLayer({
    id: 'reports-overdue', type: 'circle', source: 'reports', filter: ['==', ['get', 'overdue'], true],
    layout: { visibility },
    paint: {
      'circle-radius': urgency(15, 13, 12), 'circle-color': reportColor.overdue, 'circle-opacity': 0.22,
      'circle-stroke-color': reportColor.overdue, 'circle-stroke-width': 3,
    },
  })
  map.addLayer({
    id: 'reports', type: 'circle', source: 'reports',
    layout: { visibility, 'circle-sort-key': urgency(3, 2, 1) },
    paint: {
      'circle-radius': urgency(8, 7, 6),
      'circle-color': urgency(reportColor.critical, reportColor.urgent, reportColor.normal),
      'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2,
    },
  })
}
