import { EventEmitter } from 'node:events'
import postgres from 'postgres'
import { config } from '../core/config.ts'
import { startEmbedded, type EmbeddedServer } from './embedded.ts'
import { CHANGE_CHANNELS, lookupPool, primaryReads, ReplicaReads, replicaPool, type Reads } from './replica.ts'

import type { Sql } from './sql.ts'

export type { Sql } from './sql.ts'

export interface Database {
  /** The primary: writes, transactions, sessions, LISTEN/NOTIFY, and every read not routed through `reads`. */
  sql: Sql
  /** Heavy reads (tiles, OGC API, exports, analyses, roll-ups): the replica at DATABASE_READ_URL when it has caught up (db/replica.ts), else `sql`. */
  reads: Reads
  kind: 'embedded' | 'postgis'
  /** A URL other processes (tests, scripts) can use while this one runs. */
  url: string
  /** Takes COPY … FROM STDIN: a real server does; PGlite behind the socket loses the protocol on it. */
  copyIn: boolean
  /**
   * Notifications on `channel`. A real server delivers NOTIFY to every
   * connection (and every API process); PGlite behind the socket does not
   * forward them between connections, so there we listen in-process.
   */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>
  close(): Promise<void>
}

const pgOptions = { onnotice: () => {}, max: 8, idle_timeout: 30, connection: { application_name: 'gridwatch' } }

/**
 * `databaseUrl`: a PostGIS URL; undefined → DATABASE_URL; null → embedded
 * whatever the environment says. `readUrl`: a streaming replica of it for
 * heavy reads; undefined → DATABASE_READ_URL; null → none (ignored for the
 * embedded database). `dataDir` (embedded): undefined → the configured
 * folder; null → in memory.
 */
export async function connect(
  opts: { databaseUrl?: string | null; readUrl?: string | null; dataDir?: string | null; quiet?: boolean } = {},
): Promise<Database> {
  const url = opts.databaseUrl === null ? undefined : (opts.databaseUrl ?? config.databaseUrl)
  if (url) {
    const sql = postgres(url, pgOptions) as Sql
    const [{ version }] = await sql`SELECT version()`.catch((e: Error) => {
      throw new Error(`无法连接数据库 / cannot reach DATABASE_URL (${redact(url)}): ${e.message}`)
    })
    // A URL may lead to a PGlite behind pglite-socket (tests, a second
    // process): the same one-connection, relayed-notification pool as the
    // embedded database, so this process hears its own changes.
    if (/PGlite/.test(version)) {
      await sql.end()
      // LISTEN all the same: PGlite only emits notifications for channels someone listens to.
      const relayed = relayedPool(url, async (pool, channel) => (await pool.listen(channel, () => {})).unlisten)
      return { ...relayed, reads: primaryReads(relayed.sql), kind: 'postgis', url, copyIn: false, close: () => relayed.sql.end({ timeout: 5 }) }
    }
    const reads = await readsFor(sql, url, opts.readUrl === null ? undefined : (opts.readUrl ?? config.databaseReadUrl)).catch(async (e: Error) => {
      await sql.end({ timeout: 5 })
      throw e
    })
    return {
      sql,
      reads,
      kind: 'postgis',
      url,
      copyIn: true,
      async listen(channel, onPayload) {
        const { unlisten } = await sql.listen(channel, onPayload)
        return unlisten
      },
      close: async () => {
        await reads.close()
        await sql.end({ timeout: 5 })
      },
    }
  }
  const embedded: EmbeddedServer = await startEmbedded(
    opts.dataDir === null ? undefined : (opts.dataDir ?? config.dataDir),
    { quiet: opts.quiet },
  )
  return fromEmbedded(embedded)
}

export function fromEmbedded(embedded: EmbeddedServer): Database {
  const url = `postgres://postgres@${embedded.host}:${embedded.port}/postgres`
  // LISTEN in the backend too (and hear NOTIFYs from queries run on PGlite directly).
  const { sql, listen } = relayedPool(url, (_pool, channel, onPayload) => embedded.pglite.listen(channel, onPayload))
  return {
    sql,
    reads: primaryReads(sql),
    kind: 'embedded',
    url,
    copyIn: false,
    listen,
    async close() {
      await sql.end({ timeout: 5 })
      await embedded.stop()
    },
  }
}

/**
 * The pool for a PGlite behind pglite-socket. PGlite is one backend: a NOTIFY
 * comes back in the reply to whichever connection committed it, not on a
 * LISTENing one, so the pool passes every notification on (postgres.js's
 * onnotify) to this process's listeners; `listenInBackend` makes the backend
 * send them at all. Writes by other processes are not heard.
 * One connection: pglite-socket interleaves the extended-protocol messages of
 * concurrent connections, so two tiles asked for at once could get each
 * other's rows (seen: a hazards tile holding routes); PGlite runs one query at
 * a time anyway.
 */
function relayedPool(
  url: string,
  listenInBackend: (pool: Sql, channel: string, onPayload: (payload: string) => void) => Promise<() => Promise<void>>,
): Pick<Database, 'sql' | 'listen'> {
  const notifications = new EventEmitter()
  const sql = postgres(url, {
    ...pgOptions,
    max: 1,
    onnotify: (channel: string, payload: string) => notifications.emit(channel, payload),
  } as postgres.Options<Record<string, never>>) as Sql
  return {
    sql,
    async listen(channel, onPayload) {
      notifications.on(channel, onPayload)
      const unlisten = await listenInBackend(sql, channel, onPayload)
      return async () => {
        notifications.off(channel, onPayload)
        await unlisten()
      }
    },
  }
}

/** The read routing for a primary pool and, when given, the URL of its streaming replica. */
async function readsFor(primary: Sql, primaryUrl: string, readUrl: string | undefined): Promise<Reads> {
  if (!readUrl) return primaryReads(primary)
  const lookups = { primary: lookupPool(primaryUrl, pgOptions), replica: lookupPool(readUrl, pgOptions) }
  const reads = await ReplicaReads.create(primary, replicaPool(readUrl, pgOptions), lookups).catch(async (e: Error) => {
    throw new Error(`DATABASE_READ_URL (${redact(readUrl)}): ${e.message}`)
  })
  // Every change notice moves the position a heavy read must see (db/replica.ts); once more when listening
  // begins, for what was committed between the first look and the LISTEN.
  for (const channel of CHANGE_CHANNELS) await primary.listen(channel, () => reads.noteChange())
  reads.noteChange()
  return reads
}

function redact(url: string) {
  return url.replace(/:\/\/([^:@/]+):[^@]*@/, '://$1:***@')
}

/**
 * A pool for the seed, which opens a transaction and queries beside it: on
 * the embedded database that needs more than the one serving connection
 * (run nothing else meanwhile). Call end() on what it returns when done.
 */
export function seedPool(db: Database): { sql: Sql; end(): Promise<void> } {
  if (db.kind !== 'embedded') return { sql: db.sql, end: async () => {} }
  const sql = postgres(db.url, { ...pgOptions, max: 4 }) as Sql
  return { sql, end: () => sql.end({ timeout: 5 }) }
}
