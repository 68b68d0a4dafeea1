/**
 * A stop that loses nothing: stop taking requests, let the running ones
 * (an export mid-file, a save) finish within a grace period, then cut what
 * is left and only then close the database. Closing PGlite under a running
 * cursor killed the process ('StartTransactionCommand: unexpected state
 * STARTED') and cut the download mid-file.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { errorBody } from '../../core/errors.ts'

type Listener = (req: IncomingMessage, res: ServerResponse) => void

/** Live streams (/api/events) never end by themselves: a stop does not wait for them (clients reconnect elsewhere). */
const isStream = (req: IncomingMessage) => req.url === '/api/events' || req.url?.startsWith('/api/events?')

export class Drain {
  private running = new Set<ServerResponse>()
  private streams = new Set<ServerResponse>()
  private idle: (() => void)[] = []
  stopping = false

  /** Wraps the server's listener: counts requests, and refuses new ones once stopping. */
  wrap(listener: Listener): Listener {
    return (req, res) => {
      if (this.stopping) {
        res.writeHead(503, { 'Content-Type': 'application/json; charset=utf-8', 'Retry-After': '5', Connection: 'close' })
        res.end(JSON.stringify(errorBody('stopping', '服务正在停止，请稍后重试', 'the server is stopping; retry in a moment')))
        return
      }
      const set = isStream(req) ? this.streams : this.running
      set.add(res)
      res.once('close', () => {
        set.delete(res)
        if (this.running.size === 0) for (const r of this.idle.splice(0)) r()
      })
      listener(req, res)
    }
  }

  get inFlight() {
    return this.running.size
  }

  /** Resolves when no request runs, or after `ms` (false then). */
  settle(ms: number): Promise<boolean> {
    if (this.running.size === 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms)
      this.idle.push(() => {
        clearTimeout(timer)
        resolve(true)
      })
    })
  }

  /**
   * Stops `server` taking connections, ends live streams at once, waits up
   * to `graceMs` for running requests, then cuts the rest and gives their
   * handlers a moment to unwind (a cut export cancels its cursor).
   */
  async stop(server: Server, graceMs: number): Promise<{ cut: number }> {
    this.stopping = true
    const closed = new Promise<void>((r) => server.close(() => r()))
    for (const res of this.streams) res.destroy()
    server.closeIdleConnections()
    const finished = await this.settle(graceMs)
    const cut = finished ? 0 : this.running.size
    server.closeAllConnections()
    await this.settle(2000)
    await closed
    return { cut }
  }
}
