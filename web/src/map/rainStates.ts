import type { Map as MapLibreMap } from 'maplibre-gl'

/** Rain as the map shows it: the signal colour per basic grid id, and the hazard site ids on alert. */
export interface RainOnMap {
  grids: Map<number, string>
  sites: Set<number>
}

export const noRain: RainOnMap = { grids: new Map(), sites: new Set() }

/**
 * Feature state rather than new tiles: a rain update recolours the grids at
 * once, and the tiles (and their cache) stay as they are. MapLibre keeps the
 * state for tiles that load later.
 */
export function applyRain(map: MapLibreMap, rain: RainOnMap) {
  if (!map.getSource('grids') || !map.getSource('hazards')) return
  map.removeFeatureState({ source: 'grids', sourceLayer: 'grids' })
  map.removeFeatureState({ source: 'hazards', sourceLayer: 'hazards' })
  for (const [id, colour] of rain.grids) map.setFeatureState({ source: 'grids', sourceLayer: 'grids', id }, { rain: colour })
  for (const id of rain.sites) map.setFeatureState({ source: 'hazards', sourceLayer: 'hazards', id }, { alert: true })
}
