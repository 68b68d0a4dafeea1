import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import { getCookie } from 'hono/cookie'
import { requireUser } from '../auth/guard.ts'
import { SESSION_COOKIE, type SessionStore } from '../auth/sessions.ts'
import { HttpError } from '../../core/errors.ts'
import { concerns, type EventHub } from '../events/hub.ts'
import type { LiveEvent } from '../events/publish.ts'

/**
 * An event's data as sent, made once for every stream that sends it (the hub hands each stream the same object):
 * a storm night's event went out to hundreds of walls, each stringifying it again.
 */
const wire = new WeakMap<LiveEvent, string>()
function dataOf(e: LiveEvent): string {
  let d = wire.get(e)
  if (d === undefined) {
    d = JSON.stringify({ at: e.at, unitCode: e.unitCode, ...e.payload })
    wire.set(e, d)
  }
  return d
}

/** Seconds between keep-alive comments: proxies drop idle streams, and a dead client shows up as a failed write. */
const HEARTBEAT_MS = 15_000

/**
 * GET /api/events: Server-Sent Events of everything that happens inside the
 * reader's area. `Last-Event-ID` (or `?after=`) resends what was missed; a gap
 * too old to resend gets a `reset` event, telling the client to reload.
 */
export function eventRoutes(hub: EventHub, sessions: SessionStore) {
  const app = new Hono()
  app.get('/api/events', (c) => {
    const user = requireUser(c)
    const raw = c.req.header('Last-Event-ID') ?? c.req.query('after')
    if (raw !== undefined && !/^(0|[1-9][0-9]{0,15})$/.test(raw)) {
      throw new HttpError(400, 'bad_event_id', `Last-Event-ID 须为非负整数，收到 "${raw}"`, `Last-Event-ID must be a whole number ≥ 0, got "${raw}"`)
    }
    const token = getCookie(c, SESSION_COOKIE)!
    c.header('X-Accel-Buffering', 'no')
    return streamSSE(c, async (stream) => {
      let sent = raw === undefined ? hub.latestId : Number(raw)
      const queue: LiveEvent[] = []
      let wake: (() => void) | undefined
      // Subscribe before reading the past, so nothing falls between the two.
      const off = hub.subscribe((e) => {
        if (!concerns(user.unitCode, e.unitCode)) return
        queue.push(e)
        wake?.()
      })
      let closed = false
      stream.onAbort(() => {
        closed = true
        wake?.()
      })
      const send = (e: LiveEvent) =>
        stream.writeSSE({ id: String(e.id), event: e.kind, data: dataOf(e) })
      try {
        await stream.writeSSE({ event: 'hello', data: JSON.stringify({ latestId: hub.latestId }), retry: 2000 })
        if (raw !== undefined && sent < hub.latestId) {
          const past = await hub.since(sent, user.unitCode)
          if (past.truncated) {
            await stream.writeSSE({ event: 'reset', data: JSON.stringify({ latestId: hub.latestId }) })
            sent = hub.latestId
          } else {
            for (const e of past.events) await send(e)
            sent = Math.max(sent, ...past.events.map((e) => e.id))
          }
        }
        let lastBeat = Date.now()
        while (!closed) {
          while (queue.length) {
            const e = queue.shift()!
            if (e.id <= sent) continue
            await send(e)
            sent = e.id
          }
          if (Date.now() - lastBeat >= HEARTBEAT_MS) {
            // A session ended (logout, disabled account) ends its stream too.
            if (!(await sessions.lookup(token))) break
            await stream.write(': keep-alive\n\n')
            lastBeat = Date.now()
          }
          if (queue.length || closed) continue
          let timer: NodeJS.Timeout | undefined
          await new Promise<void>((r) => {
            wake = r
            timer = setTimeout(r, HEARTBEAT_MS)
          })
          clearTimeout(timer)
          wake = undefined
        }
      } finally {
        off()
      }
    })
  })
  return app
}
