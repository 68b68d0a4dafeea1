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

/**
 * A step on the way to the first map (`gw:map`, `gw:style`, `gw:load`…), as a performance mark: the page
 * benchmark lays them beside the requests (bench/page.md's waterfall). Once each: later maps add nothing.
 */
export function markStep(name: string) {
  if (performance.getEntriesByName(`gw:${name}`, 'mark').length === 0) performance.mark(`gw:${name}`)
}

export function markFirstDraw(map: maplibregl.Map) {
  const probe = (window.__gridwatch ??= {})
  if (probe.firstDrawMs !== undefined) return
  const drawn = map.queryRenderedFeatures({ layers: ['household-agg-total', 'admin-fill'].filter((id) => map.getLayer(id)) })
  if (drawn.length > 0) {
    probe.firstDrawMs = performance.now()
    markStep('drawn')
  }
}
