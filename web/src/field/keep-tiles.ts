import { kv } from './store.ts'
import { MAX_BYTES, MAX_TILES, tilesToKeep, type BasemapConfig, type Bbox } from './tile-list.ts'

/** Kept tiles are asked again (a cheap 304 when unchanged) at most this often: a storm changes the grid's colours, not by the minute. */
const REFRESH_MS = 10 * 60_000

/**
 * Tells the service worker which tiles to keep for the grid (web/public/m/sw.js):
 * after the grid's data came from the server, so only with a signal. A new
 * grid, a new basemap or an old copy (REFRESH_MS) makes it ask for every
 * tile again; within REFRESH_MS nothing is asked.
 */
export async function keepGridTiles(gridCode: string, bbox: Bbox) {
  const sw = navigator.serviceWorker
  if (!sw) return
  const last = await kv.get<{ key: string; at: number }>('tilesKept')
  if (last?.key.startsWith(`${gridCode}|`) && Date.now() - last.at < REFRESH_MS) return
  const basemap = await fetch('/api/config', { cache: 'no-store' }).then((r) => r.ok ? r.json() as Promise<{ basemap: BasemapConfig | null }> : null)
    .then((c) => c?.basemap ?? null, () => undefined)
  if (basemap === undefined) return // no signal after all
  const { urls, zooms } = tilesToKeep(bbox, basemap)
  await Promise.all([kv.set('tileZooms', zooms), kv.set('basemapTiles', basemap?.tiles?.filter((t) => /^https?:\/\//.test(t)) ?? [])])
  const reg = await sw.ready
  reg.active?.postMessage({ type: 'keep-tiles', urls, maxTiles: MAX_TILES, maxBytes: MAX_BYTES, refresh: true })
  await kv.set('tilesKept', { key: `${gridCode}|${urls.length}`, at: Date.now() })
}
