/**
 * Personal access tokens for desktop GIS clients (issue #22): made in the page, shown once, stored as a
 * hash, audited; they read tiles (Bearer header or ?access_token= on a tile URL), TileJSON, exports and the
 * OGC API as their user, in the user's area, and never write; a wrong, revoked or expired token, or one of
 * a disabled account, is refused; a revoke reaches every API process at once; no log line holds the secret.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { cliActor, createAccount } from '../../api/auth/accounts.ts'
import { MAX_TOKENS_PER_USER } from '../../api/auth/tokens.ts'
import { featureCount, haveOgrinfo, ogrinfo } from '../helpers/gdal.ts'
import { login, loginAs, TEST_PASSWORD, type Client } from '../helpers/session.ts'
import { targets, type Target } from '../helpers/targets.ts'
import { tilesCovering } from '../../tiles/tile-math.ts'

const CITY = '530600000000'
const TOKEN_SHAPE = /^gw_[A-Za-z0-9_-]{43}$/
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` })
/** A well-formed token nobody made. */
const stranger = () => `gw_${randomBytes(32).toString('base64url')}`

async function newToken(who: Client, name = 'QGIS', more: Record<string, unknown> = {}) {
  const r = await who.send('POST', '/api/tokens', { name, ...more })
  expect(r.status, await r.clone().text()).toBe(201)
  return (await r.json()) as { id: number; name: string; token: string; createdAt: string; expiresAt: string | null }
}

/** The township with the most households, another township, and a tile with households in the first. */
async function places(s: RunningServer) {
  const [t] = await s.db.sql`SELECT substr(g.code, 1, 9) || '000' AS code FROM households h JOIN grids g ON g.id = h.grid_id
                             GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`
  const [other] = await s.db.sql`SELECT code FROM admin_units WHERE level = 'township' AND code <> ${t.code} ORDER BY code LIMIT 1`
  const [h] = await s.db.sql`SELECT ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat FROM households h JOIN grids g ON g.id = h.grid_id
                             WHERE g.code LIKE ${(t.code as string).slice(0, 9) + '%'} ORDER BY h.id LIMIT 1`
  const [tile] = tilesCovering([h.lon, h.lat, h.lon, h.lat], 13)
  return { town: t.code as string, other: other.code as string, tile: `/tiles/households/13/${tile.x}/${tile.y}.mvt` }
}

for (const target of targets()) {
  describe(`personal access tokens on ${target.name}`, () => {
    let s: RunningServer
    let staff: Client
    let town: string
    let other: string
    let tile: string
    let secret: string
    let tokenId: number
    const get = (p: string, headers: Record<string, string> = {}, method = 'GET') => fetch(s.url + p, { method, headers })

    beforeAll(async () => {
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true })
      ;({ town, other, tile } = await places(s))
      staff = await loginAs(s, 'township', town)
      const made = await newToken(staff, 'QGIS 办公室')
      secret = made.token
      tokenId = made.id
    })
    afterAll(async () => {
      if (s) await s.db.sql`DELETE FROM access_tokens`
      await s?.close()
    })

    it('shows the secret once, stores only its hash, audits the making, and never lists the secret', async () => {
      expect(secret).toMatch(TOKEN_SHAPE)
      const [row] = await s.db.sql`SELECT * FROM access_tokens WHERE id = ${tokenId}`
      expect(row.token_hash).toBe(createHash('sha256').update(secret).digest('base64url'))
      expect(JSON.stringify(row)).not.toContain(secret)
      const [audit] = await s.db.sql`SELECT actor_id, action, after FROM audit_log WHERE table_name = 'access_tokens' AND row_id = ${String(tokenId)}`
      expect(audit).toMatchObject({ actor_id: staff.userId, action: 'insert' })
      expect(audit.after.name).toBe('QGIS 办公室')
      expect(audit.after.token_hash).toBeUndefined()

      const list = await staff.get('/api/tokens')
      expect(list.status).toBe(200)
      const text = await list.text()
      expect(text).not.toContain(secret)
      expect(text).not.toContain(row.token_hash)
      const tokens = JSON.parse(text) as Record<string, unknown>[]
      expect(tokens.map((t) => t.id)).toEqual([tokenId])
      expect(Object.keys(tokens[0]).sort()).toEqual(['createdAt', 'expiresAt', 'id', 'lastUsedAt', 'name'])
    })

    it('reads a tile (fast path and query), TileJSON, an export and OGC items with the token, no cookie', async () => {
      const t1 = await get(tile, bearer(secret))
      expect(t1.status).toBe(200)
      expect(t1.headers.get('content-type')).toBe('application/vnd.mapbox-vector-tile')
      const t2 = await get(`${tile}?access_token=${secret}`)
      expect(t2.status).toBe(200)
      expect(Buffer.from(await t2.arrayBuffer()).length).toBeGreaterThan(0)
      const head = await get(tile, bearer(secret), 'HEAD')
      expect(head.status).toBe(200)
      const tj = await get('/tiles/households.json', bearer(secret))
      expect(tj.status).toBe(200)
      expect((await tj.json()).tiles[0]).toMatch(/\/tiles\/households\/\{z\}\/\{x\}\/\{y\}\.mvt$/)
      expect((await get(`/tiles/households.json?access_token=${secret}`)).status).toBe(200)

      const csv = await get(`/api/export/households.csv?unit=${town}`, bearer(secret))
      expect(csv.status).toBe(200)
      expect((await csv.text()).split('\n').length).toBeGreaterThan(2)
      const [exported] = await s.db.sql`SELECT actor_id FROM audit_log WHERE action = 'export' ORDER BY id DESC LIMIT 1`
      expect(exported.actor_id).toBe(staff.userId)

      const items = await get('/ogc/collections/households/items?limit=2', bearer(secret))
      expect(items.status).toBe(200)
      expect((await items.json()).features.length).toBeGreaterThan(0)
      const [used] = await s.db.sql`SELECT last_used_at FROM access_tokens WHERE id = ${tokenId}`
      expect(used.last_used_at).not.toBeNull()
    })

    it('takes HTTP Basic with the token as the password (ArcGIS Pro, QGIS\'s saved logins), the owner\'s name only', async () => {
      const basic = (user: string, password: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` })
      for (const p of [tile, '/tiles/households.json', `/api/export/households.csv?unit=${town}`, '/ogc/collections/households/items?limit=1']) {
        expect((await get(p, basic(staff.username, secret))).status, p).toBe(200)
        const wrongName = await get(p, basic('someone', secret))
        expect(wrongName.status, p).toBe(401)
        expect(wrongName.headers.get('www-authenticate')).toMatch(/^Basic /)
        expect((await get(p, basic(staff.username, stranger()))).status, p).toBe(401)
      }
      const write = await fetch(`${s.url}/api/tokens`, { method: 'POST', headers: { ...basic(staff.username, secret), 'Content-Type': 'application/json' }, body: '{"name":"x"}' })
      expect(write.status).toBe(403)
      // The OGC API's own Basic login (a password) is unchanged.
      expect((await get('/ogc/collections', basic(staff.username, TEST_PASSWORD))).status).toBe(200)
    })

    it('GDAL reads the OGC API with the token, in a header or as the Basic password', async () => {
      if (!haveOgrinfo()) return
      const [{ n }] = await s.db.sql`SELECT count(*)::int AS n FROM hazard_sites`
      const oapif = `OAPIF:http://127.0.0.1:${s.port}/ogc`
      const out = await ogrinfo(['-ro', '-so', '--config', 'GDAL_HTTP_HEADERS', `Authorization: Bearer ${secret}`, oapif, 'hazard_sites'])
      expect(featureCount(out)).toBe(n)
      const basic = await ogrinfo(['-ro', '-so', '-oo', `USERPWD=${staff.username}:${secret}`, oapif, 'hazard_sites'])
      expect(featureCount(basic)).toBe(n)
    })

    it('answers nginx\'s session check for a kept tile (auth_request, X-Original-URI) by the token', async () => {
      const check = (headers: Record<string, string>) => get('/api/auth/check', headers)
      expect((await check({ ...bearer(secret), 'X-Original-URI': tile })).status).toBe(204)
      expect((await check({ 'X-Original-URI': `${tile}?access_token=${secret}` })).status).toBe(204)
      expect((await check({ 'X-Original-URI': `${tile}?access_token=${stranger()}` })).status).toBe(401)
      expect((await check({ ...bearer(stranger()), 'X-Original-URI': tile })).status).toBe(401)
      // Only for a tile: the check itself, or another URL, is no place for a token.
      expect((await check(bearer(secret))).status).toBe(403)
      expect((await check({ ...bearer(secret), 'X-Original-URI': '/api/tokens' })).status).toBe(403)
      expect((await check({ ...bearer(secret), 'X-Original-URI': '/tiles/../api/tokens' })).status).toBe(403)
      expect((await check({ 'X-Original-URI': `/api/units/${town}?access_token=${secret}` })).status).toBe(401)
    })

    it('keeps the token to its user\'s area and role', async () => {
      const r = await get(`/api/export/households.csv?unit=${other}`, bearer(secret))
      expect(r.status).toBe(403)
      expect((await r.json()).error.code).toBe('forbidden_scope')
      const viewer = await loginAs(s, 'viewer', CITY)
      const { token } = await newToken(viewer)
      const v = await get(`/api/export/households.csv?unit=${town}`, bearer(token))
      expect(v.status).toBe(403)
      expect((await v.json()).error.code).toBe('forbidden_role')
    })

    it('never writes, and no other API answers to it', async () => {
      const cases: [string, string, unknown][] = [
        ['POST', '/api/tokens', { name: 'more' }],
        ['DELETE', `/api/tokens/${tokenId}`, undefined],
        ['POST', '/api/auth/logout', {}],
        ['PATCH', '/api/households/1', { version: 1 }],
        ['POST', '/tiles/households/13/0/0.mvt', {}],
      ]
      for (const [method, p, body] of cases) {
        const r = await fetch(s.url + p, { method, headers: { ...bearer(secret), 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
        expect(r.status, `${method} ${p}`).toBe(403)
        expect((await r.json()).error.code, `${method} ${p}`).toBe('token_read_only')
      }
      // In a URL it counts on tiles only: an export's query is no place for it.
      expect((await get(`/api/export/households.csv?unit=${town}&access_token=${secret}`)).status).toBe(401)
      for (const p of ['/api/tokens', '/api/auth/me', `/api/units/${town}`]) {
        const r = await get(p, bearer(secret))
        expect(r.status, p).toBe(403)
        expect((await r.json()).error.code).toBe('token_not_here')
      }
      const [{ n }] = await s.db.sql`SELECT count(*)::int AS n FROM access_tokens WHERE user_id = ${staff.userId} AND revoked_at IS NULL`
      expect(n).toBe(1)
    })

    it('refuses a wrong, malformed, expired or revoked token, and the token of a disabled account', async () => {
      for (const bad of [stranger(), 'gw_short', `${secret}x`, secret.replace(/^gw_/, 'xx_')]) {
        const r = await get(tile, bearer(bad))
        expect(r.status, bad).toBe(401)
        expect(r.headers.get('www-authenticate')).toMatch(/^Bearer /)
        expect((await get(`${tile}?access_token=${encodeURIComponent(bad)}`)).status).toBe(401)
        expect((await get('/ogc/collections', bearer(bad))).status).toBe(401)
      }

      const expiring = await newToken(staff, 'expiring', { expiresInDays: 1 })
      expect(new Date(expiring.expiresAt!).getTime()).toBeGreaterThan(Date.now() + 23 * 3600_000)
      // Its end brought near (before its first use): used, and cached, it still stops at its end.
      await s.db.sql`UPDATE access_tokens SET expires_at = now() + interval '1.5 second' WHERE id = ${expiring.id}`
      expect((await get(tile, bearer(expiring.token))).status).toBe(200)
      await new Promise((r) => setTimeout(r, 2000))
      expect((await get(tile, bearer(expiring.token))).status).toBe(401)

      // Revoked: at once, though the token was just used (and cached).
      const revoked = await newToken(staff, 'to revoke')
      expect((await get(`/api/export/households.csv?unit=${town}`, bearer(revoked.token))).status).toBe(200)
      const del = await staff.send('DELETE', `/api/tokens/${revoked.id}`, {})
      expect(del.status).toBe(200)
      expect((await get(`/api/export/households.csv?unit=${town}`, bearer(revoked.token))).status).toBe(401)
      expect((await get(tile, bearer(revoked.token))).status).toBe(401)
      const [audit] = await s.db.sql`SELECT action, after FROM audit_log WHERE table_name = 'access_tokens' AND row_id = ${String(revoked.id)} AND action = 'update'`
      expect(audit.after.revoked_at).toBeTruthy()
      expect((await (await staff.get('/api/tokens')).json()).map((t: { id: number }) => t.id)).not.toContain(revoked.id)

      // A disabled account: its token stops at once (the admin's change is announced, as for sessions).
      const admin = await loginAs(s, 'admin', CITY)
      const gone = await loginAs(s, 'planner', CITY)
      const goneToken = await newToken(gone)
      expect((await get(tile, bearer(goneToken.token))).status).toBe(200)
      const [{ version }] = await s.db.sql`SELECT version FROM users WHERE id = ${gone.userId}`
      expect((await admin.send('PATCH', `/api/users/${gone.userId}`, { version, disabled: true })).status).toBe(200)
      expect((await get(tile, bearer(goneToken.token))).status).toBe(401)
      expect((await get('/ogc/collections', bearer(goneToken.token))).status).toBe(401)

      // An account that must change its password first: refused until it has.
      const username = `ttokenmust${randomBytes(3).toString('hex')}`
      const acc = await createAccount(s.db.sql, { username, displayName: '须改密码', role: 'viewer', unitCode: CITY, password: TEST_PASSWORD }, cliActor('test'))
      const must = await login(s, username, TEST_PASSWORD, acc.id as number)
      const mustToken = await newToken(must)
      await s.db.sql`UPDATE users SET must_change_password = true WHERE id = ${acc.id}`
      expect((await get(tile, bearer(mustToken.token))).status).toBe(403)
      expect((await get('/tiles/households.json', bearer(mustToken.token))).status).toBe(403)
    })

    it("changing one's own password revokes every token of the account, audited; others' tokens and this session go on", async () => {
      const me = await loginAs(s, 'planner', CITY)
      const other = await loginAs(s, 'planner', CITY)
      const a = await newToken(me, 'QGIS')
      const b = await newToken(me, 'ArcGIS Pro')
      const theirs = await newToken(other, 'QGIS')
      // Used, and so cached, before the change: the change must reach the cache too.
      for (const t of [a, b, theirs]) expect((await get('/ogc/collections', bearer(t.token))).status).toBe(200)
      // A wrong current password changes nothing.
      expect((await me.send('POST', '/api/auth/password', { current: 'Wrong-password-1', next: 'Changed-password-22' })).status).toBe(400)
      expect((await get('/ogc/collections', bearer(a.token))).status).toBe(200)
      const r = await me.send('POST', '/api/auth/password', { current: TEST_PASSWORD, next: 'Changed-password-22' })
      expect(r.status, await r.clone().text()).toBe(200)
      expect((await r.json()).revokedTokens).toBe(2)
      for (const t of [a, b]) {
        expect((await get('/ogc/collections', bearer(t.token))).status).toBe(401)
        expect((await get(tile, bearer(t.token))).status).toBe(401)
        expect((await get(`/ogc/collections`, { Authorization: `Basic ${Buffer.from(`${me.username}:${t.token}`).toString('base64')}` })).status).toBe(401)
        const [audit] = await s.db.sql`SELECT actor_id, after FROM audit_log WHERE table_name = 'access_tokens' AND row_id = ${String(t.id)} AND action = 'update'`
        expect(audit.actor_id).toBe(me.userId)
        expect(audit.after.revoked_at).toBeTruthy()
      }
      expect(await (await me.get('/api/tokens')).json()).toEqual([])
      expect((await get('/ogc/collections', bearer(theirs.token))).status).toBe(200)
      // The session that changed it stays; a token made after the change works.
      const c = await newToken(me, 'QGIS again')
      expect((await get('/ogc/collections', bearer(c.token))).status).toBe(200)
    })

    it('is revoked by its owner or an admin of the area, not by anyone else; at most 20 live per account', async () => {
      const mine = await newToken(staff, 'ArcGIS Pro')
      const nosy = await loginAs(s, 'commander', CITY)
      const r = await nosy.send('DELETE', `/api/tokens/${mine.id}`, {})
      expect(r.status).toBe(404)
      expect((await get(tile, bearer(mine.token))).status).toBe(200)
      // An admin of another county (when the data has one) cannot; one of the city can.
      const [county] = await s.db.sql`SELECT code FROM admin_units WHERE level = 'county' AND code NOT LIKE ${town.slice(0, 6) + '%'} ORDER BY code LIMIT 1`
      if (county) {
        const otherAdmin = await loginAs(s, 'admin', county.code as string)
        expect((await otherAdmin.send('DELETE', `/api/tokens/${mine.id}`, {})).status).toBe(404)
      }
      const admin = await loginAs(s, 'admin', CITY)
      expect((await admin.send('DELETE', `/api/tokens/${mine.id}`, {})).status).toBe(200)
      expect((await get(tile, bearer(mine.token))).status).toBe(401)
      expect((await staff.send('DELETE', `/api/tokens/${mine.id}`, {})).status).toBe(404)

      const many = await loginAs(s, 'viewer', CITY)
      for (let i = 0; i < MAX_TOKENS_PER_USER; i++) await newToken(many, `t${i}`)
      const over = await many.send('POST', '/api/tokens', { name: 'one too many' })
      expect(over.status).toBe(409)
      expect((await over.json()).error.code).toBe('too_many_tokens')
      for (const body of [{ name: '' }, { name: 'x'.repeat(41) }, { name: 'ok', expiresInDays: 0 }, { name: 'ok', extra: 1 }]) {
        expect((await staff.send('POST', '/api/tokens', body)).status, JSON.stringify(body)).toBe(400)
      }
    })
  })
}

interface Logged {
  proc: ChildProcess
  url: string
  out: () => string
  stop(): Promise<void>
}

/** tests/helpers/serve-logged-on.ts on the database at `url`: a second API process, logging JSON lines as production does. */
async function startLogged(url: string): Promise<Logged> {
  const root = path.resolve(import.meta.dirname, '../..')
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'tests/helpers/serve-logged-on.ts')], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'info', GRIDWATCH_LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()))
  const exit = new Promise<void>((r) => proc.once('exit', () => r()))
  const deadline = Date.now() + 120_000
  while (!/"msg":"ready"/.test(out)) {
    if (proc.exitCode !== null) throw new Error(`server exited: ${out}`)
    if (Date.now() > deadline) throw new Error(`server did not start: ${out}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    proc, out: () => out,
    url: /"msg":"listening (http:\/\/[^"]+)"/.exec(out)![1],
    async stop() {
      proc.kill('SIGTERM')
      await exit
    },
  }
}

// The real PostGIS when there is one: two processes on one database, as behind a load balancer.
const shared: Target = targets().at(-1)!
describe(`access tokens across API processes, and the log (${shared.name})`, () => {
  let s: RunningServer
  let two: Logged
  let tile: string
  let town: string

  beforeAll(async () => {
    s = await startServer({ port: 0, databaseUrl: shared.url, seedScale: false, quiet: true })
    ;({ tile, town } = await places(s))
    two = await startLogged(shared.url)
  })
  afterAll(async () => {
    if (two?.proc.exitCode === null) two.proc.kill('SIGKILL')
    if (s) await s.db.sql`DELETE FROM access_tokens`
    await s?.close()
  })

  it('a revoke in one process stops the token in the other at once; no line of its log holds the secret', async () => {
    const staff = await loginAs(s, 'township', town)
    const made = await newToken(staff, 'QGIS')
    const at = (p: string, headers: Record<string, string> = {}) => fetch(two.url + p, { headers })
    // Used in the second process: now in its cache.
    expect((await at(tile, bearer(made.token))).status).toBe(200)
    expect((await at(`${tile}?access_token=${made.token}`)).status).toBe(200)
    expect((await at(`/api/export/households.geojson?unit=${town}`, bearer(made.token))).status).toBe(200)
    expect((await at('/ogc/collections/shelters/items?limit=1', bearer(made.token))).status).toBe(200)
    const wrong = stranger()
    expect((await at(tile, bearer(wrong))).status).toBe(401)
    expect((await at(`${tile}?access_token=${wrong}`)).status).toBe(401)
    const basic = { Authorization: `Basic ${Buffer.from(`${staff.username}:${made.token}`).toString('base64')}` }
    expect((await at('/ogc/collections', basic)).status).toBe(200)
    expect((await fetch(two.url + '/api/tokens', { method: 'POST', headers: { ...bearer(made.token), 'Content-Type': 'application/json' }, body: '{"name":"x"}' })).status).toBe(403)

    expect((await staff.send('DELETE', `/api/tokens/${made.id}`, {})).status).toBe(200)
    // NOTIFY is asynchronous: allow it a moment, far less than the cache's 30 s.
    const started = Date.now()
    let status = 200
    while (status === 200 && Date.now() - started < 5000) {
      status = (await at(tile, bearer(made.token))).status
      if (status === 200) await new Promise((r) => setTimeout(r, 50))
    }
    expect(status).toBe(401)
    expect((await at(`${tile}?access_token=${made.token}`)).status).toBe(401)

    await two.stop()
    const out = two.out()
    expect(out).not.toContain(made.token)
    expect(out).not.toContain(made.token.slice(3))
    expect(out).not.toContain(wrong.slice(3))
    expect(out).not.toContain(basic.Authorization.slice(6))
    // The tile's access lines are there, with the path alone.
    const lines = out.split('\n').filter((l) => l.includes('"access":true')).map((l) => JSON.parse(l) as { path: string; user?: { id: number } })
    const tiles = lines.filter((l) => l.path === tile)
    expect(tiles.length).toBeGreaterThanOrEqual(4)
    expect(tiles[0].user?.id).toBe(staff.userId)
  })
})
