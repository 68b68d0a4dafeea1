/**
 * Where a heavy read (tiles, the OGC API, exports, analyses, roll-ups) runs: on the streaming replica named by
 * DATABASE_READ_URL when that replica has replayed far enough, else on the primary. Writes, transactions,
 * sessions and LISTEN/NOTIFY never come here: they use Database.sql, the primary (a hot standby cannot LISTEN).
 *
 * How far is far enough, in WAL positions (LSNs), so that no read sees the data from before a change it should see:
 * - everything this process has heard a change notice of (gridwatch_tiles, gridwatch_events): on a notice the
 *   primary's WAL insert position is looked up (the notice comes after the commit, so that position is past
 *   it), and a read begun after the notice waits for that answer. This is also what keeps a stale tile out of
 *   the tile cache: a tile re-rendered after an invalidation is rendered from data at least as new as the change.
 * - what the reader wrote, carried by the reader (`after`): the primary's position after their write, which the
 *   API hands back in a cookie (api/edge/read-your-writes.ts), so it holds whichever API process they reach next.
 * The replica's replay position (pg_last_wal_replay_lsn()) is asked only when the last one seen is not enough,
 * and asked again every few ms while reads wait for it, up to MAX_WAIT_MS (the lookup's time included); a read
 * still not served by then runs on the primary. A replica marked down, or a lookup that failed, is not waited for.
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
  /** A change was committed (its notice came): reads begun from now on must see it (on the replica once it has replayed it). */
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

/**
 * How long a read may wait for the replica before it runs on the primary: for the primary's position after the
 * notices it must see (one small query) and for the replica to replay that far. A replica beside its primary
 * replays a commit within milliseconds, but on a storm night a notice comes every ~15 ms, so what a read must
 * see is nearly always a few ms past the replay last seen: falling back at once sent nearly every heavy read to
 * the primary (session 10's peak run: 4–18 reads/s on the replica, 300–435 on the primary). 50 ms covers the
 * lookup and a few commits' flush and replay, and is small beside a tile's or a page's own time; a replica
 * further behind than that is lagging for real, and the primary answers.
 */
export const MAX_WAIT_MS = 50
/** Between two probes of the replica's replay while reads wait for it: one probe at a time for all of them. */
export const PROBE_EVERY_MS = 5
/** After a failed lookup of the primary's position (reads go to the primary meanwhile, without waiting). */
const LOOKUP_RETRY_MS = 1000

/** A read waiting for `until` (a count of notices, or a WAL position) until its deadline. */
interface Waiting<K, T> {
  until: K
  settle(answer: T): void
}

/** Waits in `queue` until someone settles it, or until `deadline` (then with `late`). */
function waitIn<K, T>(queue: Set<Waiting<K, T>>, until: K, deadline: number, late: T): Promise<T> {
  return new Promise((resolve) => {
    const waiting: Waiting<K, T> = {
      until,
      settle(answer) {
        clearTimeout(timer)
        queue.delete(waiting)
        resolve(answer)
      },
    }
    const timer = setTimeout(() => waiting.settle(late), Math.max(0, deadline - Date.now()))
    queue.add(waiting)
  })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * The decision alone: whether a heavy read may run on the replica, from WAL positions and the notices heard.
 *
 * A read must see the notices heard before it began (those heard while it waits are changes concurrent with it,
 * as they would be on the primary; the tile cache drops what they touch after the render anyway), and all of
 * them: a notice names tiles or an event, not every table its change wrote (roll-ups, audit, triggers), so
 * none can be told apart as irrelevant to a read. Notices are counted; each lookup of the primary's position
 * stands for the notices heard when it was sent (the notice comes after its commit, so that position is past
 * it), and a read waits for the first lookup sent after its notices, then for the replica to replay that far.
 */
export class ReadRouting {
  /** Change notices heard, and how many of them `floor` is known to be past. */
  private heard = 0
  private covered = 0
  private lookingUp = false
  /** The last lookup failed: until one answers, a read that needs one goes to the primary without waiting. */
  private lookupFailed = false
  /** Reads waiting for the lookup that covers the notices heard when they began (`until`: that count). */
  private lookupWaiters = new Set<Waiting<number, bigint | null>>()
  /** The replica's replay position as last seen (it only grows); 0 after a failure, so it is asked again. */
  private replayed = 0n
  private downUntil = 0
  /** Reads waiting for the replica to replay up to `until`: one probe at a time answers all of them. */
  private replayWaiters = new Set<Waiting<bigint, boolean>>()
  private polling = false

  /** `floor`: the primary's position when reads begin (what a read must see at least). */
  constructor(private positions: Positions, private floor: bigint) {}

  noteChange(): void {
    // Synchronously: a read begun after the notice waits for a lookup sent after it.
    this.heard++
    if (!this.lookingUp) void this.lookUp()
  }

  private async lookUp() {
    this.lookingUp = true
    try {
      while (this.covered < this.heard) {
        // A lookup sent before a notice came may have run before that commit: it stands only for those heard before it.
        const heard = this.heard
        const lsn = await this.positions.primary()
        if (lsn > this.floor) this.floor = lsn
        this.covered = heard
        this.lookupFailed = false
        for (const w of this.lookupWaiters) if (w.until <= heard) w.settle(this.floor)
      }
    } catch (err) {
      // The primary did not answer: reads go to it (they fail there too) and the lookup is tried again.
      log.warn('读取路由：主库位置查询失败 / read routing: the primary\'s WAL position could not be read', err)
      this.lookupFailed = true
      for (const w of this.lookupWaiters) w.settle(null)
      setTimeout(() => {
        if (!this.lookingUp) void this.lookUp()
      }, LOOKUP_RETRY_MS).unref()
    } finally {
      this.lookingUp = false
    }
  }

  /**
   * Whether a read that must see the notices heard so far, and `after` (the reader's mark), may run on the
   * replica: at once when the replay last seen is far enough, else after waiting at most MAX_WAIT_MS for it.
   */
  async replicaFits(after = 0n): Promise<boolean> {
    if (this.isDown()) return false
    const deadline = Date.now() + MAX_WAIT_MS
    const floor = this.covered >= this.heard ? this.floor
      : this.lookupFailed ? null
      : await waitIn(this.lookupWaiters, this.heard, deadline, null)
    if (floor === null || this.isDown()) return false
    const need = after > floor ? after : floor
    if (this.replayed >= need) return true
    if (Date.now() >= deadline) return false
    const replayed = waitIn(this.replayWaiters, need, deadline, false)
    if (!this.polling) void this.poll()
    return replayed
  }

  private isDown() {
    return Date.now() < this.downUntil
  }

  /** Asks the replica's replay while reads wait for it, settling those it has replayed far enough for. */
  private async poll() {
    this.polling = true
    try {
      while (this.replayWaiters.size > 0) {
        const replayed = await this.probe()
        for (const w of this.replayWaiters) if (replayed === null || replayed >= w.until) w.settle(replayed !== null)
        if (this.replayWaiters.size > 0) await sleep(PROBE_EVERY_MS)
      }
    } finally {
      this.polling = false
    }
  }

  /** The replica's replay position now; null when it cannot say (down, or not a standby any more). */
  private async probe(): Promise<bigint | null> {
    try {
      const lsn = await this.positions.replica()
      if (lsn === null) {
        this.markDown(new Error('not in recovery: promoted, or not a standby'))
        return null
      }
      if (lsn > this.replayed) this.replayed = lsn
      return this.replayed
    } catch (err) {
      this.markDown(err as Error)
      return null
    }
  }

  /** The replica failed (`err`), or cannot be reached: reads go to the primary for DOWN_MS, those waiting too. */
  markDown(err?: Error) {
    if (err && Date.now() >= this.downUntil) {
      log.warn(`只读副本不可用，${DOWN_MS / 1000} 秒内读取走主库 / the read replica failed, reads go to the primary for ${DOWN_MS / 1000} s: ${err.message}`)
    }
    this.downUntil = Date.now() + DOWN_MS
    this.replayed = 0n
    for (const w of this.replayWaiters) w.settle(false)
  }
}

/** The primary's WAL insert position now. */
async function insertLsn(primary: Sql): Promise<bigint> {
  const [{ lsn }] = await primary`SELECT pg_current_wal_insert_lsn()::text AS lsn`
  return parseLsn(lsn as string)!
}

/**
 * The connections the routing asks its WAL positions on, one to each server, apart from the pools: on a storm
 * night every connection of a pool is busy with a tile, a page or the wall's figures, and a lookup sent there
 * waited behind one of them (postgres.js pipelines onto a busy connection) past MAX_WAIT_MS, so the reads it
 * held went to the primary (session 11's peak run: 0–5 reads/s on the replica). One connection each is enough:
 * the routing has one lookup and one probe in flight at a time.
 */
export interface Lookups {
  primary: Sql
  replica: Sql
}

export class ReplicaReads implements Reads {
  readonly replicated = true
  private routing: ReadRouting

  private constructor(private primary: Sql, readonly replica: Sql, private lookups: Lookups, floor: bigint) {
    this.routing = new ReadRouting({
      primary: () => insertLsn(lookups.primary),
      replica: async () => {
        const [row] = await lookups.replica`SELECT pg_last_wal_replay_lsn()::text AS lsn`
        return parseLsn(row.lsn as string | null)
      },
    }, floor)
  }

  /**
   * `replica` is the pool on DATABASE_READ_URL; `lookups`, the routing's own connections (lookupPool()), ended
   * with it. Refuses a server that is not a standby.
   */
  static async create(primary: Sql, replica: Sql, lookups: Lookups): Promise<ReplicaReads> {
    const floor = await insertLsn(lookups.primary).catch(async (e: Error) => {
      await Promise.all([replica.end({ timeout: 5 }), lookups.primary.end({ timeout: 5 }), lookups.replica.end({ timeout: 5 })])
      throw e
    })
    const reads = new ReplicaReads(primary, replica, lookups, floor)
    const answer = await replica`SELECT pg_is_in_recovery() AS standby`.catch((e: Error) => e)
    if (answer instanceof Error) {
      log.warn(`只读副本无法连接，读取暂走主库 / the read replica cannot be reached, reads go to the primary for now: ${answer.message}`)
      reads.routing.markDown()
    } else if (!answer[0].standby) {
      await reads.close()
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

  async close() {
    await Promise.all([this.replica.end({ timeout: 5 }), this.lookups.primary.end({ timeout: 5 }), this.lookups.replica.end({ timeout: 5 })])
  }
}

/** The pool on DATABASE_READ_URL: as the primary's, with a short connect timeout (a replica away must not hold a read 30 s). */
export function replicaPool(url: string, options: postgres.Options<Record<string, never>>): Sql {
  return postgres(url, { ...options, connect_timeout: 5, connection: { application_name: 'gridwatch-read' } }) as unknown as Sql
}

/**
 * One connection for the routing's position lookups on `url` (Lookups). Kept open while idle: opening one on a
 * busy machine takes a good part of MAX_WAIT_MS. A short connect timeout, as the replica's pool.
 */
export function lookupPool(url: string, options: postgres.Options<Record<string, never>>): Sql {
  return postgres(url, {
    ...options, max: 1, idle_timeout: 0, connect_timeout: 5, connection: { application_name: 'gridwatch-wal-position' },
  }) as unknown as Sql
}
