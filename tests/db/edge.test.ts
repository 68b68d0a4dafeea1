/**
 * The edge of the server against hostile input (issue #16): request bodies
 * limited while they are read (chunked too), control characters refused
 * with the field named, no URL built from the Host header, and a session
 * cookie that lives as long as the session.
 */
import http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SESSION_IDLE_MS } from '../../api/auth/sessions.ts'
import { startServer, type RunningServer } from '../../api/server.ts'
import { loginAs, type Client } from '../helpers/session.ts'
import { targets } from '../helpers/targets.ts'

const CITY = '530600000000'

/** A raw HTTP request (fetch cannot forge Host nor stream a chunked body at will). */
function raw(url: string, opts: { method?: string; path: string; headers?: Record<string, string>; chunks?: Buffer[] }) {
  const u = new URL(url)
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
    })
    // The server may answer and close before the whole body is sent: that is the point.
    req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e)))
    ;(async () => {
      for (const c of opts.chunks ?? []) {
        if (req.destroyed) break
        if (!req.write(c)) await new Promise((r) => req.once('drain', r).once('close', r))
      }
      req.end()
    })().catch(() => {})
  })
}

for (const target of targets()) {
  describe(`the server's edge on ${target.name}`, () => {
    let s: RunningServer
    let me: Client
    beforeAll(async () => {
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true })
      me = await loginAs(s, 'commander', CITY)
    })
    afterAll(() => s?.close())

    describe('request bodies are limited while read (item 2)', () => {
      it('refuses a login body over its limit with 413 before reading it, Content-Length or chunked', async () => {
        // Declared too large: refused on the header, the body never read.
        const declared = await raw(s.url, {
          method: 'POST', path: '/api/auth/login',
          headers: { 'Content-Type': 'application/json', 'Content-Length': String(100 * 2 ** 20) },
          chunks: [Buffer.from('{"username":"')],
        })
        expect(declared.status).toBe(413)
        expect(JSON.parse(declared.body).error).toMatchObject({ code: 'too_large' })
        expect(JSON.parse(declared.body).error.zh).toMatch(/请求体过大/)
        // Chunked (no Content-Length): counted while read, cut at the limit.
        const chunk = Buffer.alloc(64 * 1024, 'a')
        const chunked = await raw(s.url, {
          method: 'POST', path: '/api/auth/login',
          headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
          chunks: [Buffer.from('{"username":"'), ...Array.from({ length: 40 }, () => chunk)],
        })
        expect(chunked.status).toBe(413)
        expect(JSON.parse(chunked.body).error.code).toBe('too_large')
      })

      it('cuts a chunked rain upload past its limit, which the Content-Length check alone let through', async () => {
        const line = Buffer.from('S0001,2026-07-14T08:00:00+08:00,1.0\n')
        const chunk = Buffer.concat(Array.from({ length: 4096 }, () => line))
        const r = await raw(s.url, {
          method: 'POST', path: '/api/rain/readings',
          headers: { 'Content-Type': 'text/csv', 'Transfer-Encoding': 'chunked', Cookie: me.cookie, 'X-CSRF-Token': me.csrfToken },
          chunks: [Buffer.from('station,hour,mm\n'), ...Array.from({ length: Math.ceil((17 * 2 ** 20) / chunk.length) }, () => chunk)],
        })
        expect(r.status).toBe(413)
      })

      it('still takes an ordinary body, and gives every small JSON route a small limit', async () => {
        const ok = await me.send('POST', '/api/households/1/visits', { note: '正常的走访记录' })
        expect([200, 201, 403, 404]).toContain(ok.status)
        const big = await me.send('POST', '/api/households/1/visits', { note: 'x'.repeat(300 * 1024) })
        expect(big.status).toBe(413)
      })
    })

    describe('control characters are refused at the edge (item 6)', () => {
      it('answers 400 naming the field for a NUL byte, before login too', async () => {
        const login = await fetch(`${s.url}/api/auth/login`, {
          method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'ad\u0000min', password: 'x' }),
        })
        expect(login.status).toBe(400)
        const e = (await login.json()).error
        expect(e.code).toBe('control_character')
        expect(e.en).toMatch(/username/)
        expect(e.zh).toMatch(/username/)
      })

      it('refuses control characters in every write: names, notes, measures, account fields', async () => {
        const [h] = await s.db.sql`SELECT h.id, h.version FROM households h JOIN grids g ON g.id = h.grid_id ORDER BY h.id LIMIT 1`
        const [g] = await s.db.sql`SELECT id, version FROM grids WHERE kind = 'basic' ORDER BY id LIMIT 1`
        const cases: [string, string, unknown, string][] = [
          ['PATCH', `/api/households/${h.id}`, { version: h.version, measures: '加固\u0000房屋' }, 'measures'],
          ['PATCH', `/api/grids/${g.id}`, { version: g.version, name: '网格\u0007' }, 'name'],
          ['POST', `/api/households/${h.id}/visits`, { note: 'ok\u001b[31m' }, 'note'],
          ['POST', '/api/auth/password', { current: 'x\u0000', next: 'Another-pass-2026' }, 'current'],
        ]
        for (const [method, path, body, field] of cases) {
          const r = await me.send(method, path, body)
          expect(r.status, path).toBe(400)
          const e = (await r.json()).error
          expect(e.code, path).toBe('control_character')
          expect(e.en, path).toContain(field)
        }
        // Line breaks and tabs are text, not control: a note may hold them.
        const fine = await me.send('POST', `/api/households/${h.id}/visits`, { note: '第一行\n第二行\t完' })
        expect(fine.status).toBeLessThan(300)
      })

      it('refuses a NUL in a query parameter or a CSV upload with a 400, never a 500', async () => {
        const q = await me.fetch(`/api/tasks?unit=53%00`)
        expect(q.status).toBe(400)
        const csv = await me.fetch('/api/rain/readings', { method: 'POST', headers: { 'Content-Type': 'text/csv' }, body: 'station,hour,mm\nS\u00001,2026-07-14T08:00:00+08:00,1\n' })
        expect(csv.status).toBe(400)
      })
    })

    describe('no URL from the Host header (item 8)', () => {
      it('never puts a forged Host or X-Forwarded-Host into TileJSON or OGC links', async () => {
        for (const headers of [{ Host: 'evil.example' } as Record<string, string>, { Host: `127.0.0.1:${s.port}`, 'X-Forwarded-Host': 'evil.example', 'X-Forwarded-Proto': 'https' }]) {
          const tj = await raw(s.url, { path: '/tiles/grids.json', headers: { ...headers, Cookie: me.cookie } })
          expect(tj.status).toBe(200)
          expect(tj.body).not.toContain('evil.example')
          expect(JSON.parse(tj.body).tiles[0]).toBe('/tiles/grids/{z}/{x}/{y}.mvt')
          const ogc = await raw(s.url, { path: '/ogc?f=json', headers: { ...headers, Cookie: me.cookie } })
          expect(ogc.status).toBe(200)
          expect(ogc.body).not.toContain('evil.example')
        }
      })
    })

    describe('the session cookie (item 9)', () => {
      it('lives no longer than the session does idle, and is renewed as the session is', async () => {
        const r = await fetch(`${s.url}/api/auth/login`, {
          method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: me.username, password: 'Test-password-2026' }),
        })
        expect(r.status).toBe(200)
        const maxAge = Number(/Max-Age=(\d+)/i.exec(r.headers.get('Set-Cookie') ?? '')?.[1])
        expect(maxAge).toBe(SESSION_IDLE_MS / 1000)
      })
    })
  })
}

describe('behind a configured public URL or a trusted proxy (item 8)', () => {
  const target = targets()[0]
  let pub: RunningServer
  let proxied: RunningServer
  beforeAll(async () => {
    pub = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true, proxy: { publicOrigin: 'https://gridwatch.example.cn', trust: { kind: 'none' } } })
    proxied = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true, proxy: { publicOrigin: null, trust: { kind: 'list', addresses: new Set(['loopback']) } } })
  })
  afterAll(async () => {
    await pub?.close()
    await proxied?.close()
  })

  it('advertises the configured origin whatever Host says', async () => {
    const c = await loginAs(pub, 'planner', CITY)
    const tj = await raw(pub.url, { path: '/tiles/households.json', headers: { Host: 'evil.example', Cookie: c.cookie } })
    expect(JSON.parse(tj.body).tiles[0]).toBe('https://gridwatch.example.cn/tiles/households/{z}/{x}/{y}.mvt')
  })

  it('advertises https behind a trusted HTTPS proxy, and marks the cookie Secure', async () => {
    const login = await raw(proxied.url, {
      method: 'POST', path: '/api/auth/login',
      headers: { 'Content-Type': 'application/json', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'map.example.cn' },
      chunks: [Buffer.from(JSON.stringify({ username: (await loginAs(proxied, 'planner', CITY)).username, password: 'Test-password-2026' }))],
    })
    expect(login.status).toBe(200)
    const cookie = String(login.headers['set-cookie'])
    expect(cookie).toMatch(/;\s*Secure/i)
    const tj = await raw(proxied.url, { path: '/tiles/grids.json', headers: { Cookie: cookie.split(';')[0], 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'map.example.cn' } })
    expect(JSON.parse(tj.body).tiles[0]).toBe('https://map.example.cn/tiles/grids/{z}/{x}/{y}.mvt')
    expect(String(tj.headers.vary)).toMatch(/X-Forwarded-Host/i)
  })

  it('sends the session cookie again, for 12 h more, when a request moves the session on', async () => {
    // Logged in on one process, the first request on another finds the session in the database and moves its end on.
    const c = await loginAs(proxied, 'viewer', CITY)
    // Last moved on over a minute ago (api/auth/sessions.ts TOUCH_MS): a session younger than that is read, not moved on.
    await proxied.db.sql`UPDATE sessions SET last_seen_at = now() - interval '2 minutes' WHERE user_id = ${c.userId}`
    const r = await fetch(`${pub.url}/api/auth/me`, { headers: { Cookie: c.cookie } })
    expect((await r.json()).user.username).toBe(c.username)
    const set = r.headers.get('Set-Cookie') ?? ''
    expect(set).toContain(c.cookie)
    expect(Number(/Max-Age=(\d+)/i.exec(set)?.[1])).toBe(SESSION_IDLE_MS / 1000)
    // Tiles are cacheable: never a cookie on them.
    const t = await fetch(`${pub.url}/tiles/admin/0/0/0.mvt`, { headers: { Cookie: c.cookie } })
    expect(t.headers.get('Set-Cookie')).toBeNull()
  })
})
