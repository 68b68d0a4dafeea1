import type { RequestTransformFunction } from 'maplibre-gl'

/** Our own vector tiles, whatever origin a TileJSON names them under. */
const OUR_TILE = /^\/tiles\/[a-z_]+\/\d+\/\d+\/\d+\.mvt$/

/**
 * Our tiles are fetched from the page's own origin. The server gives TileJSON
 * tile URLs as paths unless it was told its public address (it never builds
 * one from the Host header a caller can forge), and MapLibre fetches tiles in
 * a worker, where a path resolves to nothing: make it absolute against the
 * page. A public address in the TileJSON is also mapped to the page's origin,
 * so a print render (served to the server's own Chromium on the loopback
 * address, which may reach nothing else) gets the tiles it is allowed to.
 */
export const resolveRelativeUrls: RequestTransformFunction = (url) => {
  if (url.startsWith('/') && !url.startsWith('//')) return { url: new URL(url, window.location.origin).href }
  try {
    const u = new URL(url)
    if (u.origin !== window.location.origin && OUR_TILE.test(u.pathname)) return { url: window.location.origin + u.pathname + u.search }
  } catch {
    // Not a URL MapLibre can fetch either: leave it to report.
  }
  return { url }
}
