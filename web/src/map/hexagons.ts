import type { ExpressionSpecification, GeoJSONSource, Map as MapLibreMap } from 'maplibre-gl'
import type { HexagonAnswer, HexagonResolution } from '../../../core/contracts/hexagons.ts'
import { decodeRing, hexagonFields } from '../../../core/contracts/hexagons.ts'
import { riskShare } from '../../../core/rules/risk.ts'
import { gridFillColor } from './style.ts'

/**
 * The hexagon view: an area's households per H3 cell (GET /api/hexagons),
 * each cell coloured by the grid risk rule on its share of red and yellow
 * households (core/rules/risk.ts, the grids' own fill expression), more
 * opaque where more households live. The API sends each cell's outline, so
 * the page carries no H3 code.
 */
export const hexagonLayerIds = ['hexagons-fill', 'hexagons-line'] as const

/** Zoom levels the hexagons show at: the city and county views; closer in, grids and households say more. */
export const HEXAGON_MAX_ZOOM = 12

/** One resolution per zoom band: cells some 15–40 px across (res 5 ≈ 8.5 km a side, each next one ≈ 2.6× smaller). */
export function hexagonResAtZoom(zoom: number): HexagonResolution {
  if (zoom < 8) return 5
  if (zoom < 9.5) return 6
  if (zoom < 10.5) return 7
  return 8
}

/** The API's columns as polygons with their counts, and the shares the colour reads. */
export function hexagonFeatures(a: HexagonAnswer): GeoJSON.FeatureCollection {
  return {
    type: 'FeatureCollection',
    features: a.cells.map((cell, i) => {
      const ring = decodeRing(a.rings[i])
      ring.push(ring[0])
      const properties: Record<string, string | number | null> = { cell }
      for (const f of hexagonFields) properties[f] = a.counts[f][i]
      properties.red_share = riskShare(a.counts.red[i], a.counts.households[i])
      properties.yellow_share = riskShare(a.counts.yellow[i], a.counts.households[i])
      return { type: 'Feature', geometry: { type: 'Polygon', coordinates: [ring] }, properties }
    }),
  }
}

const empty: GeoJSON.FeatureCollection = { type: 'FeatureCollection', features: [] }

/** Fill opacity from `lo` (one household) to `hi` (600 and more). */
const opacity = ([lo, hi]: readonly [number, number]): ExpressionSpecification =>
  ['interpolate', ['linear'], ['get', 'households'], 1, lo, 60, (lo + hi) / 2, 600, hi]
const strength = { normal: [0.35, 0.75], strong: [0.5, 0.9], dim: [0.18, 0.4] } as const

/** The wall at rest draws its cells strong; while a storm is on they step back behind what the moment shows. */
export function setHexagonStrength(map: MapLibreMap, s: keyof typeof strength) {
  if (map.getLayer('hexagons-fill')) map.setPaintProperty('hexagons-fill', 'fill-opacity', opacity(strength[s]))
}

/**
 * Draws (or updates) the hexagons below `beforeId`; null data empties them.
 * `opts.strong`: the wall's dark map, where the cells are the picture.
 */
export function applyHexagons(map: MapLibreMap, data: GeoJSON.FeatureCollection | null, opts: { beforeId?: string; visible?: boolean; strong?: boolean } = {}) {
  const src = map.getSource('hexagons') as GeoJSONSource | undefined
  if (src) {
    src.setData(data ?? empty)
  } else {
    map.addSource('hexagons', { type: 'geojson', data: data ?? empty })
    const before = opts.beforeId && map.getLayer(opts.beforeId) ? opts.beforeId : undefined
    const layout = { visibility: opts.visible === false ? 'none' as const : 'visible' as const }
    map.addLayer({
      id: 'hexagons-fill', type: 'fill', source: 'hexagons', maxzoom: opts.strong ? 24 : HEXAGON_MAX_ZOOM, layout,
      filter: ['>', ['get', 'households'], 0],
      paint: {
        'fill-color': gridFillColor('risk'),
        'fill-opacity': opacity(strength[opts.strong ? 'strong' : 'normal']),
      },
    }, before)
    map.addLayer({
      id: 'hexagons-line', type: 'line', source: 'hexagons', maxzoom: opts.strong ? 24 : HEXAGON_MAX_ZOOM, layout,
      filter: ['>', ['get', 'households'], 0],
      paint: { 'line-color': '#0a1020', 'line-opacity': 0.6, 'line-width': opts.strong ? 1.2 : 0.8 },
    }, before)
  }
  if (opts.visible !== undefined) {
    for (const id of hexagonLayerIds) if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', opts.visible ? 'visible' : 'none')
  }
}
