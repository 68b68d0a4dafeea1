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
 * state for tiles that load later. Both grid states (signal colour, 三查
 * progress per grid id) are set here together: clearing a source's feature
 * state clears every key, so one of them alone would wipe the other.
 */
export function applyGridStates(map: MapLibreMap, rain: RainOnMap, progress: Map<number, string>) {
  if (!map.getSource('grids') || !map.getSource('hazards')) return
  map.removeFeatureState({ source: 'grids', sourceLayer: 'grids' })
  map.removeFeatureState({ source: 'hazards', sourceLayer: 'hazards' })
  for (const [id, colour] of rain.grids) map.setFeatureState({ source: 'grids', sourceLayer: 'grids', id }, { rain: colour })
  for (const [id, state] of progress) map.setFeatureState({ source: 'grids', sourceLayer: 'grids', id }, { progress: state })
  for (const id of rain.sites) map.setFeatureState({ source: 'hazards', sourceLayer: 'hazards', id }, { alert: true })
}
