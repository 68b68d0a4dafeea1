import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import postgres from 'postgres'

const run = promisify(execFile)
const SCRIPT = path.resolve(import.meta.dirname, '../../scripts/pg-replica.sh')
export const REPLICA_PORT = Number(process.env.TEST_REPLICA_PORT ?? 5433)

export interface Replica {
  /** The same database on the replica as `primaryUrl` names on the primary. */
  urlFor(primaryUrl: string): string
  /** Stops the replica's server (pg_ctlcluster stop -m fast); null when the replica is not this run's to stop. */
  stop: (() => Promise<void>) | null
  /** Starts it again (or rebuilds it) and waits until it streams and has caught up; null as `stop`. */
  start: (() => Promise<void>) | null
}

/**
 * The machine's PostgreSQL 15 (TEST_POSTGIS_URL on 127.0.0.1:5432) with a streaming replica beside it, cluster
 * 15/replica on 127.0.0.1:5433, made once by scripts/pg-replica.sh (pg_createcluster, pg_basebackup -R) and kept
 * (stopped by the suite when done: `stop()`; started again, or rebuilt when too far behind, by the next run). Needs root and Debian's postgresql-common. Null when it cannot be had on a developer's
 * machine (the suite is skipped with a warning); in CI that fails the run.
 *
 * TEST_REPLICA_RUNNING=1: the replica already streaming on TEST_REPLICA_PORT is used as it is, and no cluster
 * command runs (nothing made, rebuilt, stopped or started): a shared machine where the clusters are not the
 * test run's. `stop` and `start` are then null, and what needs them is skipped.
 */
export async function streamingReplica(suite: string): Promise<Replica | null> {
  const admin = process.env.TEST_POSTGIS_URL
  const local = admin && ['127.0.0.1', 'localhost'].includes(new URL(admin).hostname) && new URL(admin).port === '5432'
  const refuse = (why: string) => {
    if (process.env.CI) throw new Error(`${suite}: CI must run it with a streaming replica: ${why}`)
    console.warn(`${suite}: ${why}: skipped`)
    return null
  }
  if (!local) return refuse('TEST_POSTGIS_URL is not the local cluster 15/main on 127.0.0.1:5432')
  const urlFor = (primaryUrl: string) => {
    const u = new URL(primaryUrl)
    u.port = String(REPLICA_PORT)
    return u.toString()
  }
  if (process.env.TEST_REPLICA_RUNNING === '1') {
    const sql = postgres(urlFor(admin), { onnotice: () => {}, max: 1, connect_timeout: 5 })
    const standby = await sql`SELECT pg_is_in_recovery() AS standby`.then(([r]) => r.standby as boolean, () => null)
    await sql.end()
    if (standby === null) return refuse(`TEST_REPLICA_RUNNING: no server answers on 127.0.0.1:${REPLICA_PORT}`)
    if (!standby) return refuse(`TEST_REPLICA_RUNNING: the server on 127.0.0.1:${REPLICA_PORT} is not a standby`)
    return { urlFor, stop: null, start: null }
  }
  if (process.getuid?.() !== 0) return refuse('making a PostgreSQL cluster needs root (pg_createcluster)')
  const up = async () => {
    await run('bash', [SCRIPT, 'up'], { timeout: 180_000 }).catch((e: Error & { stderr?: string; stdout?: string }) => {
      throw new Error(`${suite}: scripts/pg-replica.sh up failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`)
    })
  }
  try {
    await up()
  } catch (e) {
    return refuse((e as Error).message)
  }
  return {
    urlFor,
    stop: async () => void (await run('bash', [SCRIPT, 'down'], { timeout: 60_000 })),
    start: up,
  }
}

/** Waits until the database at `url` answers on the replica (a database created on the primary arrives with the WAL). */
export async function waitForDatabase(url: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const sql = postgres(url, { onnotice: () => {}, max: 1, connect_timeout: 2 })
    const ok = await sql`SELECT 1`.then(() => true, () => false)
    await sql.end()
    if (ok) return
    if (Date.now() > deadline) throw new Error(`${url} did not appear on the replica within ${timeoutMs / 1000} s`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

/** Waits until the replica (`replica`, a pool on it) has replayed what the primary (`primary`) has written now. */
export async function caughtUp(primary: postgres.Sql, replica: postgres.Sql, timeoutMs = 30_000) {
  const [{ lsn }] = await primary`SELECT pg_current_wal_insert_lsn()::text AS lsn`
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const [{ done }] = await replica`SELECT pg_last_wal_replay_lsn() >= ${lsn}::pg_lsn AS done`
    if (done) return
    if (Date.now() > deadline) throw new Error(`the replica did not replay up to ${lsn} within ${timeoutMs / 1000} s`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
