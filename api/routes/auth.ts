import type { Context } from 'hono'
import { Hono } from 'hono'
import { getCookie, setCookie } from 'hono/cookie'
import { z } from 'zod'
import { authorize, requireUser } from '../auth/guard.ts'
import { checkCredentials, clientAddress, takeAttempt } from '../auth/credentials.ts'
import { checkOwnPassword, setOwnPassword } from '../auth/own-password.ts'
import { actions, mayDo } from '../../core/policy.ts'
import { clearSessionCookie, setSessionCookie } from '../auth/session-cookie.ts'
import type { SessionStore } from '../auth/sessions.ts'
import { DEVICE_COOKIE, deviceToken, LoginThrottle, newDeviceToken } from '../auth/throttle.ts'
import { KNOWN_PLACE_DAYS } from '../auth/throttle-rules.ts'
import { clientUsesHttps, type ProxySettings } from '../proxy.ts'
import type { Sql } from '../../db/connect.ts'
import { auditEvent, writeTx } from '../../db/write.ts'
import { notFound, parseId } from '../../core/errors.ts'
import { readJson } from '../validate.ts'
import { homeArea } from '../units/home.ts'

const THROTTLE_WHAT = { zh: '登录限制', en: 'login throttle' }

const loginSchema = z.object({ username: z.string().trim().toLowerCase().min(1).max(64), password: z.string().min(1).max(200) })
const passwordSchema = z.object({ current: z.string().min(1).max(200), next: z.string() })

/** `throttle`: password guesses slowed, shared with HTTP Basic on /ogc (see app.ts). */
export function authRoutes(sql: Sql, sessions: SessionStore, proxy: ProxySettings, throttle = new LoginThrottle(sql)) {
  const app = new Hono()

  const me = async (c: Context) => {
    const user = requireUser(c)
    return {
      user, csrfToken: c.get('session')!.csrfToken, may: actions.filter((a) => mayDo(user.role, user.unitCode, a)),
      home: await homeArea(sql, user),
    }
  }

  app.post('/api/auth/login', async (c) => {
    const ip = clientAddress(c)
    const { username, password } = await readJson(c, loginSchema)
    // The browser keeps one device cookie; a first login gives it one. Where it has logged in before,
    // a stranger's guesses at the account do not hold it up (throttle.ts).
    const device = deviceToken(getCookie(c, DEVICE_COOKIE)) ?? newDeviceToken()
    const u = await checkCredentials(c, sql, throttle, username, password, device)
    const actor = { id: u.id, username, role: u.role }
    await writeTx(sql, actor, (tx) => auditEvent(tx, { action: 'login', table: 'users', rowId: String(u.id), after: { ip } }))
    const { token, csrfToken } = await sessions.start(u.id as number, { ip, userAgent: c.req.header('User-Agent') })
    setSessionCookie(c, proxy, token)
    setCookie(c, DEVICE_COOKIE, device, { httpOnly: true, sameSite: 'Strict', path: '/api/auth', secure: clientUsesHttps(c, proxy), maxAge: KNOWN_PLACE_DAYS * 86400 })
    const s = await sessions.lookup(token)
    c.set('user', s!.user)
    c.set('session', { tokenHash: s!.tokenHash, csrfToken })
    return c.json(await me(c))
  })

  // Anonymous is an answer here, not an error: the page asks before it knows.
  app.get('/api/auth/me', async (c) => c.json(c.get('user') ? await me(c) : { user: null }))
  // For a proxy in front (nginx auth_request before a kept tile): 204 with a usable session, else the login check's 401/403.
  app.get('/api/auth/check', (c) => c.body(null, 204, { 'Cache-Control': 'no-store' }))

  app.post('/api/auth/logout', async (c) => {
    const session = c.get('session')
    if (session) await sessions.end(session.tokenHash)
    clearSessionCookie(c)
    return c.json({ ok: true })
  })

  app.post('/api/auth/password', async (c) => {
    const user = requireUser(c)
    const body = await readJson(c, passwordSchema)
    // A stolen session is not a licence to guess the password behind it: the same counts as a login.
    const ip = clientAddress(c)
    const ticket = await takeAttempt(c, throttle, { username: user.username, address: ip, device: deviceToken(getCookie(c, DEVICE_COOKIE)) }, 'password')
    await checkOwnPassword(sql, user, { current: body.current, ip })
    await throttle.succeeded(ticket, user.id)
    const { revokedTokens } = await setOwnPassword(sql, user, body)
    // Everyone else holding this account's sessions is out; this one stays. Its tokens, revoked above, stop in every process now.
    await sessions.endAllOf(user.id, c.get('session')!.tokenHash)
    return c.json({ ok: true, revokedTokens })
  })

  // Who is being made to wait, and a way to let them in (an office behind one address, a forgetful chief).
  app.get('/api/auth/throttles', async (c) => {
    authorize(c, 'user.manage')
    return c.json(await throttle.list())
  })

  app.delete('/api/auth/throttles/:id', async (c) => {
    const admin = authorize(c, 'user.manage')
    const id = parseId(c.req.param('id'), THROTTLE_WHAT)
    if (!(await throttle.clear(admin, id))) throw notFound(THROTTLE_WHAT, String(id))
    return c.json({ ok: true })
  })
  return app
}

