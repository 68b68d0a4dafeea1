import { latToTileY, lonToTileX } from '../../tiles/tile-math.ts'
import fs from 'node:fs'
import http2 from 'node:http2'
import net from 'node:net'
import { randomUUID } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { cliActor, createAccount } from '../../api/auth/accounts.ts'
import { parseTrustProxy } from '../../api/proxy.ts'
import { freePort, freshPostgis } from '../helpers/fresh-postgis.ts'
import { nginxPath, selfSignedCertificate, startNginx } from '../helpers/nginx.ts'
import { siteFor } from '../../scripts/lib/nginx-site.ts'
import { openSse, type SseStream } from '../helpers/sse.ts'

const exe = nginxPath('nginx in front of three API processes')
const db = exe ? await freshPostgis('nginx') : null

/**
 * Three API processes on one fresh PostGIS database behind the real nginx running deploy/nginx/gridwatch.conf:
 * the API processes hold no state of their own (sessions, the live feed and the tile cache's invalidation go through
 * PostgreSQL), so any of them serves any request, and one going away is not noticed by the clients.
 */
describe.skipIf(!db)('deploy/nginx/gridwatch.conf in front of three API processes', () => {
  const api: RunningServer[] = []
  let dir: string
  let nginx: Awaited<ReturnType<typeof startNginx>> | undefined
  let base: string
  let tls: number
  let redirect: number
  let cert: { cert: string; key: string }
  let cookies: string
  let csrf: string
  let orderId: number
  let households: number[]
  const streams: SseStream[] = []
  const closed = new Set<number>()

  const get = (p: string, headers: Record<string, string> = {}) => fetch(base + p, { headers: { Cookie: cookies, ...headers } })
  const setStatus = (via: string, hid: number, status: string) =>
    fetch(`${via}/api/evacuation/orders/${orderId}/households/${hid}`, {
      method: 'PATCH', headers: { 'Content-Type': 'application/json', Cookie: cookies, 'X-CSRF-Token': csrf }, body: JSON.stringify({ status }),
    })

  beforeAll(async () => {
    const proxy = { publicOrigin: null, trust: parseTrustProxy('loopback') }
    // The first applies the migrations and fills the empty database; the other two start on it, as systemd's would.
    api.push(await startServer({ port: 0, databaseUrl: db!.url, seedScale: 'test', quiet: true, proxy, stopGraceMs: 2000 }))
    api.push(...(await Promise.all([1, 2].map(() => startServer({ port: 0, databaseUrl: db!.url, seedScale: false, quiet: true, proxy, stopGraceMs: 2000 })))))

    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridwatch-nginx-'))
    cert = selfSignedCertificate(dir)
    const webDist = path.join(dir, 'web-dist')
    fs.mkdirSync(path.join(webDist, 'assets'), { recursive: true })
    fs.writeFileSync(path.join(webDist, 'assets', 'index-Abc123.js'), `export const words = ${JSON.stringify('一二三四五六七八九十'.repeat(400))}\n`)
    const [plain, t, r] = [await freePort(), await freePort(), await freePort()]
    tls = t
    redirect = r
    base = `http://127.0.0.1:${plain}`
    nginx = await startNginx(exe!, dir, siteFor({ upstreamHeader: 'events', apiPorts: api.map((s) => s.port), tls, plain, redirect, ...cert, webDist, tileCache: path.join(dir, 'tile-cache'), accessLog: path.join(dir, 'gridwatch.access.log') }), plain)

    // A township's staff, logged in through nginx, with an evacuation order of its households.
    const [town] = await api[0].db.sql`
      SELECT left(z.admin_code, 9) || '000' AS code FROM hazard_sites z WHERE z.threatened_households > 0 ORDER BY z.id LIMIT 1`
    const password = 'Nginx-test-2026'
    await createAccount(api[0].db.sql, { username: 'nginxtown', displayName: '测试乡镇干部', role: 'township', unitCode: town.code as string, password }, cliActor('test'))
    const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'nginxtown', password }) })
    expect(login.status, await login.clone().text()).toBe(200)
    cookies = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
    csrf = (await login.json()).csrfToken
    const sites = (await api[0].db.sql`SELECT id FROM hazard_sites WHERE admin_code LIKE ${(town.code as string).slice(0, 9) + '%'} AND threatened_households > 0`).map((x) => x.id as number)
    const o = await fetch(`${base}/api/evacuation/orders`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', Cookie: cookies, 'X-CSRF-Token': csrf },
      body: JSON.stringify({ stage: 'everyone', trigger: { kind: 'manual' }, sites }),
    })
    expect(o.status, await o.clone().text()).toBe(201)
    orderId = (await o.json()).order.id
    households = (await api[0].db.sql`SELECT household_id AS id FROM evac_households WHERE order_id = ${orderId} ORDER BY 1 LIMIT 4`).map((x) => x.id as number)
    expect(households.length).toBe(4)
  })

  afterAll(async () => {
    for (const s of streams) s.close()
    await nginx?.stop()
    await Promise.all(api.filter((_, i) => !closed.has(i)).map((s) => s.close()))
    await db?.drop()
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
  })

  /** A live-feed stream through nginx, and the API process serving it (nginx's X-Test-Upstream). */
  async function feed(headers: Record<string, string> = {}) {
    const stream = await openSse(`${base}/api/events`, { Cookie: cookies, ...headers })
    streams.push(stream)
    expect(stream.status).toBe(200)
    const server = api.findIndex((s) => stream.headers.get('x-test-upstream') === `127.0.0.1:${s.port}`)
    expect(server, `served by ${stream.headers.get('x-test-upstream')}`).toBeGreaterThanOrEqual(0)
    await stream.waitFor((m) => m.event === 'hello')
    return { stream, server }
  }
  const isStatusOf = (hid: number) => (m: { event: string; data: string }) => m.event === 'evac.status' && JSON.parse(m.data).households.includes(hid)

  it('logs in, reads and serves the web bundle through nginx: TLS with HTTP/2, gzip, immutable assets', async () => {
    // Reads spread over the three processes (least_conn): the session made through one is good on all.
    const seen = new Set<string>()
    for (let i = 0; i < 9; i++) {
      const r = await get('/api/auth/me')
      expect(r.status).toBe(200)
      seen.add((await r.json()).user.username)
    }
    expect([...seen]).toEqual(['nginxtown'])
    const county = await get('/api/units/530600000000', { 'Accept-Encoding': 'gzip' })
    expect(county.status).toBe(200)
    expect(county.headers.get('content-encoding')).toBe('gzip')

    const asset = await fetch(`${base}/assets/index-Abc123.js`, { headers: { 'Accept-Encoding': 'gzip' } })
    expect(asset.status).toBe(200)
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(asset.headers.get('content-encoding')).toBe('gzip')
    expect(asset.headers.get('x-content-type-options')).toBe('nosniff')
    expect((await fetch(`${base}/assets/missing-1.js`)).status).toBe(404)

    // Plain HTTP on the public port sends people to HTTPS at the configured name, whatever Host the request names.
    const r = await fetch(`http://127.0.0.1:${redirect}/screen?x=1`, { redirect: 'manual', headers: { Host: 'evil.example' } })
    expect(r.status).toBe(301)
    expect(r.headers.get('location')).toBe('https://gridwatch.example.cn/screen?x=1')

    // TLS with the (self-signed) certificate, spoken as HTTP/2.
    const session = http2.connect(`https://127.0.0.1:${tls}`, { ca: fs.readFileSync(cert.cert) })
    try {
      const answer = await new Promise<{ status: number; hsts: string; body: string }>((resolve, reject) => {
        const req = session.request({ ':path': '/api/health' })
        let body = ''
        let head: http2.IncomingHttpHeaders = {}
        req.on('response', (h) => (head = h))
        req.on('data', (d: Buffer) => (body += d))
        req.on('end', () => resolve({ status: Number(head[':status']), hsts: String(head['strict-transport-security']), body }))
        req.on('error', reject)
        req.end()
      })
      expect(answer.status).toBe(200)
      expect(JSON.parse(answer.body)).toMatchObject({ ok: true, database: 'postgis' })
      expect(answer.hsts).toContain('max-age=')
    } finally {
      session.close()
    }
  })

  it('keeps a tile for every user yet checks each request\'s session; a change reaches through the kept tile within about a second', async () => {
    // A household of the order the other tests leave alone.
    const [h] = await api[0].db.sql`SELECT h.id, ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat FROM evac_households e JOIN households h ON h.id = e.household_id
                                    WHERE e.order_id = ${orderId} ORDER BY 1 OFFSET 4 LIMIT 1`
    expect(h, 'a fifth household in the order').toBeDefined()
    const z = 15
    const tile = `/tiles/evac/${z}/${Math.floor(lonToTileX(h.lon as number, z))}/${Math.floor(latToTileY(h.lat as number, z))}.mvt`
    const read = async (headers: Record<string, string> = {}) => {
      const r = await get(tile, { 'Accept-Encoding': 'identity', ...headers })
      return { status: r.status, cache: r.headers.get('x-cache-status'), body: Buffer.from(await r.arrayBuffer()) }
    }
    const first = await read()
    expect(first.status, first.body.toString().slice(0, 300)).toBe(200)
    const again = await read()
    expect(again.cache, 'the second read within the second is nginx\'s copy').toBe('HIT')
    expect(again.body.equals(first.body)).toBe(true)
    // No session, a stale one, a made-up token: refused, though nginx holds the tile.
    for (const cookie of ['', 'gw_session=forged']) {
      const r = await fetch(base + tile, { headers: { Cookie: cookie } })
      expect(r.status, cookie || 'no cookie').toBe(401)
    }
    expect((await fetch(`${base}${tile}?access_token=gw_${'x'.repeat(43)}`)).status).toBe(401)
    // nginx's access log keeps the path, never a query string's token.
    await expect.poll(() => fs.readFileSync(path.join(dir, 'gridwatch.access.log'), 'utf8')).toContain(`GET ${tile} HTTP`)
    expect(fs.readFileSync(path.join(dir, 'gridwatch.access.log'), 'utf8')).not.toContain('access_token')
    // A status change: the tile the API renders changes; through nginx within about a second.
    const changed = Date.now()
    expect((await setStatus(base, h.id as number, 'notified')).status).toBe(200)
    let now = first
    while (now.body.equals(first.body) && Date.now() - changed < 5000) {
      await new Promise((r) => setTimeout(r, 100))
      now = await read()
    }
    expect(now.body.equals(first.body), 'the kept tile was renewed').toBe(false)
    expect(Date.now() - changed).toBeLessThan(2500)
  })

  it('a status changed through one process reaches, within a second, a live-feed client another process serves', async () => {
    const { stream, server } = await feed()
    const writer = (server + 1) % api.length
    const t0 = Date.now()
    expect((await setStatus(api[writer].url, households[0], 'notified')).status).toBe(200)
    const m = await stream.waitFor(isStatusOf(households[0]), 5000)
    expect(Date.now() - t0).toBeLessThan(1000)
    expect(JSON.parse(m.data)).toMatchObject({ orderId, status: 'notified' })

    // And a write through nginx, whichever process takes it.
    expect((await setStatus(base, households[1], 'notified')).status).toBe(200)
    await stream.waitFor(isStatusOf(households[1]), 5000)
  })

  it('a field outbox send cut off by a process that goes away after it arrived is done once by another', async () => {
    // A "process" that takes each request whole and dies before answering (a kill mid-request), beside the real three.
    const cutOff: string[] = []
    const dying = net.createServer((socket) => {
      let got = ''
      socket.on('data', (d) => {
        got += d.toString('latin1')
        const head = got.indexOf('\r\n\r\n')
        const length = Number(/content-length: *(\d+)/i.exec(got)?.[1] ?? 0)
        if (head < 0 || got.length < head + 4 + length) return
        const request = got.slice(0, got.indexOf(' ', 5))
        got = got.slice(head + 4 + length)
        // Anything else (nginx's start is awaited with a GET) is answered, so nginx does not leave it out early.
        if (!request.startsWith('POST ')) return void socket.write('HTTP/1.1 204 No Content\r\n\r\n')
        cutOff.push(request)
        socket.resetAndDestroy()
      })
      socket.on('error', () => {})
    })
    await new Promise<void>((r) => dying.listen(0, '127.0.0.1', r))
    const dyingPort = (dying.address() as net.AddressInfo).port
    const sub = fs.mkdtempSync(path.join(dir, 'cut-'))
    const plain = await freePort()
    const site = siteFor({ apiPorts: [dyingPort, ...api.filter((_, i) => !closed.has(i)).map((s) => s.port)], tls: await freePort(), plain, redirect: await freePort(),
      ...cert, webDist: path.join(dir, 'web-dist'), tileCache: path.join(sub, 'tile-cache'), accessLog: path.join(sub, 'access.log') })
    const second = await startNginx(exe!, sub, site, plain)
    try {
      const via = `http://127.0.0.1:${plain}`
      const [grid] = await api[0].db.sql`SELECT code FROM grids WHERE kind = 'basic' ORDER BY code LIMIT 1`
      await createAccount(api[0].db.sql, { username: 'nginxworker', displayName: '测试网格员', role: 'grid_worker', unitCode: grid.code as string, password: 'Nginx-test-2026' }, cliActor('test'))
      // Logged in on a process itself (a session is good on all), so that the first write through nginx is a field send.
      const live = api.find((_, i) => !closed.has(i))!
      const login = await fetch(`${live.url}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'nginxworker', password: 'Nginx-test-2026' }) })
      expect(login.status).toBe(200)
      const session = { Cookie: login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; '), 'X-CSRF-Token': (await login.json()).csrfToken as string }
      const ids: string[] = []
      // least_conn over four idle processes takes them in turn: one of these meets the dying one.
      for (let i = 0; i < 4; i++) {
        const id = randomUUID()
        ids.push(id)
        const at = new Date().toISOString()
        const r = await fetch(`${via}/api/field/sync`, {
          method: 'POST', headers: { 'Content-Type': 'application/json', ...session },
          body: JSON.stringify({ actions: [{ id, at, kind: 'track', points: [{ at, lon: 103.71, lat: 27.33 }] }] }),
        })
        expect(r.status, await r.clone().text()).toBe(200)
        expect((await r.json()).results[0]).toMatchObject({ id, outcome: 'applied' })
      }
      expect(cutOff, 'a send reached the dying process').toEqual(['POST /api/field/sync'])
      const [n] = await api[0].db.sql`SELECT count(*)::int AS n FROM field_actions WHERE id IN ${api[0].db.sql(ids)}`
      expect(n.n).toBe(4)
    } finally {
      await second.stop()
      await new Promise((r) => dying.close(r))
    }
  })

  it('one API process gone: requests through nginx keep working, and its live-feed client resumes on another with nothing lost', async () => {
    const { stream, server } = await feed()
    const lastSeen = Number(stream.messages.filter((m) => m.id).at(-1)?.id ?? JSON.parse(stream.messages[0].data).latestId)
    await api[server].close()
    closed.add(server)
    stream.close()

    // Made while the client is away: it must get it when it comes back.
    expect((await setStatus(base, households[2], 'notified')).status).toBe(200)
    for (let i = 0; i < 12; i++) {
      const r = await get(i % 2 ? '/api/auth/me' : '/api/units/530600000000')
      expect(r.status, await r.clone().text()).toBe(200)
    }
    const again = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'nginxtown', password: 'Nginx-test-2026' }) })
    expect(again.status).toBe(200)
    expect((await setStatus(base, households[3], 'notified')).status).toBe(200)

    // As the browser's EventSource reconnects: with the last id it saw, through nginx, now to a live process.
    const back = await feed({ 'Last-Event-ID': String(lastSeen) })
    expect(back.server).not.toBe(server)
    for (const hid of [households[2], households[3]]) await back.stream.waitFor(isStatusOf(hid), 5000)
  })
})
