import { getRequestListener } from '@hono/node-server'
import { VectorTile } from '@mapbox/vector-tile'
import { createServer, get, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'
import { PbfReader } from 'pbf'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cliActor, createAccount } from '../../api/auth/accounts.ts'
import { startServer, type RunningServer } from '../../api/server.ts'
import { tileFastPath } from '../../api/tile-fast-path.ts'
import { tilesCovering } from '../../tiles/tile-math.ts'
import { login, loginAs, TEST_PASSWORD, type Client } from '../helpers/session.ts'
import { targets } from '../helpers/targets.ts'

const CITY = '530600000000'

interface Answer { status: number; headers: IncomingHttpHeaders; body: Buffer }

/** One request over node:http, the body as sent (not decompressed). */
function ask(base: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = get(base + path, { method, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('error', reject)
  })
}

async function listen(server: Server) {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** The headers but the date and the request id (each answer's own; the server's access log sets it in front of both paths). */
const withoutDate = ({ date, 'x-request-id': id, ...rest }: IncomingHttpHeaders) => (void date, void id, rest)

for (const target of targets()) {
  describe(`tile fast path on ${target.name}`, () => {
    let s: RunningServer
    let me: Client
    let mustChange: Client
    let honoOnly: Server
    let honoUrl: string
    let full: string // a tile of a few KB
    let empty: string
    beforeAll(async () => {
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true })
      me = await loginAs(s, 'viewer', CITY)
      const username = `tmustchange${Date.now().toString(36)}`
      await createAccount(s.db.sql, { username, displayName: '须改密码', role: 'viewer', unitCode: CITY, password: TEST_PASSWORD }, cliActor('test'), { mustChange: true })
      mustChange = await login(s, username, TEST_PASSWORD)
      honoOnly = createServer(getRequestListener(s.app.fetch))
      honoUrl = await listen(honoOnly)
      const [h] = await s.db.sql`SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat FROM households ORDER BY id LIMIT 1`
      const [t] = tilesCovering([h.lon, h.lat, h.lon, h.lat], 13)
      full = `/tiles/households/13/${t.x}/${t.y}.mvt`
      empty = '/tiles/households/16/0/0.mvt'
    })
    afterAll(async () => {
      honoOnly?.close()
      await s?.close()
    })

    it('answers every tile request exactly as the Hono app alone does', async () => {
      const fast = `http://127.0.0.1:${s.port}`
      const { etag } = (await ask(fast, full, { cookie: me.cookie })).headers
      const cases: [string, Record<string, string>, string?][] = [
        [full, { cookie: me.cookie, 'accept-encoding': 'gzip, deflate' }],
        [full, { cookie: me.cookie, 'accept-encoding': 'identity' }],
        [full, { cookie: me.cookie }],
        [full, { cookie: me.cookie, 'if-none-match': etag as string }],
        [full, { cookie: me.cookie, 'if-none-match': '"stale"' }],
        [empty, { cookie: me.cookie, 'accept-encoding': 'gzip' }],
        [`${full}?v=1`, { cookie: me.cookie }],
        [full, {}],
        [full, { cookie: 'gw_session=not-a-session-token-at-all' }],
        [full, { cookie: mustChange.cookie }],
        [full, { cookie: me.cookie }, 'HEAD'],
        [full, { cookie: me.cookie }, 'POST'],
        ['/tiles/grids/1/2/0.mvt', { cookie: me.cookie }],
        ['/tiles/grids/23/0/0.mvt', { cookie: me.cookie }],
        ['/tiles/grids/01/0/0.mvt', { cookie: me.cookie }],
        ['/tiles/nope/1/0/0.mvt', { cookie: me.cookie }],
        ['/tiles/grids/1/0/0.png', { cookie: me.cookie }],
      ]
      for (const [path, headers, method] of cases) {
        const label = `${method ?? 'GET'} ${path} ${JSON.stringify(headers)}`
        // Cold on the fast path, then the same tile (now cached) through Hono, then cold through Hono.
        s.tiles.cache.clear()
        const a = await ask(fast, path, headers, method)
        const b = await ask(honoUrl, path, headers, method)
        s.tiles.cache.clear()
        const c = await ask(honoUrl, path, headers, method)
        expect(a.status, label).toBe(b.status)
        expect(withoutDate(a.headers), label).toEqual(withoutDate(b.headers))
        expect(a.body.equals(b.body), label).toBe(true)
        expect(withoutDate(c.headers), label).toEqual(withoutDate(b.headers))
      }
    })

    it('serves logged-in GETs of well-formed tiles itself and hands everything else on', async () => {
      const fallThrough = createServer(tileFastPath({ tiles: s.tiles, sessions: s.sessions, securityHeaders: {} }, (_req, res) => {
        res.writeHead(599)
        res.end()
      }))
      const base = await listen(fallThrough)
      try {
        expect((await ask(base, full, { cookie: me.cookie })).status).toBe(200)
        expect((await ask(base, empty, { cookie: me.cookie })).status).toBe(200)
        const { etag } = (await ask(base, full, { cookie: me.cookie })).headers
        expect((await ask(base, full, { cookie: me.cookie, 'if-none-match': etag as string })).status).toBe(304)
        for (const [path, headers, method] of [
          [full, {}], [full, { cookie: mustChange.cookie }], [full, { cookie: 'gw_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }],
          [full, { cookie: me.cookie }, 'HEAD'], [`${full}?v=1`, { cookie: me.cookie }], ['/tiles/grids/1/2/0.mvt', { cookie: me.cookie }],
          ['/tiles/nope/1/0/0.mvt', { cookie: me.cookie }], ['/tiles/grids/1/0/0.png', { cookie: me.cookie }], ['/tiles/grids.json', { cookie: me.cookie }], ['/api/health', {}],
        ] as [string, Record<string, string>, string?][]) {
          expect((await ask(base, path, headers, method)).status, `${method ?? 'GET'} ${path}`).toBe(599)
        }
      } finally {
        fallThrough.close()
      }
    })

    it('gzips a tile of 1 KB or more when asked, and sends a smaller one as it is', async () => {
      const fast = `http://127.0.0.1:${s.port}`
      const zipped = await ask(fast, full, { cookie: me.cookie, 'accept-encoding': 'gzip' })
      expect(zipped.headers['content-encoding']).toBe('gzip')
      const raw = gunzipSync(zipped.body)
      expect(raw.length).toBeGreaterThanOrEqual(1024)
      expect(new VectorTile(new PbfReader(raw)).layers.households.length).toBeGreaterThan(0)
      const plain = await ask(fast, full, { cookie: me.cookie })
      expect(plain.headers['content-encoding']).toBeUndefined()
      expect(plain.body.equals(raw)).toBe(true)
      const small = await ask(fast, empty, { cookie: me.cookie, 'accept-encoding': 'gzip' })
      expect(small.status).toBe(200)
      expect(small.headers['content-encoding']).toBeUndefined()
      expect(small.body.length).toBeLessThan(1024)
      expect(small.headers.etag).toMatch(/^".+"$/)
    })
  })
}
