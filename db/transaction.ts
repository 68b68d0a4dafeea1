import postgres from 'postgres'
import type { Sql } from './sql.ts'

type Types = Record<string, unknown>

/** A transaction, or a savepoint in one: postgres.js's query functions on one connection held for it alone. */
export interface Tx extends postgres.ISql<Types> {
  /** `work` in a savepoint: if it throws, what it did is undone and the error thrown on; the transaction goes on. */
  savepoint<T>(work: (sp: Tx) => T | Promise<T>): Promise<Awaited<T>>
  savepoint<T>(name: string, work: (sp: Tx) => T | Promise<T>): Promise<Awaited<T>>
}

export interface TransactionOptions {
  readOnly?: boolean
  isolation?: 'read committed' | 'repeatable read' | 'serializable'
}

const isolations = new Set<string>(['read committed', 'repeatable read', 'serializable'])

/**
 * `work` in one transaction: COMMIT when it returns (its result is returned), ROLLBACK when it throws (the error is
 * thrown on). Instead of postgres.js's sql.begin, which in 3.4.9 can send BEGIN to a connection busy with other
 * queries without reserving it (the hook that reserves it sits behind the pipeline-is-full test in
 * connection.execute(); porsager/postgres#823, fix #1218 unreleased): the BEGIN then fails with UNSAFE_TRANSACTION
 * (a TypeError in a one-connection pool) while the server has begun a transaction on that connection, and the
 * pool's next queries run inside a transaction nobody commits. Here the connection is taken whole first
 * (sql.reserve() waits for an idle one), so nothing else is pipelined behind or into the transaction.
 *
 * The connection goes back to the pool only when the server says it is out of the transaction (ReadyForQuery
 * "idle" after the COMMIT or ROLLBACK). One that closed under the transaction is left to the pool as closed (it
 * reconnects when next needed; the server ended the transaction with the session) and nothing more is sent on it:
 * postgres.js 3.4.9 would write to the dead socket (an uncaught TypeError). One still open that did not say "idle"
 * (its ROLLBACK failed) is closed, never reused.
 *
 * As with sql.begin: a statement of `work` that failed fails the transaction even if `work` caught its error (a
 * savepoint is the way to go on after one), and so does one `work` did not await.
 */
export async function transaction<T>(sql: Sql, work: (tx: Tx) => T | Promise<T>, opts: TransactionOptions = {}): Promise<Awaited<T>> {
  const begin = beginStatement(opts)
  const t: Held = { sql: await sql.reserve(), conn: null, mine: null, hook: null, closed: null, over: false, savepoints: 0 }
  try {
    await open(t, begin)
  } catch (e) {
    settle(t, e)
    throw e
  }
  try {
    return await scope(t, work, null)
  } finally {
    settle(t, null)
  }
}

/**
 * What this module uses of postgres.js's connection object (src/connection.js, 3.4.9; tests/db/transaction.test.ts
 * holds it to that): `reserved`, set while it is reserved and cleared when it goes back to the pool or closes, with
 * `release` false asking it to go back by itself at the server's next "idle"; `onclose`, called once when it
 * closes; `terminate()`.
 */
interface Connection {
  reserved: (((...a: unknown[]) => unknown) & { release?: boolean }) | null
  onclose: ((e: Error) => void) | null
  terminate(): void
}

interface Held {
  sql: postgres.ReservedSql<Types>
  conn: Connection | null
  /** reserve()'s `reserved` function: while the connection holds it, it is ours. */
  mine: Connection['reserved']
  hook: Connection['onclose']
  /** Why the connection closed under the transaction. */
  closed: Error | null
  /** The COMMIT or ROLLBACK is sent: the transaction takes no more statements. */
  over: boolean
  savepoints: number
}

/** A query of postgres.js (src/query.js): it calls `handler(query)` when first awaited or executed. */
interface RunningQuery extends Promise<unknown> {
  handler: ((q: RunningQuery) => void) & { debug?: unknown }
  reject(e: unknown): void
}

function beginStatement(opts: TransactionOptions): string {
  const modes: string[] = []
  if (opts.isolation !== undefined) {
    if (!isolations.has(opts.isolation)) throw new Error(`transaction: unknown isolation level ${JSON.stringify(opts.isolation)}`)
    modes.push(`ISOLATION LEVEL ${opts.isolation.toUpperCase()}`)
  }
  if (opts.readOnly) modes.push('READ ONLY')
  return modes.length ? `BEGIN ${modes.join(', ')}` : 'BEGIN'
}

async function open(t: Held, begin: string) {
  const see = (c: Connection) => {
    if (!t.conn && c.reserved) {
      t.conn = c
      t.mine = c.reserved
      // Back to the pool by itself at the server's "idle" (after the COMMIT or ROLLBACK), as sql.begin's is.
      t.mine.release = false
      t.hook = (e) => {
        t.closed = e
      }
      c.onclose = t.hook
    }
    return true // to postgres.js: the connection may take more queries at once
  }
  const seeing = { onexecute: see } as unknown as postgres.UnsafeQueryOptions
  await t.sql.unsafe(begin, [], seeing)
  // The hook is skipped when the BEGIN was written behind a full pipeline or socket buffer (reserve() took the
  // connection as it finished the pool's last queries); it is idle now, so the next statement is seen.
  if (!t.conn) await t.sql.unsafe('SELECT 1', [], seeing)
  if (!t.conn) {
    await t.sql.unsafe('ROLLBACK')
    t.sql.release()
    throw new Error('transaction: postgres.js did not show the connection it reserved (an upgrade past 3.4.9?)')
  }
}

/** Why a statement may not be sent now, if it may not. `last`: the COMMIT or ROLLBACK itself. */
function refusal(t: Held, last = false): Error | null {
  if (t.closed) return t.closed
  if (t.over && !last) return new Error('transaction: a statement after its COMMIT or ROLLBACK')
  // A COMMIT or ROLLBACK of work's own has handed the connection back (postgres.js does at the server's "idle").
  if (t.conn!.reserved !== t.mine) return new Error('transaction: ended inside (a COMMIT or ROLLBACK of its own?)')
  return null
}

/** This module's own statements (SAVEPOINT, COMMIT…), under the same rule as work's. */
async function control(t: Held, statement: string, last = false) {
  const no = refusal(t, last)
  if (no) throw no
  return t.sql.unsafe(statement)
}

type Scope = { failed: unknown; hasFailed: boolean }

async function scope<T>(t: Held, work: (tx: Tx) => T | Promise<T>, savepoint: string | null): Promise<Awaited<T>> {
  const s: Scope = { failed: undefined, hasFailed: false }
  const tx = bind(t, s)
  if (savepoint) await control(t, `SAVEPOINT ${savepoint}`)
  let result: Awaited<T>
  try {
    result = await work(tx)
    if (s.hasFailed) throw s.failed
  } catch (e) {
    if (savepoint) await control(t, `ROLLBACK TO SAVEPOINT ${savepoint}`)
    else await rollback(t)
    // "current transaction is aborted": the statement that aborted it says more.
    throw e instanceof postgres.PostgresError && e.code === '25P02' && s.hasFailed ? s.failed : e
  }
  if (savepoint) await control(t, `RELEASE SAVEPOINT ${savepoint}`)
  else await commit(t, s)
  return result
}

async function rollback(t: Held) {
  t.over = true
  // Its failure leaves the connection short of "idle": settle() closes it.
  await control(t, 'ROLLBACK', true).catch(() => {})
}

async function commit(t: Held, s: Scope) {
  t.over = true
  const done = await control(t, 'COMMIT', true)
  // The server answers a COMMIT of an aborted transaction (a statement not awaited failed meanwhile) with ROLLBACK.
  if (done.command !== 'COMMIT') throw s.hasFailed ? s.failed : new Error(`transaction: rolled back at its COMMIT (${done.command})`)
}

/** After the COMMIT or ROLLBACK (or a failed BEGIN, `failure`): the connection is back in the pool, or closed. */
function settle(t: Held, failure: unknown) {
  t.over = true
  const c = t.conn
  if (!c) {
    // The BEGIN failed unseen: hand back only a connection the server answered on and kept.
    if (failure instanceof postgres.PostgresError && failure.severity !== 'FATAL' && failure.severity !== 'PANIC') t.sql.release()
    return
  }
  if (c.onclose === t.hook) c.onclose = null
  if (t.closed) return // the pool holds it as closed already
  // Still ours: the server never said "idle", so it may still be in the transaction.
  if (c.reserved === t.mine) c.terminate()
}

/** The query functions of one scope (the transaction, or one savepoint) on the held connection. */
function bind(t: Held, s: Scope): Tx {
  const held = t.sql
  const watch = <Q>(q: Q): Q => {
    // A query (not a helper's fragment of one: sql(rows), sql('name')).
    if (q instanceof Promise) guard(t, s, q as unknown as RunningQuery)
    return q
  }
  // Loosely typed inside: the Tx interface is what callers see.
  type Fn = (...a: unknown[]) => unknown
  const watched = (f: Fn): Fn => (...a) => watch(f(...a))
  const from = held as unknown as Fn & Record<'unsafe' | 'file' | 'notify', Fn>
  const savepoint = (nameOrWork: unknown, maybeWork?: unknown) => {
    const work = typeof nameOrWork === 'function' ? nameOrWork : maybeWork
    if (typeof work !== 'function') return Promise.reject(new TypeError('savepoint: no function to run'))
    const label = typeof nameOrWork === 'string' ? '_' + nameOrWork.replace(/[^a-z0-9_]/gi, '').slice(0, 40) : ''
    return scope(t, work as (sp: Tx) => unknown, `s${t.savepoints++}${label}`)
  }
  return Object.assign(watched(from), {
    types: held.types as unknown,
    typed: held.typed as unknown,
    json: held.json as unknown,
    array: held.array as unknown,
    unsafe: watched(from.unsafe),
    file: watched(from.file),
    notify: watched(from.notify),
    savepoint,
  }) as unknown as Tx
}

/**
 * The query is sent only while the transaction holds its connection, else failed unsent. Its failure is noted
 * for the scope even when nobody awaits it (as sql.begin does; that also keeps it from going unhandled).
 */
function guard(t: Held, s: Scope, q: RunningQuery) {
  const run = q.handler
  const handler = (query: RunningQuery) => {
    query.catch((e: unknown) => {
      if (!s.hasFailed) {
        s.hasFailed = true
        s.failed = e
      }
    })
    const no = refusal(t)
    if (no) query.reject(no)
    else run(query)
  }
  handler.debug = run.debug
  q.handler = handler
}
