import { createHash } from 'node:crypto'
import { Hono, type MiddlewareHandler } from 'hono'
import { secureHeaders } from 'hono/secure-headers'
import type { Basemap } from '../core/basemap.ts'

/** Origins the browser may load basemap tiles from (nothing else leaves our server). */
export function basemapOrigins(basemap: Basemap | null | undefined): string[] {
  if (!basemap) return []
  const urls = 'tiles' in basemap ? basemap.tiles : [basemap.url.replace(/^pmtiles:\/\//, '')]
  return [...new Set(urls.map((u) => new URL(u.replace(/[{}]/g, '')).origin))]
}

/**
 * The CSP sources of a page's own inline scripts ('sha256-…' of each one's exact text): the field app's page
 * asks for its first data before its scripts arrive (web/m/index.html, issue #19), and only that text may run.
 */
export function inlineScriptHashes(html: string): string[] {
  return [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)]
    .map((m) => `'sha256-${createHash('sha256').update(m[1], 'utf8').digest('base64')}'`)
}

/**
 * CSP, nosniff, no framing. The command wall (/screen) alone may be framed,
 * by our own origin and by the origins in GRIDWATCH_FRAME_ANCESTORS (a
 * command-room portal that embeds it).
 */
export function securityHeaders(opts: { basemap: Basemap | null | undefined; frameAncestors: string[]; scriptHashes?: string[] }): MiddlewareHandler {
  const extra = basemapOrigins(opts.basemap)
  const csp = (frameAncestors: string[]) => ({
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'", ...(opts.scriptHashes ?? [])],
    // MapLibre and React set element styles inline.
    styleSrc: ["'self'", "'unsafe-inline'"],
    imgSrc: ["'self'", 'data:', 'blob:', ...extra],
    connectSrc: ["'self'", ...extra],
    // MapLibre's worker may be started from a blob.
    workerSrc: ["'self'", 'blob:'],
    childSrc: ["'self'", 'blob:'],
    fontSrc: ["'self'", 'data:'],
    objectSrc: ["'none'"],
    baseUri: ["'self'"],
    formAction: ["'self'"],
    frameAncestors,
  })
  const normal = secureHeaders({ contentSecurityPolicy: csp(["'none'"]), xFrameOptions: 'DENY', crossOriginResourcePolicy: 'same-origin' })
  const wall = secureHeaders({ contentSecurityPolicy: csp(["'self'", ...opts.frameAncestors]), xFrameOptions: false, crossOriginResourcePolicy: 'same-origin' })
  return (c, next) => (c.req.path === '/screen' || c.req.path.startsWith('/screen/') ? wall(c, next) : normal(c, next))
}

/**
 * The headers `securityHeaders` puts on an answer to `path`, for a handler
 * that answers outside Hono (api/tile-fast-path.ts): asked of the middleware
 * itself, so that both always send the same.
 */
export async function securityHeadersOf(middleware: MiddlewareHandler, path: string): Promise<Record<string, string>> {
  const probe = new Hono().use('*', middleware).all('*', (c) => c.body(null, 204))
  return Object.fromEntries((await probe.request(path)).headers)
}
