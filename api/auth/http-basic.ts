/**
 * HTTP Basic for the read-only OGC API: QGIS and GDAL keep a username and
 * password, not our session cookie. Only GET/HEAD (nothing to forge), the
 * same password check and login throttles as the login form (credentials.ts,
 * throttle.ts), no session made. A 401 here asks for credentials
 * (WWW-Authenticate), so a desktop client prompts for them.
 */
import { createHash } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import type { Sql } from '../../db/connect.ts'
import { HttpError } from '../../core/errors.ts'
import { checkCredentials } from './credentials.ts'
import type { SessionUser } from './guard.ts'
import type { LoginThrottle } from './throttle.ts'

/** How long a verified username+password is trusted before argon2 runs again (a client pages many times a second). */
const CACHE_MS = 60_000

export const BASIC_CHALLENGE = 'Basic realm="gridwatch", charset="UTF-8"'

function parseBasic(header: string | undefined): { username: string; password: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '')
  if (!m) return undefined
  const text = Buffer.from(m[1], 'base64').toString('utf8')
  const colon = text.indexOf(':')
  if (colon < 1) return undefined
  return { username: text.slice(0, colon).trim().toLowerCase(), password: text.slice(colon + 1) }
}

const unauthorized = (zh: string, en: string) => new HttpError(401, 'not_logged_in', zh, en)

export function basicAuth(sql: Sql, throttle: LoginThrottle): MiddlewareHandler {
  // sha256(username, password) → the account and its password hash when verified: a hit is re-checked
  // against the account row (still enabled, same password hash), so a change takes effect at once.
  const verified = new Map<string, { id: number; passwordHash: string; at: number }>()

  return async (c, next) => {
    const creds = c.get('user') ? undefined : parseBasic(c.req.header('Authorization'))
    if (creds) {
      if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
        throw new HttpError(405, 'method_not_allowed', 'HTTP Basic 认证仅用于只读请求', 'HTTP Basic credentials are for reading only')
      }
      const key = createHash('sha256').update(`${creds.username}\0${creds.password}`).digest('base64url')
      const hit = verified.get(key)
      let id: number | undefined
      if (hit && Date.now() - hit.at < CACHE_MS) {
        const [ok] = await sql`SELECT 1 FROM users WHERE id = ${hit.id} AND password_hash = ${hit.passwordHash} AND NOT disabled`
        if (ok) id = hit.id
        else verified.delete(key)
      }
      if (id === undefined) {
        const acc = await checkCredentials(c, sql, throttle, creds.username, creds.password).catch((e: unknown) => {
          // A wrong password asks again, so that QGIS shows its login box (a wait does not: 429).
          if (e instanceof HttpError && e.status === 401) c.header('WWW-Authenticate', BASIC_CHALLENGE)
          throw e
        })
        verified.set(key, { id: acc.id, passwordHash: acc.passwordHash, at: Date.now() })
        if (verified.size > 1000) verified.delete(verified.keys().next().value!)
        id = acc.id
      }
      const [u] = await sql`SELECT id, username, display_name, role, unit_code, must_change_password FROM users WHERE id = ${id}`
      const user: SessionUser = {
        id: u.id as number, username: u.username as string, displayName: u.display_name as string,
        role: u.role as SessionUser['role'], unitCode: u.unit_code as string, mustChangePassword: u.must_change_password as boolean,
      }
      c.set('user', user)
    }
    await next()
  }
}

/** /ogc needs a user (cookie or Basic); the 401 carries the Basic challenge. */
export const ogcLoginRequired: MiddlewareHandler = async (c, next) => {
  const user = c.get('user')
  if (!user) {
    c.header('WWW-Authenticate', BASIC_CHALLENGE)
    throw unauthorized('请先登录（会话 Cookie 或 HTTP Basic 用户名和密码）', 'please log in (session cookie, or HTTP Basic username and password)')
  }
  if (user.mustChangePassword) {
    throw new HttpError(403, 'must_change_password', '请先修改初始密码', 'change your password before going on')
  }
  await next()
}
