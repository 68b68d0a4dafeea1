import { getConnInfo } from '@hono/node-server/conninfo'
import type { Context } from 'hono'
import { Hono } from 'hono'
import { deleteCookie, setCookie } from 'hono/cookie'
import { z } from 'zod'
import { requireUser } from '../auth/guard.ts'
import { checkPasswordRules, hashPassword, verifyPassword } from '../auth/passwords.ts'
import { actions, roleMay } from '../auth/policy.ts'
import { AttemptLimiter } from '../auth/rate-limit.ts'
import { SESSION_COOKIE, type SessionStore } from '../auth/sessions.ts'
import type { Sql } from '../db/connect.ts'
import { auditEvent, writeTx } from '../db/write.ts'
import { HttpError } from '../errors.ts'
import { readJson } from '../validate.ts'

/** Failed logins in a row that lock an account, and for how long. */
export const LOCKOUT = { failures: 5, minutes: 15 }
/** Failed logins per client address per window, after which that address waits. */
export const LOGIN_RATE = { max: 20, windowMs: 10 * 60_000 }

const loginSchema = z.object({ username: z.string().trim().toLowerCase().min(1).max(64), password: z.string().min(1).max(200) })
const passwordSchema = z.object({ current: z.string().min(1).max(200), next: z.string() })

function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown'
  } catch {
    return 'unknown'
  }
}

const isHttps = (c: Context) => new URL(c.req.url).protocol === 'https:' || c.req.header('X-Forwarded-Proto') === 'https'

export function authRoutes(sql: Sql, sessions: SessionStore) {
  const app = new Hono()
  const limiter = new AttemptLimiter(LOGIN_RATE.max, LOGIN_RATE.windowMs)

  const me = (c: Context) => {
    const user = requireUser(c)
    return { user, csrfToken: c.get('session')!.csrfToken, may: actions.filter((a) => roleMay(user.role, a)) }
  }

  app.post('/api/auth/login', async (c) => {
    const ip = clientAddress(c)
    const wait = limiter.wait(ip)
    if (wait) {
      c.header('Retry-After', String(wait))
      throw new HttpError(429, 'too_many_attempts', `登录尝试过多，请 ${Math.ceil(wait / 60)} 分钟后再试`, `too many login attempts; retry in ${Math.ceil(wait / 60)} min`)
    }
    const { username, password } = await readJson(c, loginSchema)
    const [u] = await sql`SELECT id, username, role, password_hash, disabled, locked_until > now() AS locked,
                                 ceil(extract(epoch FROM locked_until - now()) / 60)::int AS minutes
                          FROM users WHERE username = ${username}`
    if (u?.locked) throw locked(u.minutes as number)
    const ok = await verifyPassword((u?.password_hash as string) ?? null, password)
    const actor = { id: (u?.id as number) ?? null, username: u ? username : `anonymous:${username.slice(0, 32)}`, role: (u?.role as string) ?? 'none' }
    if (!ok) {
      limiter.fail(ip)
      let nowLocked = false
      await writeTx(sql, actor, async (tx) => {
        if (u) {
          const [r] = await tx`UPDATE users SET failed_logins = failed_logins + 1,
                                 locked_until = CASE WHEN failed_logins + 1 >= ${LOCKOUT.failures}
                                                     THEN now() + ${LOCKOUT.minutes} * interval '1 minute' END
                               WHERE id = ${u.id as number} RETURNING locked_until IS NOT NULL AS locked`
          nowLocked = r.locked as boolean
        }
        await auditEvent(tx, { action: 'login_failed', table: 'users', rowId: u ? String(u.id) : null, after: { ip } })
      })
      if (nowLocked) throw locked(LOCKOUT.minutes)
      throw new HttpError(401, 'bad_credentials', '用户名或密码错误', 'wrong username or password')
    }
    if (u.disabled) throw new HttpError(403, 'account_disabled', '该账号已停用，请联系管理员', 'this account is disabled; ask an administrator')
    await writeTx(sql, actor, async (tx) => {
      await tx`UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ${u.id as number}`
      await auditEvent(tx, { action: 'login', table: 'users', rowId: String(u.id), after: { ip } })
    })
    const { token, csrfToken } = await sessions.start(u.id as number, { ip, userAgent: c.req.header('User-Agent') })
    setCookie(c, SESSION_COOKIE, token, { httpOnly: true, sameSite: 'Lax', path: '/', secure: isHttps(c), maxAge: 30 * 86400 })
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
    deleteCookie(c, SESSION_COOKIE, { path: '/' })
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

const locked = (minutes: number) =>
  new HttpError(423, 'account_locked', `连续登录失败次数过多，账号已锁定，请 ${minutes} 分钟后再试`, `too many failed logins: account locked; retry in ${minutes} min`)
