/**
 * Where a heavy read (tiles, the OGC API, exports, analyses, roll-ups) runs: on the streaming replica named by
 * DATABASE_READ_URL when that replica has replayed far enough, else on the primary. Writes, transactions,
 * sessions and LISTEN/NOTIFY never come here: they use Database.sql, the primary (a hot standby cannot LISTEN).
 *
 * How far is far enough, in WAL positions (LSNs), so that no read sees the data from before a change it should see:
 * - everything this process has heard a change notice of (gridwatch_tiles, gridwatch_events): on a notice the
 *   primary's WAL insert position is looked up (the notice comes after the commit, so that position is past
 *   it), and until it is known reads go to the primary. This is also what keeps a stale tile out of the tile
 *   cache: a tile re-rendered after an invalidation is rendered from data at least as new as the change.
 * - what the reader wrote, carried by the reader (`after`): the primary's position after their write, which the
 *   API hands back in a cookie (api/edge/read-your-writes.ts), so it holds whichever API process they reach next.
 * The replica's replay position (pg_last_wal_replay_lsn()) is asked only when the last one seen is not enough.
 * A replica that cannot be reached, or is not a standby, sends reads to the primary for 5 s, then is tried again;
 * a read that fails on the replica for such a reason, or is cancelled by a conflict with recovery, runs again
 * on the primary. Only a read already streaming from the replica (an export's cursor) fails with it.
 */
import postgres from 'postgres'
import { log } from '../core/log.ts'
import type { Sql } from './sql.ts'

export interface Reads {
  /** Whether a replica is configured (else every read is the primary's and no mark is needed). */
  readonly replicated: boolean
  /** The pool for a read that must see what this process has heard of, and `after` (an LSN) too. */
  pick(after?: bigint): Promise<Sql>
  /** Runs `read` where pick() says; a read the replica fails (gone, recovery conflict) runs again on the primary. */
  run<T>(after: bigint | undefined, read: (sql: Sql) => Promise<T>): Promise<T>
  /** The primary's WAL insert position now: a reader's mark after a write (0 without a replica). */
  primaryLsn(): Promise<bigint>
  /** A change was committed (its notice came): reads wait for the replica to replay it, on the primary meanwhile. */
  noteChange(): void
  /** How far the replica is behind the primary, for an operator (/api/ready); null without a replica. */
  lag(): Promise<ReplicaLag | null>
  close(): Promise<void>
}

/**
 * The replica as /api/ready reports it. `lagBytes`: WAL the primary has written that the replica has not replayed;
 * `lagSeconds`: how old the last transaction it replayed is while it is behind, 0 when it has replayed everything
 * (an idle primary writes nothing, so the age of the last replayed transaction alone would read as lag);
 * `replayedAt`: that transaction's commit time. `paused`: replay paused by pg_wal_replay_pause();
 * `unreachable`: no answer within 2 s, or an error; `not_standby`: it answers but is not in recovery any more.
 */
export interface ReplicaLag {
  state: 'streaming' | 'paused' | 'unreachable' | 'not_standby'
  lagBytes: number | null
  lagSeconds: number | null
  replayedAt: string | null
}

/** How long the lag query may take before the replica counts as unreachable. */
const LAG_TIMEOUT_MS = 2000

/** The replica's lag from the primary's WAL position (`primary`, text) and the replica's own view of its replay. */
export function lagOf(primary: string, replica: { replay: string | null; at: Date | null; now: Date; paused: boolean }): ReplicaLag {
  const p = parseLsn(primary)
  const r = parseLsn(replica.replay)
  if (p === null || r === null) return { state: 'not_standby', lagBytes: null, lagSeconds: null, replayedAt: null }
  const bytes = p > r ? Number(p - r) : 0
  const age = replica.at ? Math.max(0, (replica.now.getTime() - replica.at.getTime()) / 1000) : null
  return {
    state: replica.paused ? 'paused' : 'streaming',
    lagBytes: bytes,
    lagSeconds: bytes === 0 ? 0 : age,
    replayedAt: replica.at ? replica.at.toISOString() : null,
  }
}

/** The channels whose notices mean data changed (api/events, tiles). */
export const CHANGE_CHANNELS = ['gridwatch_tiles', 'gridwatch_events'] as const

const LSN = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i

/** A WAL position as PostgreSQL writes it ('16/B374D848') → a number that compares; null when malformed. */
export function parseLsn(text: string | null | undefined): bigint | null {
  const m = text ? LSN.exec(text) : null
  return m ? (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`) : null
}

export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`
}

/** No replica: every read on the primary. */
export function primaryReads(primary: Sql): Reads {
  return {
    replicated: false,
    pick: async () => primary,
    run: (_after, read) => read(primary),
    primaryLsn: async () => 0n,
    noteChange: () => {},
    lag: async () => null,
    close: async () => {},
  }
}

/** Errors that say the replica, not the query, is the trouble: the read can run on the primary instead. */
const REPLICA_TROUBLE = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND',
  'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT',
  '57P01', '57P02', '57P03', // admin shutdown, crash shutdown, cannot connect now (starting, stopping)
])
/** serialization_failure on a standby: "canceling statement due to conflict with recovery". The replica is fine. */
const RECOVERY_CONFLICT = '40001'

const DOWN_MS = 5000

/** The two WAL positions the routing asks for; functions, so that it is tested without servers. */
export interface Positions {
  /** The primary's WAL insert position now. */
  primary(): Promise<bigint>
  /** The replica's replay position now; null when it is not replaying (promoted). Throws when it cannot be reached. */
  replica(): Promise<bigint | null>
}

/** The decision alone: whether a heavy read may run on the replica, from WAL positions and the notices heard. */
export class ReadRouting {
  /** Change notices whose position is not yet known: reads go to the primary meanwhile. */
  private unsure = false
  private notices = 0
  private lookingUp = false
  /** The replica's replay position as last seen (it only grows); 0 after a failure, so it is asked again. */
  private replayed = 0n
  private downUntil = 0
  private probing: Promise<bigint | null> | null = null

  /** `floor`: the primary's position when reads begin (what a read must see at least). */
  constructor(private positions: Positions, private floor: bigint) {}

  noteChange(): void {
    // Synchronously: a read started after the notice goes to the primary until the position is known.
    this.unsure = true
    this.notices++
    if (!this.lookingUp) void this.lookUp()
  }

  private async lookUp() {
    this.lookingUp = true
    try {
      while (this.notices > 0) {
        // A lookup sent before a notice came may have run before that commit: one more after it.
        this.notices = 0
        const lsn = await this.positions.primary()
        if (lsn > this.floor) this.floor = lsn
      }
      this.unsure = false
    } catch (err) {
      // The primary did not answer: reads stay on it (they fail there too) and the lookup is tried again.
      log.warn('读取路由：主库位置查询失败 / read routing: the primary\'s WAL position could not be read', err)
      this.notices++
      setTimeout(() => void this.lookUp(), 1000).unref()
    } finally {
      this.lookingUp = false
    }
  }

  /** Whether a read that must see the notices heard so far, and `after`, may run on the replica now. */
  async replicaFits(after = 0n): Promise<boolean> {
    if (this.unsure || Date.now() < this.downUntil) return false
    const need = after > this.floor ? after : this.floor
    if (this.replayed >= need) return true
    const replayed = await this.probe()
    return replayed !== null && replayed >= need
  }

  /** The replica's replay position now; null when it cannot say (down, or not a standby any more). */
  private probe(): Promise<bigint | null> {
    this.probing ??= this.positions.replica()
      .then((lsn) => {
        if (lsn === null) {
          this.markDown(new Error('not in recovery: promoted, or not a standby'))
          return null
        }
        if (lsn > this.replayed) this.replayed = lsn
        return this.replayed
      }, (err: Error) => {
        this.markDown(err)
        return null
      })
      .finally(() => (this.probing = null))
    return this.probing
  }

  /** The replica failed (`err`), or cannot be reached: reads go to the primary for DOWN_MS. */
  markDown(err?: Error) {
    if (err && Date.now() >= this.downUntil) {
      log.warn(`只读副本不可用，${DOWN_MS / 1000} 秒内读取走主库 / the read replica failed, reads go to the primary for ${DOWN_MS / 1000} s: ${err.message}`)
    }
    this.downUntil = Date.now() + DOWN_MS
    this.replayed = 0n
  }
}

/** The primary's WAL insert position now. */
async function insertLsn(primary: Sql): Promise<bigint> {
  const [{ lsn }] = await primary`SELECT pg_current_wal_insert_lsn()::text AS lsn`
  return parseLsn(lsn as string)!
}

export class ReplicaReads implements Reads {
  readonly replicated = true
  private routing: ReadRouting

  private constructor(private primary: Sql, readonly replica: Sql, floor: bigint) {
    this.routing = new ReadRouting({
      primary: () => insertLsn(primary),
      replica: async () => {
        const [row] = await replica`SELECT pg_last_wal_replay_lsn()::text AS lsn`
        return parseLsn(row.lsn as string | null)
      },
    }, floor)
  }

  /** `replica` is the pool on DATABASE_READ_URL; refuses a server that is not a standby. */
  static async create(primary: Sql, replica: Sql): Promise<ReplicaReads> {
    const reads = new ReplicaReads(primary, replica, await insertLsn(primary))
    const answer = await replica`SELECT pg_is_in_recovery() AS standby`.catch((e: Error) => e)
    if (answer instanceof Error) {
      log.warn(`只读副本无法连接，读取暂走主库 / the read replica cannot be reached, reads go to the primary for now: ${answer.message}`)
      reads.routing.markDown()
    } else if (!answer[0].standby) {
      await replica.end({ timeout: 5 })
      throw new Error('DATABASE_READ_URL 不是流复制备库 / DATABASE_READ_URL is not a streaming standby (pg_is_in_recovery() is false)')
    }
    return reads
  }

  primaryLsn(): Promise<bigint> {
    return insertLsn(this.primary)
  }

  noteChange(): void {
    this.routing.noteChange()
  }

  async pick(after = 0n): Promise<Sql> {
    return (await this.routing.replicaFits(after)) ? this.replica : this.primary
  }

  async run<T>(after: bigint | undefined, read: (sql: Sql) => Promise<T>): Promise<T> {
    const sql = await this.pick(after)
    if (sql === this.primary) return read(sql)
    try {
      return await read(sql)
    } catch (err) {
      const code = (err as { code?: string }).code ?? ''
      if (code === RECOVERY_CONFLICT) return read(this.primary)
      if (!REPLICA_TROUBLE.has(code)) throw err
      this.routing.markDown(err as Error)
      return read(this.primary)
    }
  }

  async lag(): Promise<ReplicaLag> {
    const unreachable: ReplicaLag = { state: 'unreachable', lagBytes: null, lagSeconds: null, replayedAt: null }
    const timeout = new Promise<ReplicaLag>((r) => setTimeout(() => r(unreachable), LAG_TIMEOUT_MS).unref())
    // The replica first: a primary position read after it can only be further on, never make a lag look smaller.
    const ask = this.replica`
      SELECT pg_last_wal_replay_lsn()::text AS replay, pg_last_xact_replay_timestamp() AS at, now() AS now,
             CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END AS paused`
      .then(async ([r]) => {
        // The insert position, as a reader's mark after a write (primaryLsn): WAL still in the primary's buffers counts.
        const [p] = await this.primary`SELECT pg_current_wal_insert_lsn()::text AS lsn`
        return lagOf(p.lsn as string, r as unknown as { replay: string | null; at: Date | null; now: Date; paused: boolean })
      }, () => unreachable)
    return Promise.race([ask, timeout])
  }

  close() {
    return this.replica.end({ timeout: 5 })
  }
}

/** The pool on DATABASE_READ_URL: as the primary's, with a short connect timeout (a replica away must not hold a read 30 s). */
export function replicaPool(url: string, options: postgres.Options<Record<string, never>>): Sql {
  return postgres(url, { ...options, connect_timeout: 5, connection: { application_name: 'gridwatch-read' } }) as unknown as Sql
}
