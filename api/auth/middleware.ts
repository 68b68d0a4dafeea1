import type { MiddlewareHandler } from 'hono'
import { parse as parseCookies } from 'hono/utils/cookie'
import { HttpError } from '../../core/errors.ts'
import { expectedHost, type ProxySettings } from '../proxy.ts'
import { notLoggedIn } from './guard.ts'
import { setSessionCookie } from './session-cookie.ts'
import { SESSION_COOKIE, sameToken, type SessionStore } from './sessions.ts'

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS'])

function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host
  } catch {
    return undefined
  }
}

const tokenOf = (cookieHeader: string | undefined) => {
  const token = cookieHeader ? parseCookies(cookieHeader, SESSION_COOKIE)[SESSION_COOKIE] : undefined
  return token && /^[A-Za-z0-9_-]{20,100}$/.test(token) ? token : undefined
}

/** The session behind a request's Cookie header, if it names a live one. */
export async function sessionOf(store: SessionStore, cookieHeader: string | undefined) {
  const token = tokenOf(cookieHeader)
  return token ? store.lookup(token) : undefined
}

/**
 * Finds the session behind the cookie and puts its user on the context.
 * When the session's end was moved on, the cookie's is too (API answers
 * only: tiles are cacheable and must carry no Set-Cookie).
 */
export function sessionLookup(store: SessionStore, proxy: ProxySettings): MiddlewareHandler {
  return async (c, next) => {
    const token = tokenOf(c.req.header('Cookie'))
    const s = token ? await store.lookup(token) : undefined
    if (s) {
      c.set('user', s.user)
      c.set('session', { tokenHash: s.tokenHash, csrfToken: s.csrfToken, readOnly: s.readOnly })
    }
    await next()
    if (s?.renewed && token && c.req.path.startsWith('/api/') && !c.res.headers.has('Set-Cookie')) setSessionCookie(c, proxy, token)
  }
}

/**
 * Every write carries the session's CSRF token in X-CSRF-Token, and comes
 * from our own origin when the browser says where it comes from. Login has
 * no session yet: it takes JSON only, which a cross-site form cannot send.
 */
export const csrfCheck = (proxy: ProxySettings): MiddlewareHandler => async (c, next) => {
  if (SAFE.has(c.req.method)) return next()
  // A job's session (a print render's browser) reads for its user and writes nothing, whatever token it shows.
  if (c.get('session')?.readOnly) {
    throw new HttpError(403, 'read_only_session', '此会话只读（服务器任务所用），不能修改数据', 'this session is read-only (a server job\'s) and cannot change anything')
  }
  const origin = c.req.header('Origin')
  if (origin && origin !== 'null' && originHost(origin) !== expectedHost(c, proxy)) {
    throw new HttpError(403, 'bad_origin', `拒绝来自其他网站的请求：${origin}`, `request from another site refused: ${origin}`)
  }
  if (c.req.path === '/api/auth/login') return next()
  const session = c.get('session')
  if (!session) throw notLoggedIn()
  if (!sameToken(c.req.header('X-CSRF-Token') ?? '', session.csrfToken)) {
    throw new HttpError(403, 'bad_csrf', '请求缺少有效的防伪令牌，请刷新页面后重试', 'missing or wrong CSRF token; reload the page and retry')
  }
  await next()
}

// Logging in and out, and changing a password that must be changed, are before the checks below;
// the rest of /api/auth (the admin's throttles) is not.
const authPaths = new Set(['/api/auth/login', '/api/auth/me', '/api/auth/logout', '/api/auth/password'])

/** Data (API and tiles) is for logged-in people; an account with a reset password must change it first. */
export function loginRequired(publicPaths: Set<string>): MiddlewareHandler {
  return async (c, next) => {
    if (publicPaths.has(c.req.path) || authPaths.has(c.req.path)) return next()
    const user = c.get('user')
    if (!user) throw notLoggedIn()
    if (user.mustChangePassword) {
      throw new HttpError(403, 'must_change_password', '请先修改初始密码', 'change your password before going on')
    }
    await next()
  }
}
