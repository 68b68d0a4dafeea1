import type { IncomingMessage, ServerResponse } from 'node:http'
import { sessionOf } from './auth/middleware.ts'
import { bearerOf } from './auth/token-auth.ts'
import { noteRoute, noteUser } from './edge/access-log.ts'
import type { SessionStore } from './auth/sessions.ts'
import { tileReply } from './routes/tiles.ts'
import { tileLayerByName } from '../tiles/registry.ts'
import type { TileService } from '../tiles/service.ts'
import { parseTilePath } from '../tiles/tile-path.ts'
import { corsHeaders } from './edge/cors.ts'
import { readAfterIn } from './edge/read-your-writes.ts'

type Listener = (req: IncomingMessage, res: ServerResponse) => void

/** The Hono route the fast path stands in for, named so on the access line. */
const TILE_ROUTE = '/tiles/:layer/:z/:x/:file'

/**
 * Serves a logged-in GET of a well-formed tile straight from node:http, in
 * front of Hono: on a cold tile of z12–16 (0.5–0.8 ms of SQL) Hono's
 * Request/Response conversion, routing and middleware were a measurable part
 * of the time (bench/tiles.md compares both paths in one run). It does what the
 * Hono route does for such a request — the same session check
 * (api/auth/middleware.ts) or access token, tile service, cache, ETag/304, gzip negotiation and
 * headers (tileReply, plus the security headers every answer carries) — and
 * hands everything else to Hono unchanged: HEAD and other methods, other
 * paths, query strings, bad coordinates, unknown layers, no session or one
 * that must change its password, and a tile that fails to render, so every
 * error answer and message stays the one place's (api/routes/tiles.ts, api/app.ts).
 */
export function tileFastPath(
  deps: { tiles: TileService; sessions: SessionStore; securityHeaders: Record<string, string>; corsOrigins?: readonly string[] },
  hono: Listener,
): Listener {
  return (req, res) => {
    // Exactly the well-formed tile paths of known layers; anything else is Hono's to answer.
    // (Every request passes here: only tile paths are parsed, an error made for nothing costs a stack trace.)
    const t = req.method === 'GET' && req.url?.startsWith('/tiles/') ? parseTilePath(req.url) : null
    if (!t || t instanceof Error || !tileLayerByName.has(t.layer)) return hono(req, res)
    serve(req, res, t.layer, t).then(
      (served) => served || hono(req, res),
      // Nothing sent yet (the tile failed): Hono makes the error answer, and logs it.
      () => res.headersSent || hono(req, res),
    )
  }

  async function serve(req: IncomingMessage, res: ServerResponse, layer: string, t: { z: number; x: number; y: number }) {
    // The page's session, or a desktop GIS client's access token (api/auth/token-auth.ts); a wrong token is Hono's 401.
    const session = await sessionOf(deps.sessions, req.headers.cookie)
    const bearer = session ? undefined : bearerOf(req.headers.authorization)
    const user = session?.user ?? (bearer ? (await deps.sessions.tokens.lookup(bearer))?.user : undefined)
    if (!user || user.mustChangePassword) return false
    noteUser(req, user)
    noteRoute(req, TILE_ROUTE)
    const tile = await deps.tiles.tile(layer, t, readAfterIn(req.headers.cookie))
    const reply = tileReply(tile, req.headers['if-none-match'], req.headers['accept-encoding'])
    const origin = Array.isArray(req.headers.origin) ? req.headers.origin[0] : req.headers.origin
    const headers: Record<string, string | number> = { ...deps.securityHeaders, ...reply.headers, ...corsHeaders(deps.corsOrigins ?? [], origin) }
    if (reply.body) headers['Content-Length'] = reply.body.length
    res.writeHead(reply.status, headers)
    res.end(reply.body)
    return true
  }
}
