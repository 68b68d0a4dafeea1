/**
 * Personal access tokens on requests (issue #22). A desktop GIS client sends
 * `Authorization: Bearer gw_…`, or HTTP Basic with its username and the token
 * as the password (ArcGIS Pro, QGIS's authentication manager); a QGIS vector-tile connection, which can only
 * put it in its URL template, `?access_token=gw_…` on a tile URL (and on the
 * published style's URL, which QGIS fetches, with its sprite, with no header
 * of the connection's). A token reads, and only what those clients read: tiles
 * and TileJSON, published styles and their sprite, exports, the OGC API. It never writes (a token in a URL ends up in someone's log or
 * history), and no other API answers to it.
 */
import type { MiddlewareHandler } from 'hono'
import { HttpError } from '../../core/errors.ts'
import { ACCESS_TOKEN_PATTERN, type AccessTokenStore } from './token-store.ts'

const READS = new Set(['GET', 'HEAD'])

/** Where a token is accepted (GET and HEAD only); the query parameter on tile and style URLs alone. */
export const tokenReadsPath = (path: string) =>
  path.startsWith('/tiles/') || path.startsWith('/styles/') || path.startsWith('/api/export/') || path === '/ogc' || path.startsWith('/ogc/')
const tokenInQueryPath = (path: string) => path.startsWith('/tiles/') || path.startsWith('/styles/')

/** The token of an Authorization header, when it is a Bearer one. */
export function bearerOf(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
  return m?.[1]
}

/**
 * HTTP Basic whose password is a token (`username:gw_…`): what ArcGIS Pro and QGIS's
 * authentication manager send, and it keeps the token out of the URL. A Basic
 * password that is not a token is the OGC API's own login (http-basic.ts).
 */
export function basicTokenOf(header: string | undefined): { username: string; token: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '')
  if (!m) return undefined
  const text = Buffer.from(m[1], 'base64').toString('utf8')
  const colon = text.indexOf(':')
  const token = text.slice(colon + 1)
  return colon >= 0 && ACCESS_TOKEN_PATTERN.test(token) ? { username: text.slice(0, colon).trim().toLowerCase(), token } : undefined
}

const CHECK_PATH = '/api/auth/check'

/** The path and query of nginx's X-Original-URI, when it names a tile URL. */
function originalUri(header: string | undefined): URL | undefined {
  if (!header?.startsWith('/tiles/')) return undefined
  try {
    return new URL(header, 'http://x')
  } catch {
    return undefined
  }
}

const invalid = () =>
  new HttpError(401, 'bad_token', '访问令牌无效、已过期或已撤销', 'the access token is wrong, expired or revoked')

export function tokenAuth(tokens: AccessTokenStore): MiddlewareHandler {
  return async (c, next) => {
    // nginx asks /api/auth/check before it serves a kept tile (deploy/nginx/gridwatch.conf, auth_request), with the
    // client's headers and the tile's URL in X-Original-URI: the token is checked as for that tile. (Sent by anyone
    // else, the header earns a 204 or a 401, no data.)
    const original = c.req.path === CHECK_PATH ? originalUri(c.req.header('X-Original-URI')) : undefined
    const path = original?.pathname ?? c.req.path
    const authorization = c.req.header('Authorization')
    const basic = basicTokenOf(authorization)
    const header = bearerOf(authorization) ?? basic?.token
    const query = !tokenInQueryPath(path) ? undefined : original ? (original.searchParams.get('access_token') ?? undefined) : c.req.query('access_token')
    const secret = header ?? query
    if (secret === undefined || c.req.method === 'OPTIONS') return next()
    if (!READS.has(c.req.method)) {
      throw new HttpError(403, 'token_read_only', '访问令牌只能用于读取，不能修改数据', 'an access token is for reading only; it cannot change anything')
    }
    if (!tokenReadsPath(path)) {
      throw new HttpError(403, 'token_not_here', '访问令牌只用于瓦片、地图样式、导出和 OGC API；其他功能请登录页面', 'access tokens are for tiles, map styles, exports and the OGC API only; log in to the page for the rest')
    }
    // A logged-in page's cookie wins; a token beside it changes nothing.
    if (!c.get('user')) {
      const found = await tokens.lookup(secret)
      // With Basic, the name given must be the token's owner (a client's saved login names whose it is).
      if (!found || (basic && basic.username !== found.user.username)) {
        c.header('WWW-Authenticate', basic ? 'Basic realm="gridwatch", charset="UTF-8"' : 'Bearer realm="gridwatch", error="invalid_token"')
        throw invalid()
      }
      c.set('user', found.user)
    }
    await next()
  }
}
