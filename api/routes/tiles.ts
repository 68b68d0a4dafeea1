import { Hono } from 'hono'
import { gunzipSync } from 'node:zlib'
import { HttpError } from '../../core/errors.ts'
import type { CachedTile } from '../../tiles/cache.ts'
import type { TileService } from '../../tiles/service.ts'
import { tileJson } from '../../tiles/tilejson.ts'
import { parseTilePath } from '../../tiles/tile-path.ts'
import { publicOrigin, type ProxySettings } from '../proxy.ts'
import { readAfterOf } from '../edge/read-your-writes.ts'

const ACCEPTS_GZIP = /\bgzip\b/

/** A tile's answer: 304 to a matching If-None-Match, else the tile, gzipped when both sides can. */
export function tileReply(tile: CachedTile, ifNoneMatch: string | undefined, acceptEncoding: string | undefined) {
  const headers: Record<string, string> = {
    'Content-Type': 'application/vnd.mapbox-vector-tile',
    ETag: tile.etag,
    // Short-lived: the data changes during a storm; revalidation is a cheap 304.
    'Cache-Control': 'public, max-age=10, stale-while-revalidate=30',
    Vary: 'Accept-Encoding',
  }
  if (ifNoneMatch === tile.etag) return { status: 304 as const, headers, body: null }
  if (!tile.gzipped) return { status: 200 as const, headers, body: tile.body }
  if (ACCEPTS_GZIP.test(acceptEncoding ?? '')) {
    headers['Content-Encoding'] = 'gzip'
    return { status: 200 as const, headers, body: tile.body }
  }
  return { status: 200 as const, headers, body: gunzipSync(tile.body) }
}

export function tileRoutes(tiles: TileService, bounds: () => [number, number, number, number], proxy: ProxySettings) {
  const app = new Hono()

  app.get('/tiles/:file', (c) => {
    const file = c.req.param('file')
    const m = /^([a-z_]+)\.json$/.exec(file)
    if (!m) throw new HttpError(404, 'not_found', `没有这个文件：${file}（应为 /tiles/{图层}.json）`, `no such file: ${file} (expected /tiles/{layer}.json)`)
    const layer = tiles.layer(m[1])
    // Never the Host header: this answer is cached by URL. Without a configured origin the tile URLs
    // are paths, which our web app resolves against its own address (web/src/map/resolve-url.ts).
    c.header('Cache-Control', 'public, max-age=60')
    if (!proxy.publicOrigin && proxy.trust.kind !== 'none') c.header('Vary', 'X-Forwarded-Host, X-Forwarded-Proto')
    return c.json(tileJson(layer, publicOrigin(c, proxy) ?? '', bounds()))
  })

  app.get('/tiles/:layer/:z/:x/:file', async (c) => {
    const { layer, z, x, file } = c.req.param()
    const t = parseTilePath(`/tiles/${layer}/${z}/${x}/${file}`)
    if (t instanceof HttpError) throw t
    const tile = await tiles.tile(t.layer, t, readAfterOf(c))
    const reply = tileReply(tile, c.req.header('If-None-Match'), c.req.header('Accept-Encoding'))
    if (!reply.body) return c.body(null, reply.status, reply.headers)
    // Node's Buffers sit on plain ArrayBuffers; no copy needed.
    return c.body(reply.body as Uint8Array<ArrayBuffer>, reply.status, reply.headers)
  })
  return app
}
