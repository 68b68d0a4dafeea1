import type * as maplibregl from 'maplibre-gl'
import { dataBelow, labelsBelow } from './context-layers.ts'
import type { Cover, CoverGrid, Preview } from './types.ts'

/**
 * The village's cover on the editor map (GeoJSON sources, not tiles: it
 * changes with every edit): grids filled by their size against the guidance,
 * micro-grid and grid outlines, the server's proposal, the village edge.
 * Colours keep clear of 红黄绿 (the household dots drawn over the fill) and
 * of the hazard pinks.
 */
export const sizeColor = { low: '#42a5f5', ok: '#7f93bd', high: '#ab47bc' } as const
const accent = '#00e5ff'
const proposal = '#ff9100'

export function addCoverLayers(map: maplibregl.Map) {
  const empty: GeoJSON.FeatureCollection = { type: 'FeatureCollection', features: [] }
  for (const id of ['village', 'grids', 'micro', 'proposed']) map.addSource(id, { type: 'geojson', data: empty })
  const under = (id: string) => (map.getLayer(id) ? id : undefined)
  map.addLayer({
    id: 'grids-fill', type: 'fill', source: 'grids',
    paint: { 'fill-color': ['match', ['get', 'size'], 'low', sizeColor.low, 'high', sizeColor.high, sizeColor.ok], 'fill-opacity': ['case', ['get', 'selected'], 0.12, 0.28] },
  }, under(dataBelow))
  const lines: maplibregl.LayerSpecification[] = [
    { id: 'micro-line', type: 'line', source: 'micro', paint: { 'line-color': ['case', ['get', 'selected'], accent, '#9fb1d6'], 'line-width': ['case', ['get', 'selected'], 2.5, 0.8], 'line-dasharray': [2, 2] } },
    { id: 'grids-line', type: 'line', source: 'grids', paint: { 'line-color': ['case', ['get', 'selected'], accent, '#c9d4ea'], 'line-width': ['case', ['get', 'selected'], 3, 1.5] } },
    { id: 'proposed-line', type: 'line', source: 'proposed', paint: { 'line-color': proposal, 'line-width': 2.5, 'line-dasharray': [3, 1] } },
    { id: 'village-line', type: 'line', source: 'village', paint: { 'line-color': '#ffffff', 'line-width': 3 } },
  ]
  for (const l of lines) map.addLayer(l, under(labelsBelow))
}

/** Colour by the default guidance; the preview shows the server's figures. */
export function sizeOf(g: CoverGrid): 'low' | 'ok' | 'high' {
  const [min, max] = g.kind === 'basic' ? [60, 100] : [10, 30]
  return g.households < min ? 'low' : g.households > max ? 'high' : 'ok'
}

/** The cover as it is, the picked grid or micro-grid marked. */
export function showCover(map: maplibregl.Map, cover: Cover, selected: string | null) {
  const fc = (kind: 'basic' | 'micro'): GeoJSON.FeatureCollection => ({
    type: 'FeatureCollection',
    features: cover.grids.filter((g) => g.kind === kind).map((g) => ({
      type: 'Feature', geometry: g.geom, properties: { key: g.key, selected: g.key === selected, households: g.households, size: sizeOf(g) },
    })),
  })
  ;(map.getSource('grids') as maplibregl.GeoJSONSource | undefined)?.setData(fc('basic'))
  ;(map.getSource('micro') as maplibregl.GeoJSONSource | undefined)?.setData(fc('micro'))
  ;(map.getSource('village') as maplibregl.GeoJSONSource | undefined)?.setData({ type: 'Feature', geometry: cover.village.geom, properties: {} })
}

/**
 * The server's proposed cover, drawn over the current one: the basic grids,
 * or for a change of micro-grids those of their grid (`parent`; the basic
 * grids do not move then).
 */
export function showProposal(map: maplibregl.Map, preview: Preview | null, parent: string | null) {
  const shown = (preview?.grids ?? []).filter((g) => (parent ? g.kind === 'micro' && g.parent === parent : g.kind === 'basic'))
  ;(map.getSource('proposed') as maplibregl.GeoJSONSource | undefined)?.setData({ type: 'FeatureCollection', features: shown.map((g) => ({ type: 'Feature', geometry: g.geom, properties: {} })) })
}
