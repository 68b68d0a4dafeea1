import type { IncomingMessage, ServerResponse } from 'node:http'
import { sessionOf } from './auth/middleware.ts'
import type { SessionStore } from './auth/sessions.ts'
import { tileReply } from './routes/tiles.ts'
import { tileLayerByName } from '../tiles/registry.ts'
import type { TileService } from '../tiles/service.ts'
import { isValidTile } from '../tiles/tile-math.ts'

type Listener = (req: IncomingMessage, res: ServerResponse) => void

/** Exactly the well-formed tile paths; anything else is Hono's to answer. */
const TILE_PATH = /^\/tiles\/([a-z_]+)\/(0|[1-9][0-9]{0,7})\/(0|[1-9][0-9]{0,7})\/(0|[1-9][0-9]{0,7})\.mvt$/

/**
 * Serves a logged-in GET of a well-formed tile straight from node:http, in
 * front of Hono: on a cold tile of z12–16 (0.5–0.8 ms of SQL) Hono's
 * Request/Response conversion, routing and middleware were a measurable part
 * of the time (bench/tiles.md compares both paths in one run). It does what the
 * Hono route does for such a request — the same session check
 * (api/auth/middleware.ts), tile service, cache, ETag/304, gzip negotiation and
 * headers (tileReply, plus the security headers every answer carries) — and
 * hands everything else to Hono unchanged: HEAD and other methods, other
 * paths, query strings, bad coordinates, unknown layers, no session or one
 * that must change its password, and a tile that fails to render, so every
 * error answer and message stays the one place's (api/routes/tiles.ts, api/app.ts).
 */
export function tileFastPath(
  deps: { tiles: TileService; sessions: SessionStore; securityHeaders: Record<string, string> },
  hono: Listener,
): Listener {
  return (req, res) => {
    const m = req.method === 'GET' && req.url ? TILE_PATH.exec(req.url) : null
    if (!m || !tileLayerByName.has(m[1])) return hono(req, res)
    const t = { z: Number(m[2]), x: Number(m[3]), y: Number(m[4]) }
    if (!isValidTile(t)) return hono(req, res)
    serve(req, res, m[1], t).then(
      (served) => served || hono(req, res),
      // Nothing sent yet (the tile failed): Hono makes the error answer, and logs it.
      () => res.headersSent || hono(req, res),
    )
  }

  async function serve(req: IncomingMessage, res: ServerResponse, layer: string, t: { z: number; x: number; y: number }) {
    const session = await sessionOf(deps.sessions, req.headers.cookie)
    if (!session || session.user.mustChangePassword) return false
    const tile = await deps.tiles.tile(layer, t)
    const reply = tileReply(tile, req.headers['if-none-match'], req.headers['accept-encoding'])
    const headers: Record<string, string | number> = { ...deps.securityHeaders, ...reply.headers }
    if (reply.body) headers['Content-Length'] = reply.body.length
    res.writeHead(reply.status, headers)
    res.end(reply.body)
    return true
  }
}
