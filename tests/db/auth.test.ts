import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cliActor, createAccount } from '../../api/auth/accounts.ts'
import { THROTTLE } from '../../api/auth/throttle-rules.ts'
import { startServer, type RunningServer } from '../../api/server.ts'
import { fetchFrom, freshAddress } from '../helpers/from-address.ts'
import { login, loginAs, TEST_PASSWORD, type Client } from '../helpers/session.ts'
import { targets } from '../helpers/targets.ts'

const CITY = '530600000000'

/**
 * The role-escape suite: every way past a role or a scope is refused with
 * 401/403 and leaves no trace in the data or the audit log; every accepted
 * write leaves its audit row.
 */
for (const target of targets()) {
  describe(`roles and scopes on ${target.name}`, () => {
    let s: RunningServer
    // Two townships of one county; in A two grids, each with a household.
    let A: string, B: string, county: string
    let gA: { id: number; code: string }, gB: { id: number; code: string }
    let hA: number, hA2: number, hB: number
    let townA: Client, townB: Client, worker: Client, planner: Client, viewer: Client, admin: Client, commander: Client

    const gridState = async (id: number) => (await s.db.sql`SELECT name, version FROM grids WHERE id = ${id}`)[0]
    const householdState = async (id: number) =>
      (await s.db.sql`SELECT risk_level, measures, version, last_visit_at FROM households WHERE id = ${id}`)[0]
    const auditCount = async () => (await s.db.sql`SELECT count(*)::int AS n FROM audit_log`)[0].n as number
    const visits = async (id: number) => (await s.db.sql`SELECT count(*)::int AS n FROM visits WHERE household_id = ${id}`)[0].n as number

    /** Runs `attempt`, expects `status`, and checks that grids, households, visits and the audit log are untouched. */
    async function refused(attempt: () => Promise<Response>, status: number, code?: string) {
      const before = [await auditCount(), await gridState(gB.id), await gridState(gA.id), await householdState(hA), await householdState(hB), await visits(hA2)]
      const r = await attempt()
      expect(r.status).toBe(status)
      const body = await r.json()
      expect(body.error.zh).toBeTruthy()
      expect(body.error.en).toBeTruthy()
      if (code) expect(body.error.code).toBe(code)
      const after = [await auditCount(), await gridState(gB.id), await gridState(gA.id), await householdState(hA), await householdState(hB), await visits(hA2)]
      expect(after).toEqual(before)
    }

    beforeAll(async () => {
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true })
      const towns = await s.db.sql`
        SELECT t.code, min(g.id) AS g1, max(g.id) AS g2 FROM admin_units t
        JOIN admin_units v ON v.parent_id = t.id JOIN grids g ON g.village_id = v.id AND g.kind = 'basic'
        WHERE t.level = 'township' AND EXISTS (SELECT 1 FROM households h WHERE h.grid_id = g.id)
        GROUP BY t.code ORDER BY t.code LIMIT 2`
      expect(towns.length).toBe(2)
      ;[A, B] = [towns[0].code as string, towns[1].code as string]
      county = A.slice(0, 6) + '000000'
      const grid = async (id: number) => {
        const [g] = await s.db.sql`SELECT g.id, g.code, (SELECT min(h.id) FROM households h WHERE h.grid_id = g.id) AS h FROM grids g WHERE g.id = ${id}`
        return g as { id: number; code: string; h: number }
      }
      // A second grid of A with a household: the grid worker's "not mine".
      const [other] = await s.db.sql`
        SELECT g.id FROM grids g JOIN admin_units v ON v.id = g.village_id JOIN admin_units t ON t.id = v.parent_id
        WHERE t.code = ${A} AND g.kind = 'basic' AND g.id <> ${towns[0].g1 as number}
          AND EXISTS (SELECT 1 FROM households h WHERE h.grid_id = g.id) ORDER BY g.id LIMIT 1`
      const [a, a2, b] = [await grid(towns[0].g1 as number), await grid(other.id as number), await grid(towns[1].g1 as number)]
      ;[gA, gB] = [a, b]
      ;[hA, hA2, hB] = [a.h, a2.h, b.h]
      ;[townA, townB, worker, planner, viewer, admin, commander] = await Promise.all([
        loginAs(s, 'township', A), loginAs(s, 'township', B), loginAs(s, 'grid_worker', gA.code), loginAs(s, 'planner', CITY),
        loginAs(s, 'viewer', county), loginAs(s, 'admin', CITY), loginAs(s, 'commander', county),
      ])
    })
    afterAll(() => s?.close())

    it('keeps data from a logged-out client: reads and writes get 401', async () => {
      for (const path of [`/api/units/${A}`, `/api/households/${hA}`, '/tiles/households/14/0/0.mvt', '/api/users', `/api/audit/grids/${gA.id}`]) {
        const r = await fetch(s.url + path)
        expect(r.status, path).toBe(401)
      }
      await refused(() => fetch(`${s.url}/api/grids/${gB.id}`, { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ version: 1, name: 'x' }) }), 401)
      // Health and the map's configuration stay public.
      expect((await fetch(s.url + '/api/health')).status).toBe(200)
      expect(await (await fetch(s.url + '/api/auth/me')).json()).toEqual({ user: null })
    })

    it('says who is in with the box of their own area, as /api/units has it: a county\'s, a grid worker\'s village\'s', async () => {
      for (const [c, home] of [[commander, county], [worker, gA.code.slice(0, 12)], [admin, CITY]] as const) {
        const me = await (await c.get('/api/auth/me')).json() as { home: { code: string; bbox: number[] } | null }
        const unit = await (await c.get(`/api/units/${home}`)).json() as { bbox: number[] }
        expect(me.home).toEqual({ code: home, bbox: unit.bbox })
      }
      // The login's own answer carries it too: the map opens there without asking.
      const acc = await createAccount(s.db.sql, { username: `home-${Date.now()}`, displayName: '首页', role: 'viewer', unitCode: county, password: TEST_PASSWORD }, cliActor('test'))
      const r = await fetch(`${s.url}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: acc.username, password: TEST_PASSWORD }) })
      expect(((await r.json()) as { home: { code: string } }).home.code).toBe(county)
    })

    it('refuses township A editing township B’s grid, and accepts its own with an audit row', async () => {
      const gb = await gridState(gB.id)
      await refused(() => townA.send('PATCH', `/api/grids/${gB.id}`, { version: gb.version, name: '越权修改' }), 403, 'forbidden_scope')
      const ga = await gridState(gA.id)
      const n = await auditCount()
      const r = await townA.send('PATCH', `/api/grids/${gA.id}`, { version: ga.version, name: `${ga.name}（改）` })
      expect(r.status).toBe(200)
      expect((await gridState(gA.id)).name).toBe(`${ga.name}（改）`)
      const rows = await s.db.sql`SELECT * FROM audit_log WHERE table_name = 'grids' AND row_id = ${String(gA.id)} ORDER BY id DESC LIMIT 1`
      expect(await auditCount()).toBe(n + 1)
      expect(rows[0].actor).toBe(townA.username)
      expect(rows[0].actor_role).toBe('township')
      expect(rows[0].before).toEqual({ id: gA.id, name: ga.name, version: ga.version, updated_at: expect.any(String) })
      expect(rows[0].after).toMatchObject({ id: gA.id, name: `${ga.name}（改）`, version: ga.version + 1 })
      // Township B may change its own, not A's.
      await refused(() => townB.send('PATCH', `/api/households/${hA}`, { version: 1, risk_level: 'red' }), 403, 'forbidden_scope')
    })

    it('lets a grid worker record visits in their own grid only, and never edit a ledger', async () => {
      const before = await visits(hA)
      const r = await worker.send('POST', `/api/households/${hA}/visits`, { note: '雨前入户查看' })
      expect(r.status).toBe(201)
      expect(await visits(hA)).toBe(before + 1)
      const [a] = await s.db.sql`SELECT actor, after FROM audit_log WHERE table_name = 'visits' ORDER BY id DESC LIMIT 1`
      expect(a.actor).toBe(worker.username)
      expect(a.after.household_id).toBe(hA)
      await refused(() => worker.send('POST', `/api/households/${hA2}/visits`, {}), 403, 'forbidden_scope')
      await refused(() => worker.send('POST', `/api/households/${hB}/visits`, {}), 403, 'forbidden_scope')
      const h = await householdState(hA)
      await refused(() => worker.send('PATCH', `/api/households/${hA}`, { version: h.version, risk_level: 'red' }), 403, 'forbidden_role')
      await refused(() => worker.send('PATCH', `/api/grids/${gA.id}`, { version: 1, name: 'x' }), 403, 'forbidden_role')
    })

    it('lets a planner, a viewer and an admin read but write nothing, with names masked', async () => {
      const h = await householdState(hA)
      for (const who of [planner, viewer, admin]) {
        await refused(() => who.send('PATCH', `/api/households/${hA}`, { version: h.version, measures: '改' }), 403, 'forbidden_role')
        await refused(() => who.send('PATCH', `/api/grids/${gA.id}`, { version: 1, name: '改' }), 403, 'forbidden_role')
        await refused(() => who.send('POST', `/api/households/${hA}/visits`, {}), 403, 'forbidden_role')
      }
      const [real] = await s.db.sql`SELECT householder, phone FROM households WHERE id = ${hA}`
      const masked = await (await planner.get(`/api/households/${hA}`)).json()
      expect(masked.masked).toBe(true)
      expect(masked.householder).not.toBe(real.householder)
      expect(masked.householder[0]).toBe(real.householder[0])
      expect(masked.householder).toMatch(/^.\*+$/)
      if (real.phone) expect(masked.phone).toBe(`${real.phone.slice(0, 3)}****${real.phone.slice(-4)}`)
      // Those who work with the household see it whole; township B does not.
      const open = await (await townA.get(`/api/households/${hA}`)).json()
      expect(open.masked).toBe(false)
      expect(open.householder).toBe(real.householder)
      expect((await (await townB.get(`/api/households/${hA}`)).json()).masked).toBe(true)
      expect((await (await worker.get(`/api/households/${hA2}`)).json()).masked).toBe(true)
    })

    it('refuses a write with a forged, missing or borrowed CSRF token, or from another site', async () => {
      const ga = await gridState(gA.id)
      const body = { version: ga.version, name: '伪造' }
      await refused(() => townA.send('PATCH', `/api/grids/${gA.id}`, body, { csrf: 'A'.repeat(43) }), 403, 'bad_csrf')
      await refused(() => townA.send('PATCH', `/api/grids/${gA.id}`, body, { csrf: false }), 403, 'bad_csrf')
      await refused(() => townA.send('PATCH', `/api/grids/${gA.id}`, body, { csrf: townB.csrfToken }), 403, 'bad_csrf')
      await refused(
        () => townA.fetch(`/api/grids/${gA.id}`, { method: 'PATCH', headers: { 'Content-Type': 'application/json', Origin: 'http://evil.example' }, body: JSON.stringify(body) }),
        403, 'bad_origin',
      )
      await refused(
        () => townA.fetch(`/api/grids/${gA.id}`, { method: 'PATCH', headers: { 'Content-Type': 'application/json', Origin: 'not a url' }, body: JSON.stringify(body) }),
        403, 'bad_origin',
      )
      // A form post (no JSON) is not accepted either.
      await refused(() => townA.fetch(`/api/grids/${gA.id}`, { method: 'PATCH', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'name=x' }), 415)
    })

    it('refuses bad input with a 4xx naming the field, and stale versions with 409', async () => {
      const h = await householdState(hA)
      await refused(() => commander.send('PATCH', `/api/households/${hA}`, { version: h.version, risk_level: 'purple' }), 400, 'bad_input')
      await refused(() => commander.send('PATCH', `/api/households/${hA}`, { version: h.version, householder: '改名' }), 400, 'bad_input')
      await refused(() => commander.send('PATCH', `/api/households/${hA}`, { version: h.version }), 400, 'nothing_to_change')
      await refused(() => commander.send('PATCH', `/api/households/${hA}`, { version: h.version + 5, measures: '旧版本' }), 409, 'version_conflict')
      await refused(() => commander.send('PATCH', '/api/households/99999999', { version: 1, measures: 'x' }), 404)
      await refused(() => commander.fetch(`/api/households/${hA}`, { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: '{not json' }), 400, 'bad_json')
      const ok = await commander.send('PATCH', `/api/households/${hA}`, { version: h.version, measures: '已落实包保措施', risk_level: 'red' })
      expect(ok.status).toBe(200)
      const [a] = await s.db.sql`SELECT actor, before, after FROM audit_log WHERE table_name = 'households' AND row_id = ${String(hA)} ORDER BY id DESC LIMIT 1`
      expect(a.actor).toBe(commander.username)
      expect(a.after).toMatchObject({ measures: '已落实包保措施', version: h.version + 1 })
      expect(a.before).toMatchObject({ measures: h.measures, version: h.version })
    })

    it('shows an object’s history to those who may see it', async () => {
      const r = await townA.get(`/api/audit/grids/${gA.id}`)
      expect(r.status).toBe(200)
      const rows = await r.json()
      expect(rows.length).toBeGreaterThan(0)
      expect(rows[0].actor).toBe(townA.username)
      // The person's name for the history to show, not the login name.
      expect(rows[0].actorName).toBe('测试乡镇干部')
      expect((await townB.get(`/api/audit/grids/${gA.id}`)).status).toBe(403)
      expect((await worker.get(`/api/audit/grids/${gA.id}`)).status).toBe(403)
      expect((await townA.get('/api/audit/nothing/1')).status).toBe(404)
      expect((await townA.get('/api/audit/grids/abc')).status).toBe(400)
    })

    it('lets only an admin manage accounts; a new account must change its password', async () => {
      const req = { username: `new${Date.now() % 1e6}`, displayName: '新乡镇干部', role: 'township', unitCode: A, password: 'Start-password-1' }
      for (const who of [townA, commander, planner]) {
        const n = await auditCount()
        expect((await who.send('POST', '/api/users', req)).status).toBe(403)
        expect((await who.send('PATCH', `/api/users/${who.userId}`, { version: 1, role: 'admin' })).status).toBe(403)
        expect(await auditCount()).toBe(n)
      }
      expect((await admin.send('POST', '/api/users', { ...req, password: 'short' })).status).toBe(400)
      expect((await admin.send('POST', '/api/users', { ...req, role: 'township', unitCode: county })).status).toBe(400)
      expect((await admin.send('POST', '/api/users', { ...req, unitCode: '530699999000' })).status).toBe(400)
      const created = await admin.send('POST', '/api/users', req)
      expect(created.status).toBe(201)
      expect((await admin.send('POST', '/api/users', req)).status).toBe(409)
      const [row] = await s.db.sql`SELECT password_hash FROM users WHERE username = ${req.username}`
      expect(row.password_hash).toMatch(/^\$argon2id\$/)
      const [a] = await s.db.sql`SELECT actor, after FROM audit_log WHERE table_name = 'users' AND action = 'insert' ORDER BY id DESC LIMIT 1`
      expect(a.actor).toBe(admin.username)
      expect(a.after.username).toBe(req.username)
      expect(a.after).not.toHaveProperty('password_hash')
      const fresh = await login(s, req.username, req.password)
      expect((await fresh.get(`/api/units/${A}`)).status).toBe(403)
      expect((await fresh.send('POST', '/api/auth/password', { current: req.password, next: 'Changed-password-2' })).status).toBe(200)
      expect((await fresh.get(`/api/units/${A}`)).status).toBe(200)
    })

    it('ends sessions on logout, on a password change elsewhere and when an account is disabled', async () => {
      const one = await loginAs(s, 'township', A)
      expect((await one.get(`/api/units/${A}`)).status).toBe(200)
      expect((await one.send('POST', '/api/auth/logout', {})).status).toBe(200)
      expect((await one.get(`/api/units/${A}`)).status).toBe(401)

      const first = await loginAs(s, 'township', A)
      const second = await login(s, first.username, TEST_PASSWORD)
      expect((await second.send('POST', '/api/auth/password', { current: TEST_PASSWORD, next: 'Another-password-3' })).status).toBe(200)
      expect((await first.get(`/api/units/${A}`)).status).toBe(401)
      expect((await second.get(`/api/units/${A}`)).status).toBe(200)

      const [u] = await s.db.sql`SELECT version FROM users WHERE id = ${second.userId}`
      expect((await admin.send('PATCH', `/api/users/${second.userId}`, { version: u.version, disabled: true })).status).toBe(200)
      expect((await second.get(`/api/units/${A}`)).status).toBe(401)
      const again = await fetch(`${s.url}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: second.username, password: 'Another-password-3' }) })
      expect(again.status).toBe(403)
      // An admin cannot lock themselves out.
      const [me] = await s.db.sql`SELECT version FROM users WHERE id = ${admin.userId}`
      expect((await admin.send('PATCH', `/api/users/${admin.userId}`, { version: me.version, disabled: true })).status).toBe(400)
    })

    it('a job session (a print render’s) reads as its user, writes nothing, and ends with the job, its time or the account’s sessions', async () => {
      const job = await s.sessions.startJob(townA.userId, 60_000)
      expect(job.token).not.toBe(townA.cookie.split('=')[1])
      const as = (token: string, method: string, path: string, body?: unknown, csrf?: string) => fetch(s.url + path, {
        method, body: body === undefined ? undefined : JSON.stringify(body),
        headers: { Cookie: `gw_session=${token}`, 'Content-Type': 'application/json', ...(csrf ? { 'X-CSRF-Token': csrf } : {}) },
      })
      expect((await as(job.token, 'GET', `/api/units/${A}`)).status).toBe(200)
      expect((await as(job.token, 'GET', `/api/households/${hA}`)).status).toBe(200)
      expect((await as(job.token, 'GET', '/tiles/households/14/0/0.mvt')).status).not.toBe(401)
      const me = await (await as(job.token, 'GET', '/api/auth/me')).json()
      expect(me.user.id).toBe(townA.userId)
      // Its user may edit these, but not through it, even with its own CSRF token.
      const ga = await gridState(gA.id)
      const ha = await householdState(hA)
      await refused(() => as(job.token, 'PATCH', `/api/grids/${gA.id}`, { version: ga.version, name: '任务会话改名' }, me.csrfToken), 403, 'read_only_session')
      await refused(() => as(job.token, 'PATCH', `/api/households/${hA}`, { version: ha.version, measures: '任务会话' }, me.csrfToken), 403, 'read_only_session')
      await refused(() => as(job.token, 'POST', '/api/print', { unit: A, format: 'png' }, me.csrfToken), 403, 'read_only_session')
      await refused(() => as(job.token, 'POST', '/api/auth/logout', {}, me.csrfToken), 403, 'read_only_session')
      expect((await as(job.token, 'GET', `/api/units/${A}`)).status).toBe(200)
      job.end()
      expect((await as(job.token, 'GET', `/api/units/${A}`)).status).toBe(401)
      expect((await as(job.token, 'GET', '/tiles/households/14/0/0.mvt')).status).toBe(401)

      // A job that overruns its time loses its session all the same.
      const short = await s.sessions.startJob(townA.userId, 100)
      expect((await as(short.token, 'GET', `/api/units/${A}`)).status).toBe(200)
      await new Promise((r) => setTimeout(r, 150))
      expect((await as(short.token, 'GET', `/api/units/${A}`)).status).toBe(401)
      // Ending an account's sessions (password or role change, disabled) ends its jobs' too.
      const other = await loginAs(s, 'township', A)
      const running = await s.sessions.startJob(other.userId, 60_000)
      const [u] = await s.db.sql`SELECT version FROM users WHERE id = ${other.userId}`
      expect((await admin.send('PATCH', `/api/users/${other.userId}`, { version: u.version, disabled: true })).status).toBe(200)
      expect((await as(running.token, 'GET', `/api/units/${A}`)).status).toBe(401)
      // And a disabled account gets none.
      await expect(s.sessions.startJob(other.userId, 60_000)).rejects.toThrow()
    })

    it('sets security headers: CSP, no framing but for the wall, nosniff, HTTP-only SameSite cookies', async () => {
      const r = await commander.get(`/api/units/${A}`)
      expect(r.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
      expect(r.headers.get('content-security-policy')).toContain("script-src 'self'")
      expect(r.headers.get('x-frame-options')).toBe('DENY')
      expect(r.headers.get('x-content-type-options')).toBe('nosniff')
      const wall = await fetch(s.url + '/screen')
      expect(wall.headers.get('content-security-policy')).toContain("frame-ancestors 'self'")
      expect(wall.headers.get('x-frame-options')).toBeNull()
      const l = await fetch(`${s.url}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: viewer.username, password: TEST_PASSWORD }) })
      const cookie = l.headers.get('set-cookie') ?? ''
      expect(cookie).toMatch(/HttpOnly/i)
      expect(cookie).toMatch(/SameSite=Lax/i)
      expect(cookie).not.toContain(viewer.csrfToken)
    })
  })
}

/**
 * Password guessing is slowed, never locked: growing waits per (account, address), per address and per
 * account, kept in the database; a place where the account has logged in before (its browser's device
 * cookie, or its address) still gets in while strangers wait. The server's clock is the test's.
 */
for (const target of targets()) {
  describe(`login throttle on ${target.name}`, () => {
    let s: RunningServer
    let clock = Date.now()
    const later = (seconds: number) => void (clock += seconds * 1000)
    let admin: Client, commander: Client

    beforeAll(async () => {
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true, clock: () => new Date(clock) })
      admin = await loginAs(s, 'admin', CITY, { from: freshAddress() })
      commander = await loginAs(s, 'commander', CITY.slice(0, 4) + '02000000', { from: freshAddress() })
    })
    afterAll(() => s?.close())

    /** A login attempt from `from`, with the Cookie header `cookies` when given. */
    const attempt = (from: string, username: string, password: string, cookies?: string) =>
      fetchFrom(from)(`${s.url}/api/auth/login`, {
        method: 'POST', headers: { 'Content-Type': 'application/json', ...(cookies ? { Cookie: cookies } : {}) }, body: JSON.stringify({ username, password }),
      })
    const account = async (role: 'planner' | 'viewer' = 'planner') => {
      const username = `th${Date.now() % 1e6}${Math.floor(Math.random() * 1e4)}`
      await createAccount(s.db.sql, { username, displayName: '限流测试', role, unitCode: CITY, password: TEST_PASSWORD }, cliActor('test'))
      return username
    }
    /** The answer's status, code, messages and Retry-After. */
    const answer = async (r: Response) => {
      const body = r.status === 200 ? null : await r.json()
      return { status: r.status, code: body?.error?.code, zh: body?.error?.zh, en: body?.error?.en, retryAfter: r.headers.get('retry-after') }
    }

    it('six failures answer 429 with Retry-After, not 423: the wait doubles, and the right password then gets in', async () => {
      const name = await account()
      const from = freshAddress()
      const { place } = THROTTLE
      for (let i = 1; i < place.free; i++) expect((await answer(await attempt(from, name, 'wrong-password-1'))).status).toBe(401)
      expect((await answer(await attempt(from, name, 'wrong-password-1'))).status).toBe(401) // the 3rd: now a wait
      let wait = place.baseSeconds
      for (let failures = place.free; failures <= 6; failures++) {
        const slowed = await answer(await attempt(from, name, 'wrong-password-1'))
        expect(slowed.status, `after ${failures} failures`).toBe(429)
        expect(slowed.code).toBe('too_many_attempts')
        expect(Number(slowed.retryAfter)).toBe(wait)
        expect(slowed.zh).toContain(wait < 60 ? `${wait} 秒` : `${wait / 60} 分钟`)
        expect(slowed.en).toContain('retry in')
        // Even the right password waits: a guess that happens to be right is not let through early.
        expect((await attempt(from, name, TEST_PASSWORD)).status).toBe(429)
        later(wait)
        if (failures < 6) expect((await attempt(from, name, 'wrong-password-1')).status).toBe(401)
        wait *= 2
      }
      expect((await attempt(from, name, TEST_PASSWORD)).status).toBe(200)
      // Never 423, and the waits were not counted as failures (one audit row a real guess).
      const [{ n }] = await s.db.sql`SELECT count(*)::int AS n FROM audit_log a JOIN users u ON a.row_id = u.id::text
                                      WHERE a.action = 'login_failed' AND u.username = ${name}`
      expect(n).toBe(6)
      const rows = await s.db.sql`SELECT scope FROM login_throttles WHERE username = ${name} AND failures > 0 ORDER BY scope`
      expect(rows.map((r) => r.scope)).toEqual(['account']) // the place is cleared by the success; the account-wide count stays
    })

    it('the wait is capped at a few minutes', async () => {
      const name = await account()
      const from = freshAddress()
      for (let i = 0; i < 12; i++) {
        const r = await attempt(from, name, 'wrong-password-1')
        if (r.status === 429) {
          expect(Number(r.headers.get('retry-after'))).toBeLessThanOrEqual(THROTTLE.place.capSeconds)
          later(Number(r.headers.get('retry-after')))
          i--
        } else expect(r.status).toBe(401)
      }
      const r = await attempt(from, name, 'wrong-password-1')
      expect(r.status).toBe(429)
      expect(Number(r.headers.get('retry-after'))).toBe(THROTTLE.place.capSeconds)
      later(THROTTLE.place.capSeconds)
      expect((await attempt(from, name, TEST_PASSWORD)).status).toBe(200)
    })

    it('a burst of guesses sent at once gets no more checked than one after another', async () => {
      const name = await account()
      const from = freshAddress()
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => attempt(from, name, `burst-guess-${i}`)))
      const statuses = answers.map((r) => r.status).sort()
      expect(statuses.filter((x) => x === 401).length).toBe(THROTTLE.place.free)
      expect(statuses.filter((x) => x === 429).length).toBe(12 - THROTTLE.place.free)
    })

    it('a stranger’s failures do not stop the owner logging in from a known device or address', async () => {
      const name = await account()
      const home = freshAddress()
      const owner = await login(s, name, TEST_PASSWORD, 0, { from: home })
      expect(owner.cookies).toMatch(/gw_device=/)
      const device = owner.cookies.split('; ').find((c) => c.startsWith('gw_device='))!
      // A guess spread over many addresses: each one is new, so only the account-wide count stops it.
      for (let i = 0; i < THROTTLE.account.free; i++) expect((await attempt(freshAddress(), name, `guess-${i}-password`)).status).toBe(401)
      const stranger = await answer(await attempt(freshAddress(), name, 'guess-x-password'))
      expect(stranger.status).toBe(429)
      expect(Number(stranger.retryAfter)).toBeGreaterThan(0)
      // The owner's browser (device cookie) gets in from anywhere, and so does the address they logged in from.
      expect((await attempt(freshAddress(), name, TEST_PASSWORD, device)).status).toBe(200)
      expect((await attempt(home, name, TEST_PASSWORD)).status).toBe(200)
      // A new place of the owner's, without the cookie, is a stranger too until the wait is over.
      const elsewhere = freshAddress()
      expect((await attempt(elsewhere, name, TEST_PASSWORD)).status).toBe(429)
      later(Number(stranger.retryAfter))
      expect((await attempt(elsewhere, name, TEST_PASSWORD)).status).toBe(200)

      // A stranger behind the owner's own address (one office, one NAT) slows that address for this
      // account, not the owner's browser.
      for (let i = 0; i < THROTTLE.place.free; i++) expect((await attempt(home, name, 'neighbour-guess-1')).status).toBe(401)
      expect((await attempt(home, name, 'neighbour-guess-1')).status).toBe(429)
      expect((await attempt(home, name, TEST_PASSWORD, device)).status).toBe(200)
      // A device cookie that is not this account's (or made up) is no known device.
      expect((await attempt(home, name, TEST_PASSWORD, 'gw_device=' + 'A'.repeat(43))).status).toBe(429)
    })

    it('unknown and known usernames get the same answers', async () => {
      const known = await account()
      const unknown = `nobody${Date.now() % 1e6}`
      const seen: Record<string, unknown[]> = { known: [], unknown: [] }
      for (const [who, name] of [['known', known], ['unknown', unknown]] as const) {
        const from = freshAddress()
        for (let i = 0; i < THROTTLE.place.free + 1; i++) {
          seen[who].push(await answer(await attempt(from, name, 'wrong-password-1')))
        }
        // Spread over addresses: the account-wide count holds for a name that does not exist too.
        for (let i = 0; i < THROTTLE.account.free; i++) seen[who].push((await attempt(freshAddress(), name, `guess-${i}-password`)).status)
        seen[who].push(await answer(await attempt(freshAddress(), name, 'guess-x-password')))
      }
      expect(seen.unknown).toEqual(seen.known)
      expect(seen.known.at(-1)).toMatchObject({ status: 429, code: 'too_many_attempts' })
      expect(seen.known[0]).toMatchObject({ status: 401, code: 'bad_credentials' })
      // (An unknown name also runs argon2 on a decoy hash, credentials.ts, so no quick answer tells the name is free;
      // that is timing, which a test on a shared machine cannot hold.)
    })

    it('one address trying many names waits after a few failures', async () => {
      const from = freshAddress()
      for (let i = 0; i < THROTTLE.address.free; i++) expect((await attempt(from, `sprayed${i}x${Date.now() % 1e5}`, 'Spring-2026!')).status).toBe(401)
      const r = await answer(await attempt(from, `sprayed-last${Date.now() % 1e5}`, 'Spring-2026!'))
      expect(r.status).toBe(429)
      expect(Number(r.retryAfter)).toBe(THROTTLE.address.baseSeconds)
      // An account that has logged in from this address before is not held by the others' failures.
      const name = await account()
      expect((await attempt(from, name, TEST_PASSWORD)).status).toBe(429)
      later(THROTTLE.address.baseSeconds)
      expect((await attempt(from, name, TEST_PASSWORD)).status).toBe(200)
      expect((await attempt(from, `sprayed-again${Date.now() % 1e5}`, 'Spring-2026!')).status).toBe(401)
      expect((await attempt(from, `sprayed-more${Date.now() % 1e5}`, 'Spring-2026!')).status).toBe(429)
      expect((await attempt(from, name, TEST_PASSWORD)).status).toBe(200)
    })

    it('admin can see and clear a throttle; it is audited; nobody else may', async () => {
      const name = await account()
      const from = freshAddress()
      for (let i = 0; i < THROTTLE.place.free; i++) await attempt(from, name, 'wrong-password-1')
      expect((await attempt(from, name, TEST_PASSWORD)).status).toBe(429)
      const list = await admin.get('/api/auth/throttles')
      expect(list.status).toBe(200)
      const rows = (await list.json()) as { id: number; scope: string; username: string | null; address: string | null; failures: number; blockedUntil: string | null }[]
      const mine = rows.find((r) => r.username === name && r.scope === 'account_address')
      expect(mine).toMatchObject({ address: from, failures: THROTTLE.place.free })
      expect(new Date(mine!.blockedUntil!).getTime()).toBe(clock + THROTTLE.place.baseSeconds * 1000)
      // A known browser's failures are counted by its device cookie, which is a secret: listed as a device, not by its hash.
      const owner = await login(s, name, TEST_PASSWORD, 0, { from: freshAddress() })
      const [{ place: deviceHash }] = await s.db.sql`SELECT place FROM login_places WHERE kind = 'device' AND user_id = ${owner.userId}`
      for (let i = 0; i < THROTTLE.place.free; i++) expect((await attempt(freshAddress(), name, 'wrong-password-2', owner.cookies)).status).toBe(401)
      const withDevice = (await (await admin.get('/api/auth/throttles')).json()) as typeof rows
      expect(withDevice.find((r) => r.username === name && r.scope === 'account_device')).toMatchObject({ address: null, failures: THROTTLE.place.free })
      expect(JSON.stringify(withDevice)).not.toContain(deviceHash)

      for (const who of [commander]) {
        expect((await who.get('/api/auth/throttles')).status).toBe(403)
        expect((await who.send('DELETE', `/api/auth/throttles/${mine!.id}`, {})).status).toBe(403)
      }
      expect((await fetch(`${s.url}/api/auth/throttles`)).status).toBe(401)
      expect((await admin.send('DELETE', `/api/auth/throttles/${mine!.id}`, {}, { csrf: false })).status).toBe(403)
      expect((await admin.send('DELETE', '/api/auth/throttles/abc', {})).status).toBe(400)
      expect((await admin.send('DELETE', `/api/auth/throttles/${mine!.id}`, {})).status).toBe(200)
      expect((await admin.send('DELETE', `/api/auth/throttles/${mine!.id}`, {})).status).toBe(404)
      const [a] = await s.db.sql`SELECT actor, action, before FROM audit_log WHERE action = 'throttle_cleared' ORDER BY id DESC LIMIT 1`
      expect(a.actor).toBe(admin.username)
      expect(a.before).toMatchObject({ scope: 'account_address', username: name, address: from })
      expect((await attempt(from, name, TEST_PASSWORD)).status).toBe(200)
      const after = (await (await admin.get('/api/auth/throttles')).json()) as { username: string; scope: string }[]
      expect(after.find((r) => r.username === name && r.scope === 'account_address')).toBeUndefined()
    })

    it('password change guesses are throttled', async () => {
      const from = freshAddress()
      const me = await loginAs(s, 'planner', CITY, { from })
      const change = (current: string) => me.send('POST', '/api/auth/password', { current, next: 'Brand-new-password-7' })
      for (let i = 0; i < THROTTLE.place.free; i++) {
        const r = await change('not-my-password-1')
        expect(r.status).toBe(400)
        expect((await r.json()).error.code).toBe('bad_current_password')
      }
      const slowed = await change('not-my-password-1')
      expect(slowed.status).toBe(429)
      expect(Number(slowed.headers.get('retry-after'))).toBe(THROTTLE.place.baseSeconds)
      expect((await slowed.json()).error.zh).toContain('秒')
      expect((await change(TEST_PASSWORD)).status).toBe(429)
      const [{ n }] = await s.db.sql`SELECT count(*)::int AS n FROM audit_log WHERE action = 'password_check_failed' AND actor_id = ${me.userId}`
      expect(n).toBe(THROTTLE.place.free)
      later(THROTTLE.place.baseSeconds)
      expect((await change(TEST_PASSWORD)).status).toBe(200)
    })
  })
}

