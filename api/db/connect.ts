import postgres from 'postgres'
import { config } from '../config.ts'
import { startEmbedded, type EmbeddedServer } from './embedded.ts'

export type Sql = postgres.Sql<Record<string, unknown>>

export interface Database {
  sql: Sql
  kind: 'embedded' | 'postgis'
  /** A URL other processes (tests, scripts) can use while this one runs. */
  url: string
  /**
   * Notifications on `channel`. A real server delivers NOTIFY to every
   * connection (and every API process); PGlite behind the socket does not
   * forward them between connections, so there we listen in-process.
   */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>
  close(): Promise<void>
}

const pgOptions = { onnotice: () => {}, max: 8, idle_timeout: 30, connection: { application_name: 'gridwatch' } }

export async function connect(opts: { databaseUrl?: string; dataDir?: string; quiet?: boolean } = {}): Promise<Database> {
  const url = opts.databaseUrl ?? config.databaseUrl
  if (url) {
    const sql = postgres(url, pgOptions) as Sql
    await sql`select 1`.catch((e: Error) => {
      throw new Error(`无法连接数据库 / cannot reach DATABASE_URL (${redact(url)}): ${e.message}`)
    })
    return {
      sql,
      kind: 'postgis',
      url,
      async listen(channel, onPayload) {
        const { unlisten } = await sql.listen(channel, onPayload)
        return unlisten
      },
      close: () => sql.end({ timeout: 5 }),
    }
  }
  const embedded: EmbeddedServer = await startEmbedded(opts.dataDir ?? config.dataDir, { quiet: opts.quiet })
  return fromEmbedded(embedded)
}

export function fromEmbedded(embedded: EmbeddedServer): Database {
  const url = `postgres://postgres@${embedded.host}:${embedded.port}/postgres`
  // pglite-socket serialises queries; a few connections avoid head-of-line waits on the client side only.
  const sql = postgres(url, { ...pgOptions, max: 4 }) as Sql
  return {
    sql,
    kind: 'embedded',
    url,
    async listen(channel, onPayload) {
      return embedded.pglite.listen(channel, onPayload)
    },
    async close() {
      await sql.end({ timeout: 5 })
      await embedded.stop()
    },
  }
}

function redact(url: string) {
  return url.replace(/:\/\/([^:@/]+):[^@]*@/, '://$1:***@')
}
