import type { RequestTransformFunction } from 'maplibre-gl'

/**
 * The server gives TileJSON tile URLs as paths unless it was told its public
 * address (it never builds one from the Host header a caller can forge).
 * MapLibre fetches tiles in a worker, where a path resolves to nothing: make
 * it absolute against the page's own address.
 */
export const resolveRelativeUrls: RequestTransformFunction = (url) => ({ url: url.startsWith('/') && !url.startsWith('//') ? new URL(url, window.location.origin).href : url })
