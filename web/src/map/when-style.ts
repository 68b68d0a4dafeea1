import type * as maplibregl from 'maplibre-gl'

/**
 * Runs `fn` now when the map's style document is in, else once it is. Sources and layers may be added while
 * tiles still load; `isStyleLoaded()` is false as long as any source loads (a busy map, for seconds), and by
 * then 'style.load' has long fired: waiting for it again would wait for ever, and a layer switched on would
 * never show (the hexagon view did so in a loaded full test run).
 */
export function whenStyleReady(map: maplibregl.Map, fn: () => void): void {
  if ((map as unknown as { style?: { _loaded?: boolean } }).style?._loaded || map.isStyleLoaded()) fn()
  else map.once('style.load', fn)
}
