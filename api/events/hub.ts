import type { Database } from '../../db/connect.ts'
import { inScope } from '../../core/units.ts'
import type { LiveEvent } from './publish.ts'

type Listener = (e: LiveEvent) => void

/** Whether someone whose area is `scope` should see an event at `unitCode`: one lies inside the other. */
export const concerns = (scope: string, unitCode: string) => inScope(scope, unitCode) || inScope(unitCode, scope)

/** Most events a reconnecting client is sent from the past in one go; older gaps mean "reload". */
export const REPLAY_LIMIT = 5000

/**
 * The live feed of one API process. A NOTIFY only says "something new": the
 * rows are read from live_events past the last id sent, so several processes
 * each send everything, in order, whoever wrote it. A slow poll covers a
 * notification lost while the listening connection was being re-made.
 */
export class EventHub {
  private listeners = new Set<Listener>()
  private lastId = 0
  private reading: Promise<void> = Promise.resolve()
  private again = false
  private unlisten?: () => Promise<void>
  private timer?: NodeJS.Timeout

  private constructor(private db: Database) {}

  static async create(db: Database, pollMs = 3000): Promise<EventHub> {
    const hub = new EventHub(db)
    const [{ max }] = await db.sql<{ max: string | null }[]>`SELECT max(id) AS max FROM live_events`
    hub.lastId = Number(max ?? 0)
    hub.unlisten = await db.listen('gridwatch_events', () => hub.readNew())
    hub.timer = setInterval(() => hub.readNew(), pollMs)
    hub.timer.unref()
    return hub
  }

  get latestId() {
    return this.lastId
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  /** Events after `afterId` that `scope` may see, oldest first (for Last-Event-ID). */
  async since(afterId: number, scope: string): Promise<{ events: LiveEvent[]; truncated: boolean }> {
    const rows = await this.db.sql<LiveEvent[]>`
      SELECT id::int8::float8 AS id, at, kind, unit_code AS "unitCode", payload FROM live_events
      WHERE id > ${afterId} AND id <= ${this.lastId} ORDER BY id LIMIT ${REPLAY_LIMIT + 1}`
    const truncated = rows.length > REPLAY_LIMIT
    return { events: rows.slice(0, REPLAY_LIMIT).filter((e) => concerns(scope, e.unitCode)), truncated }
  }

  /** Reads what is new; calls made while a read runs fold into one more read after it. */
  readNew(): Promise<void> {
    if (this.again) return this.reading
    this.again = true
    this.reading = this.reading.then(async () => {
      this.again = false
      for (;;) {
        const rows = await this.db.sql<LiveEvent[]>`
          SELECT id::int8::float8 AS id, at, kind, unit_code AS "unitCode", payload FROM live_events
          WHERE id > ${this.lastId} ORDER BY id LIMIT 1000`.catch(() => [] as LiveEvent[])
        for (const e of rows) {
          this.lastId = e.id
          for (const fn of this.listeners) fn(e)
        }
        if (rows.length < 1000) break
      }
    })
    return this.reading
  }

  async close() {
    clearInterval(this.timer)
    await this.unlisten?.().catch(() => {})
    this.listeners.clear()
  }
}
