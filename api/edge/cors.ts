import type { MiddlewareHandler } from 'hono'

/**
 * Cross-origin reads for configured origins (GRIDWATCH_CORS_ORIGINS): a
 * portal or another MapLibre app on its own origin may draw our tiles and read
 * the OGC API and exports with the user's session. Reads only (GET, HEAD and
 * their preflight): no write is ever shared across origins, the CSRF check
 * stays as it is. An origin not listed gets no CORS header at all, and the
 * browser keeps the answer from its page.
 */

/** The listed origins, checked: scheme and host (and port) only, as a browser sends them in `Origin`. */
export function parseCorsOrigins(raw: string | undefined): string[] {
  const list = (raw ?? '').split(/[\s,]+/).filter(Boolean)
  for (const o of list) {
    if (!/^https?:\/\/[a-z0-9.-]+(:[0-9]{1,5})?$/i.test(o)) {
      throw new Error(`GRIDWATCH_CORS_ORIGINS 中的来源有误：${o}（应为 https://主机[:端口]，不带路径）/ ` +
        `a bad origin in GRIDWATCH_CORS_ORIGINS: ${o} (expected https://host[:port], no path)`)
    }
  }
  return list.map((o) => o.toLowerCase())
}

/** The headers a read answer carries for `origin` (the request's Origin header), or only `Vary` when it is not listed. */
export function corsHeaders(origins: readonly string[], origin: string | undefined): Record<string, string> {
  if (!origins.length) return {}
  if (!origin || !origins.includes(origin.toLowerCase())) return { Vary: 'Origin' }
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Allow-Credentials': 'true',
    'Access-Control-Expose-Headers': 'ETag, Content-Length, Content-Disposition, X-Request-Id, X-Feature-Count',
    Vary: 'Origin',
  }
}

/** Hono middleware for the read paths: the headers on GET/HEAD, and the preflight answered before any login check. */
export function corsReads(origins: readonly string[]): MiddlewareHandler {
  return async (c, next) => {
    if (!origins.length) return next()
    const headers = corsHeaders(origins, c.req.header('Origin'))
    if (c.req.method === 'OPTIONS' && c.req.header('Access-Control-Request-Method')) {
      const allowed = 'Access-Control-Allow-Origin' in headers && ['GET', 'HEAD'].includes(c.req.header('Access-Control-Request-Method')!)
      if (!allowed) return c.body(null, 204, { Vary: 'Origin' })
      return c.body(null, 204, {
        ...headers,
        'Access-Control-Allow-Methods': 'GET, HEAD',
        'Access-Control-Allow-Headers': 'Authorization, If-None-Match, Accept',
        'Access-Control-Max-Age': '600',
      })
    }
    await next()
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return
    for (const [k, v] of Object.entries(headers)) c.res.headers.set(k, v)
  }
}
