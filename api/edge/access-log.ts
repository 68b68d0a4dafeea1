/**
 * A request id for every request, sent back as X-Request-Id and carried by every log line written
 * while the request runs, and one access line when its answer is over: method, path, the route that
 * answered, status, milliseconds, the user (id and username: never a password, cookie or token) and
 * the client's address. It wraps the node:http listener, so the tile fast path, the starting page
 * and the drain's 503 are counted as well as what Hono answers.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Context } from 'hono'
import { matchedRoutes } from 'hono/route'
import { logAccess, withLogFields } from '../../core/log.ts'
import { normaliseAddress, peerIsTrustedProxy, type TrustProxy } from '../proxy.ts'

type Listener = (req: IncomingMessage, res: ServerResponse) => void

/** What the app learns about a request while answering it, for its access line. */
interface RequestNote {
  route?: string
  user?: { id: number; username: string }
  ip?: string
}

/** Keyed by the request: Hono reaches it as c.env.incoming, the tile fast path has it. */
const notes = new WeakMap<IncomingMessage, RequestNote>()

/** nginx's $request_id is 32 hex digits; anything that is not a short token of safe characters is replaced. */
const SAFE_ID = /^[A-Za-z0-9._-]{8,64}$/

/** Our proxy's X-Request-Id when a trusted proxy sent a safe one (its log and ours then name the same id), else a new one. */
export function requestIdOf(req: IncomingMessage, trust: TrustProxy): string {
  const sent = req.headers['x-request-id']
  const peer = req.socket.remoteAddress ? normaliseAddress(req.socket.remoteAddress) : null
  if (typeof sent === 'string' && SAFE_ID.test(sent) && peerIsTrustedProxy(trust, peer)) return sent
  return randomUUID()
}

export function accessLog(opts: { trust: TrustProxy; log: boolean }, listener: Listener): Listener {
  return (req, res) => {
    const started = performance.now()
    const reqId = requestIdOf(req, opts.trust)
    res.setHeader('X-Request-Id', reqId)
    const note: RequestNote = {}
    notes.set(req, note)
    if (opts.log) {
      res.once('close', () =>
        withLogFields({ reqId }, () =>
          logAccess({
            method: req.method ?? '?',
            // The path alone: a query string may carry what a log should not keep (a search, a signed link).
            path: (req.url ?? '').split('?')[0].slice(0, 300),
            ...(note.route ? { route: note.route } : {}),
            status: res.statusCode,
            ms: Math.round((performance.now() - started) * 10) / 10,
            ...(note.user ? { user: note.user } : {}),
            ip: note.ip ?? (req.socket.remoteAddress ? normaliseAddress(req.socket.remoteAddress) : undefined),
            ...(res.writableFinished ? {} : { aborted: true }),
          }),
        ),
      )
    }
    withLogFields({ reqId }, () => listener(req, res))
  }
}

/** The user on the access line: who they are, nothing they could log in with. */
export function noteUser(req: IncomingMessage, user: { id: number; username: string } | undefined) {
  const note = notes.get(req)
  if (note && user) note.user = { id: user.id, username: user.username }
}

export function noteRoute(req: IncomingMessage, route: string) {
  const note = notes.get(req)
  if (note) note.route = route
}

/**
 * Hono's part, after the app answered: the route pattern of the endpoint that matched (a GET or POST
 * route, not a middleware's `/api/*`; that one when nothing more specific did, as for a 404), the
 * user the session (or the login) put on the context, and the client's address as the edge worked it out.
 */
export function noteAnswer(c: Context) {
  const req = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming
  const note = req && notes.get(req)
  if (!note) return
  const matched = matchedRoutes(c)
  note.route = (matched.find((r) => r.method !== 'ALL') ?? matched[c.req.routeIndex])?.path
  if (req) noteUser(req, c.get('user'))
  note.ip = c.get('clientAddress')
}
