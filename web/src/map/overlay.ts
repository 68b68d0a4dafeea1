import { MapLibreOverlay } from '@deck.gl/maplibre'
import { GeoJsonLayer, ScatterplotLayer } from '@deck.gl/layers'
import { selectColor } from './colors.ts'

/**
 * deck.gl, interleaved with MapLibre's layers, draws the highlights: the
 * chosen area's outline and the chosen record. They come from the API as
 * GeoJSON, change on every click and carry a glow that a MapLibre line layer
 * would need a GeoJSON source and three layers to fake; deck.gl redraws them
 * without touching the tile sources.
 *
 * MapLibreOverlay is deck.gl's MapboxOverlay for MapLibre 6: the Mapbox one
 * reads `map.transform`, which MapLibre 6 no longer has, and throws on draw.
 *
 * deck.gl is most of the command map's code: MapView imports this module only
 * once something is to be highlighted, so the first map is drawn without it.
 */
export interface Highlight {
  area: GeoJSON.Geometry | null
  record: { geometry: GeoJSON.Geometry } | null
}

export type Overlay = MapLibreOverlay

export function createOverlay(): Overlay {
  return new MapLibreOverlay({ interleaved: true, layers: [] })
}

export function highlightLayers(h: Highlight) {
  const [r, g, b] = selectColor
  const layers = []
  if (h.area) {
    layers.push(
      new GeoJsonLayer({
        id: 'area-glow', data: { type: 'Feature', geometry: h.area, properties: {} } as GeoJSON.Feature,
        filled: false, stroked: true, getLineColor: [r, g, b, 70], getLineWidth: 9, lineWidthUnits: 'pixels', lineJointRounded: true,
      }),
      new GeoJsonLayer({
        id: 'area-line', data: { type: 'Feature', geometry: h.area, properties: {} } as GeoJSON.Feature,
        filled: false, stroked: true, getLineColor: [r, g, b, 255], getLineWidth: 2.5, lineWidthUnits: 'pixels', lineJointRounded: true,
      }),
    )
  }
  const geom = h.record?.geometry
  if (geom?.type === 'Point') {
    layers.push(
      new ScatterplotLayer<GeoJSON.Point>({
        id: 'record-point', data: [geom], getPosition: (p) => p.coordinates as [number, number],
        filled: false, stroked: true, getRadius: 14, radiusUnits: 'pixels', getLineColor: [255, 255, 255, 255],
        getLineWidth: 3, lineWidthUnits: 'pixels',
      }),
    )
  } else if (geom) {
    layers.push(
      new GeoJsonLayer({
        id: 'record-area', data: { type: 'Feature', geometry: geom, properties: {} } as GeoJSON.Feature,
        filled: true, getFillColor: [255, 255, 255, 40], stroked: true, getLineColor: [255, 255, 255, 255],
        getLineWidth: 2.5, lineWidthUnits: 'pixels',
      }),
    )
  }
  return layers
}
