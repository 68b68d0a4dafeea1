/**
 * Cross-origin reads for configured origins (issue #22): a portal's page may
 * read tiles (through the fast path and Hono), TileJSON, the OGC API and
 * exports with the user's session; any other origin gets no CORS header; no
 * write is shared; with nothing configured nothing changes.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { loginAs, type Client } from '../helpers/session.ts'

const PORTAL = 'https://portal.example.cn'
const ACAO = 'access-control-allow-origin'

describe('cross-origin reads', () => {
  let s: RunningServer
  let plain: RunningServer
  let planner: Client
  let tile: string

  beforeAll(async () => {
    s = await startServer({ port: 0, databaseUrl: inject('embeddedUrl'), seedScale: false, quiet: true, corsOrigins: [PORTAL] })
    plain = await startServer({ port: 0, databaseUrl: inject('embeddedUrl'), seedScale: false, quiet: true, corsOrigins: [] })
    planner = await loginAs(s, 'planner', '530600000000')
    const [c] = await s.db.sql`SELECT ST_X(label_point) AS lon, ST_Y(label_point) AS lat FROM admin_units WHERE level = 'county' ORDER BY code LIMIT 1`
    const z = 12
    const x = Math.floor(((c.lon + 180) / 360) * 2 ** z)
    const y = Math.floor(((1 - Math.log(Math.tan((c.lat * Math.PI) / 180) + 1 / Math.cos((c.lat * Math.PI) / 180)) / Math.PI) / 2) * 2 ** z)
    tile = `/tiles/grids/${z}/${x}/${y}.mvt`
  })
  afterAll(async () => {
    await s?.close()
    await plain?.close()
  })

  const get = (server: RunningServer, path: string, origin?: string, init: RequestInit = {}) =>
    fetch(server.url + path, { ...init, headers: { Cookie: planner.cookies, ...(origin ? { Origin: origin } : {}), ...(init.headers ?? {}) } })

  it('lets the listed origin read a tile (the fast path), TileJSON, OGC items and an export, with credentials', async () => {
    for (const path of [tile, `${tile}?v=1`, '/tiles/grids.json', '/ogc/collections/shelters/items?limit=2', '/api/export/shelters.csv?unit=530600000000']) {
      const r = await get(s, path, PORTAL)
      expect(r.status, path).toBe(200)
      expect(r.headers.get(ACAO), path).toBe(PORTAL)
      expect(r.headers.get('access-control-allow-credentials'), path).toBe('true')
      expect(r.headers.get('vary') ?? '', path).toMatch(/Origin/)
      await r.arrayBuffer()
    }
  })

  it('gives another origin no CORS header, and the answer still varies by Origin', async () => {
    for (const path of [tile, '/ogc/collections/shelters/items?limit=2']) {
      const r = await get(s, path, 'https://evil.example.com')
      expect(r.headers.get(ACAO), path).toBeNull()
      expect(r.headers.get('vary') ?? '', path).toMatch(/Origin/)
      await r.arrayBuffer()
    }
  })

  it('answers a read preflight without a session, refuses to share a write or another origin\'s preflight', async () => {
    const pre = (origin: string, method: string) => fetch(`${s.url}${tile}`, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': method } })
    const ok = await pre(PORTAL, 'GET')
    expect(ok.status).toBe(204)
    expect(ok.headers.get(ACAO)).toBe(PORTAL)
    expect(ok.headers.get('access-control-allow-methods')).toBe('GET, HEAD')
    for (const r of [await pre(PORTAL, 'POST'), await pre('https://evil.example.com', 'GET')]) {
      expect(r.status).toBe(204)
      expect(r.headers.get(ACAO)).toBeNull()
    }
    // A write from the listed origin: no CORS header (and the CSRF check refuses it as before).
    const w = await get(s, '/api/export/shelters.csv?unit=530600000000', PORTAL, { method: 'POST' })
    expect(w.headers.get(ACAO)).toBeNull()
    const api = await get(s, '/api/units/530600000000', PORTAL)
    expect(api.headers.get(ACAO), 'the rest of /api is not shared').toBeNull()
  })

  it('changes nothing when no origin is configured', async () => {
    const r = await get(plain, tile, PORTAL)
    expect(r.status).toBe(200)
    expect(r.headers.get(ACAO)).toBeNull()
    expect(r.headers.get('vary') ?? '').not.toMatch(/Origin/)
  })
})
