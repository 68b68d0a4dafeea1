/**
 * OGC API – Features Part 1 (Core, GeoJSON, OpenAPI 3.0) at /ogc, so that
 * QGIS and GDAL (the OAPIF driver) open our layers directly. Login is checked
 * by the /ogc middleware in app.ts (session cookie or HTTP Basic).
 */
import type { Context } from 'hono'
import { Hono } from 'hono'
import type { Reads } from '../../db/replica.ts'
import { readAfterOf } from '../edge/read-your-writes.ts'
import { publicOrigin, socketOrigin, type ProxySettings } from '../proxy.ts'
import { HttpError, parseId } from '../../core/errors.ts'
import { isLayerId, layers } from '../datasets.ts'
import { collection, collections, conformsTo, landing, openapi } from '../ogc/documents.ts'
import { bboxToLonLat, defaultCrs, parseCrs } from '../ogc/crs.ts'
import { featurePage, oneFeature } from '../ogc/features.ts'
import { checkDatetime, DEFAULT_LIMIT, negotiate, parseBbox, parseLimit, parseOffset, queryParams, type Produces } from '../ogc/params.ts'


function send(c: Context, body: unknown, f: string | undefined, produces: Produces) {
  const type = negotiate(c, f, produces)
  return c.body(typeof body === 'string' ? body : JSON.stringify(body), 200, {
    'Content-Type': type,
    // Pages may hold names for one reader and masks for another: never shared caches.
    'Cache-Control': 'private, no-cache',
  })
}

function layerOf(id: string) {
  if (!isLayerId(id)) throw new HttpError(404, 'not_found', `没有这个图层（集合）：${id}`, `no collection ${id}`)
  return layers[id]
}

export function ogcRoutes(reads: Reads, bounds: () => [number, number, number, number], proxy: ProxySettings) {
  const app = new Hono()
  // Our public origin, else the address the connection reached (GDAL resolves no root-relative link): never the Host header.
  const baseUrl = (c: Context) => publicOrigin(c, proxy) ?? socketOrigin(c) ?? ''

  const landingPage = (c: Context) => send(c, landing(baseUrl(c)), queryParams(c, ['f']).f, 'json')
  app.get('/ogc', landingPage)
  app.get('/ogc/', landingPage)
  app.get('/ogc/conformance', (c) => send(c, { conformsTo }, queryParams(c, ['f']).f, 'json'))
  app.get('/ogc/api', (c) => send(c, openapi(baseUrl(c)), queryParams(c, ['f']).f, 'openapi'))
  app.get('/ogc/collections', (c) => send(c, collections(baseUrl(c), bounds()), queryParams(c, ['f']).f, 'json'))
  app.get('/ogc/collections/:id', (c) => {
    const layer = layerOf(c.req.param('id'))
    return send(c, collection(baseUrl(c), layer, bounds()), queryParams(c, ['f']).f, 'json')
  })

  app.get('/ogc/collections/:id/items', async (c) => {
    const layer = layerOf(c.req.param('id'))
    const p = queryParams(c, ['f', 'bbox', 'bbox-crs', 'crs', 'limit', 'offset', 'datetime'])
    const type = negotiate(c, p.f, 'geojson') // before the query: a 406 costs nothing
    const crs = p.crs === undefined ? defaultCrs : parseCrs('crs', p.crs)
    const bboxCrs = p['bbox-crs'] === undefined ? defaultCrs : parseCrs('bbox-crs', p['bbox-crs'])
    const bbox = p.bbox === undefined ? undefined : bboxToLonLat(p.bbox, bboxCrs, parseBbox)
    const limit = p.limit === undefined ? DEFAULT_LIMIT : parseLimit(p.limit)
    const offset = p.offset === undefined ? 0 : parseOffset(p.offset)
    if (p.datetime !== undefined) checkDatetime(p.datetime)
    const { features, matched } = await reads.run(readAfterOf(c), (sql) => featurePage(sql, layer, c.get('user'), { bbox, limit, offset, crs }))

    const base = `${baseUrl(c)}/ogc/collections/${layer.id}`
    const at = (o: number) => {
      const q = new URLSearchParams()
      if (p.bbox !== undefined) q.set('bbox', p.bbox)
      if (p['bbox-crs'] !== undefined) q.set('bbox-crs', bboxCrs.uri)
      if (p.crs !== undefined) q.set('crs', crs.uri)
      if (p.datetime !== undefined) q.set('datetime', p.datetime)
      q.set('limit', String(limit))
      q.set('offset', String(o))
      q.set('f', 'json')
      return `${base}/items?${q}`
    }
    const links = [
      { href: at(offset), rel: 'self', type: 'application/geo+json', title: 'This page' },
      { href: `${base}?f=json`, rel: 'collection', type: 'application/json', title: layer.zh },
    ]
    if (offset + features.length < matched) links.push({ href: at(offset + limit), rel: 'next', type: 'application/geo+json', title: 'Next page' })
    if (offset > 0) links.push({ href: at(Math.max(0, offset - limit)), rel: 'prev', type: 'application/geo+json', title: 'Previous page' })
    // Features are GeoJSON text already (geometry written by PostGIS): spliced in, not re-parsed.
    const head = JSON.stringify({ type: 'FeatureCollection', numberMatched: matched, numberReturned: features.length, timeStamp: new Date().toISOString(), links })
    c.header('Content-Crs', `<${crs.uri}>`)
    c.header('Cache-Control', 'private, no-cache')
    return c.body(`${head.slice(0, -1)},"features":[${features.join(',')}]}`, 200, { 'Content-Type': type })
  })

  app.get('/ogc/collections/:id/items/:featureId', async (c) => {
    const layer = layerOf(c.req.param('id'))
    const p = queryParams(c, ['f', 'crs'])
    const type = negotiate(c, p.f, 'geojson')
    const crs = p.crs === undefined ? defaultCrs : parseCrs('crs', p.crs)
    const raw = c.req.param('featureId')
    // Feature ids are opaque to clients: one that cannot be ours is simply not there.
    let id: number
    try {
      id = parseId(raw, { zh: layer.zh, en: layer.id })
    } catch {
      throw new HttpError(404, 'not_found', `找不到${layer.zh}：${raw}`, `no ${layer.id} feature ${raw}`)
    }
    const feature = await reads.run(readAfterOf(c), (sql) => oneFeature(sql, layer, c.get('user'), id, crs))
    if (!feature) throw new HttpError(404, 'not_found', `找不到${layer.zh}：${raw}`, `no ${layer.id} feature ${raw}`)
    const base = `${baseUrl(c)}/ogc/collections/${layer.id}`
    const links = [
      { href: `${base}/items/${id}?${p.crs === undefined ? '' : `crs=${encodeURIComponent(crs.uri)}&`}f=json`, rel: 'self', type: 'application/geo+json' },
      { href: `${base}?f=json`, rel: 'collection', type: 'application/json' },
    ]
    c.header('Content-Crs', `<${crs.uri}>`)
    c.header('Cache-Control', 'private, no-cache')
    return c.body(`${feature.slice(0, -1)},"links":${JSON.stringify(links)}}`, 200, { 'Content-Type': type })
  })

  // Read-only service: anything but GET/HEAD is 405, an unknown path 404.
  const rest = (c: Context) => {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      c.header('Allow', 'GET, HEAD')
      throw new HttpError(405, 'method_not_allowed', `只读服务，不支持 ${c.req.method}`, `read-only service: ${c.req.method} is not allowed`)
    }
    throw new HttpError(404, 'not_found', `没有这个地址：${c.req.path}`, `nothing at ${c.req.path}`)
  }
  app.all('/ogc', rest)
  app.all('/ogc/*', rest)
  return app
}
