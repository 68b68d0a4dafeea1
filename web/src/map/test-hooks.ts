import type * as maplibregl from 'maplibre-gl'

/**
 * What the browser tests and the benchmark read from the page: the map, and
 * the time from navigation start to the first idle map with our data drawn.
 */
export interface GridwatchProbe {
  map?: maplibregl.Map
  firstDrawMs?: number
}

declare global {
  interface Window {
    __gridwatch?: GridwatchProbe
  }
}

export function exposeForTests(map: maplibregl.Map) {
  window.__gridwatch = { ...window.__gridwatch, map }
}

export function markFirstDraw(map: maplibregl.Map) {
  const probe = (window.__gridwatch ??= {})
  if (probe.firstDrawMs !== undefined) return
  const drawn = map.queryRenderedFeatures({ layers: ['household-agg-total', 'admin-fill'].filter((id) => map.getLayer(id)) })
  if (drawn.length > 0) probe.firstDrawMs = performance.now()
}
