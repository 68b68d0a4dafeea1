import type { Context } from 'hono'
import { Hono } from 'hono'
import { z } from 'zod'
import { requireUser } from '../auth/guard.ts'
import { checkCredentials, clientAddress, LOCKOUT, LOGIN_RATE } from '../auth/credentials.ts'
import { checkPasswordRules, hashPassword, verifyPassword } from '../auth/passwords.ts'
import { actions, mayDo } from '../auth/policy.ts'
import { AttemptLimiter } from '../auth/rate-limit.ts'
import { clearSessionCookie, setSessionCookie } from '../auth/session-cookie.ts'
import type { SessionStore } from '../auth/sessions.ts'
import type { ProxySettings } from '../proxy.ts'
import type { Sql } from '../db/connect.ts'
import { auditEvent, writeTx } from '../db/write.ts'
import { HttpError } from '../errors.ts'
import { readJson } from '../validate.ts'

// Kept here too: tests and scripts import them from the login routes.
export { LOCKOUT, LOGIN_RATE }

const loginSchema = z.object({ username: z.string().trim().toLowerCase().min(1).max(64), password: z.string().min(1).max(200) })
const passwordSchema = z.object({ current: z.string().min(1).max(200), next: z.string() })

/** `limiter`: failed logins per address, shared with HTTP Basic on /ogc (see app.ts). */
export function authRoutes(sql: Sql, sessions: SessionStore, proxy: ProxySettings, limiter = new AttemptLimiter(LOGIN_RATE.max, LOGIN_RATE.windowMs)) {
  const app = new Hono()

  const me = (c: Context) => {
    const user = requireUser(c)
    return { user, csrfToken: c.get('session')!.csrfToken, may: actions.filter((a) => mayDo(user.role, user.unitCode, a)) }
  }

  app.post('/api/auth/login', async (c) => {
    const ip = clientAddress(c)
    const { username, password } = await readJson(c, loginSchema)
    const u = await checkCredentials(c, sql, limiter, username, password)
    const actor = { id: u.id, username, role: u.role }
    await writeTx(sql, actor, async (tx) => {
      await tx`UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ${u.id as number}`
      await auditEvent(tx, { action: 'login', table: 'users', rowId: String(u.id), after: { ip } })
    })
    const { token, csrfToken } = await sessions.start(u.id as number, { ip, userAgent: c.req.header('User-Agent') })
    setSessionCookie(c, proxy, token)
    const s = await sessions.lookup(token)
    c.set('user', s!.user)
    c.set('session', { tokenHash: s!.tokenHash, csrfToken })
    return c.json(me(c))
  })

  // Anonymous is an answer here, not an error: the page asks before it knows.
  app.get('/api/auth/me', (c) => c.json(c.get('user') ? me(c) : { user: null }))

  app.post('/api/auth/logout', async (c) => {
    const session = c.get('session')
    if (session) await sessions.end(session.tokenHash)
    clearSessionCookie(c)
    return c.json({ ok: true })
  })

  app.post('/api/auth/password', async (c) => {
    const user = requireUser(c)
    const body = await readJson(c, passwordSchema)
    const [row] = await sql`SELECT password_hash FROM users WHERE id = ${user.id}`
    if (!(await verifyPassword(row?.password_hash as string, body.current))) {
      throw new HttpError(400, 'bad_current_password', '当前密码不正确', 'the current password is wrong')
    }
    if (body.next === body.current) throw new HttpError(400, 'same_password', '新密码不能与当前密码相同', 'the new password must differ from the current one')
    checkPasswordRules(body.next, user.username)
    const hash = await hashPassword(body.next)
    await writeTx(sql, user, (tx) => tx`UPDATE users SET password_hash = ${hash}, must_change_password = false,
                                          password_changed_at = now(), version = version + 1 WHERE id = ${user.id}`)
    // Everyone else holding this account's sessions is out; this one stays.
    await sessions.endAllOf(user.id, c.get('session')!.tokenHash)
    return c.json({ ok: true })
  })
  return app
}

