import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { projectRoot } from '../../core/config.ts'
import { startServer, type RunningServer } from '../../api/server.ts'
import { THROTTLE } from '../../api/auth/throttle-rules.ts'
import { fetchFrom, freshAddress } from '../helpers/from-address.ts'
import { login, loginAs, TEST_PASSWORD } from '../helpers/session.ts'
import { targets } from '../helpers/targets.ts'

const run = promisify(execFile)

/** `npm run user -- …` as a person types it, against each database. */
for (const target of targets()) {
  describe(`npm run user on ${target.name}`, () => {
    let s: RunningServer
    const user = async (...args: string[]) => {
      try {
        const r = await run(process.execPath, ['--import', 'tsx', 'scripts/user.ts', ...args], {
          cwd: projectRoot, env: { ...process.env, DATABASE_URL: target.url }, timeout: 60_000,
        })
        return { code: 0, out: r.stdout + r.stderr }
      } catch (e) {
        const err = e as { code: number; stdout: string; stderr: string }
        return { code: err.code, out: err.stdout + err.stderr }
      }
    }
    beforeAll(async () => {
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true })
    })
    afterAll(() => s?.close())

    it('adds an account that can log in, refuses bad ones, lists, disables and resets', async () => {
      const [t] = await s.db.sql`SELECT code FROM admin_units WHERE level = 'township' ORDER BY code LIMIT 1`
      const name = `cli${Date.now() % 1e6}`
      const added = await user('add', '--username', name, '--name', '命令行干部', '--role', 'township', '--unit', t.code as string, '--password', 'Cli-password-2026')
      expect(added.code, added.out).toBe(0)
      expect(added.out).toContain(name)
      const me = await login(s, name, 'Cli-password-2026')
      expect((await me.get(`/api/units/${t.code}`)).status).toBe(200)
      const [a] = await s.db.sql`SELECT actor FROM audit_log WHERE table_name = 'users' AND action = 'insert' AND after ->> 'username' = ${name}`
      expect(a.actor).toMatch(/^cli:/)

      for (const [args, says] of [
        [['add', '--username', name, '--name', 'x', '--role', 'township', '--unit', t.code], '用户名已存在'],
        [['add', '--username', `${name}b`, '--name', 'x', '--role', 'boss', '--unit', t.code], 'role'],
        [['add', '--username', `${name}c`, '--name', 'x', '--role', 'township', '--unit', '530600000000'], '530600000000'],
        [['add', '--username', `${name}d`, '--name', 'x', '--role', 'planner', '--unit', '530600000000', '--password', '123'], '密码不符合要求'],
        [['add', '--username', `${name}e`], '--name'],
        [['frobnicate'], 'unknown command'],
        [['disable', '--username', 'nobody-like-this'], 'no account'],
      ] as [string[], string][]) {
        const r = await user(...args)
        expect(r.code, args.join(' ')).toBe(2)
        expect(r.out, args.join(' ')).toContain(says)
      }
      expect((await s.db.sql`SELECT count(*)::int AS n FROM users WHERE username LIKE ${name + '_'}`)[0].n).toBe(0)

      expect((await user('list')).out).toContain(name)
      expect((await user('disable', '--username', name)).code).toBe(0)
      // PostGIS tells every API process at once (NOTIFY); PGlite's socket does not pass another
      // process's NOTIFY on, so there the server's 30 s session cache runs out first.
      await expect.poll(async () => (await me.get(`/api/units/${t.code}`)).status, { timeout: 40_000, interval: 1000 }).toBe(401)
      expect((await user('enable', '--username', name)).code).toBe(0)
      const reset = await user('reset-password', '--username', name)
      expect(reset.code).toBe(0)
      const fresh = /new password: ([\w-]+)/.exec(reset.out)?.[1]
      expect(fresh).toBeTruthy()
      const again = await login(s, name, fresh!)
      expect((await again.get(`/api/units/${t.code}`)).status).toBe(403)
    })

    it('unlock clears the login throttles of that account, and list shows them', async () => {
      const me = await loginAs(s, 'planner', '530600000000')
      const from = freshAddress()
      const attempt = (password: string) => fetchFrom(from)(`${s.url}/api/auth/login`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: me.username, password }),
      })
      for (let i = 0; i < THROTTLE.place.free; i++) expect((await attempt('wrong-password-1')).status).toBe(401)
      expect((await attempt(TEST_PASSWORD)).status).toBe(429)
      const listed = await user('list')
      expect(listed.out).toMatch(new RegExp(`${me.username}.*登录受限 throttled`))
      const r = await user('unlock', '--username', me.username)
      expect(r.code, r.out).toBe(0)
      expect(r.out).toContain(me.username)
      expect((await s.db.sql`SELECT count(*)::int AS n FROM login_throttles WHERE username = ${me.username}`)[0].n).toBe(0)
      const [a] = await s.db.sql`SELECT actor FROM audit_log WHERE action = 'throttle_cleared' AND before ->> 'username' = ${me.username}`
      expect(a.actor).toMatch(/^cli:/)
      expect((await attempt(TEST_PASSWORD)).status).toBe(200)
      expect((await user('unlock', '--username', 'nobody-like-this')).out).toContain('no account')
    })
  })
}
