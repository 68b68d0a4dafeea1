/**
 * No transaction pipelined behind other queries (issue #21). postgres.js 3.4.9's sql.begin sends BEGIN through the
 * pool's queue; on a connection already carrying 100 queries (max_pipeline) or a full socket buffer it never
 * reserves the connection: the BEGIN fails (UNSAFE_TRANSACTION, a TypeError in a one-connection pool) while the
 * server has begun a transaction there, and the pool's next queries run inside it, lost when it ends. db/transaction.ts
 * takes the connection whole first. The load here is that one: every connection's pipeline full when a transaction
 * starts, and parameters of 64 kB (each write past the socket's buffer).
 */
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Sql } from '../../db/connect.ts'
import { transaction, type Tx } from '../../db/transaction.ts'
import { writeTx, type Actor } from '../../db/write.ts'
import { targets } from '../helpers/targets.ts'

/** postgres.js's max_pipeline (its default, which db/connect.ts keeps): queries sent ahead on one connection. */
const PIPELINE = 100
const actor: Actor = { id: null, username: 'test:transaction', role: 'system' }
const big = 'x'.repeat(64 * 1024)

for (const target of targets()) {
  // The app's pool size on each: one connection on the embedded database (db/connect.ts), several on PostGIS.
  const max = target.name === 'embedded' ? 1 : 2
  const table = `tx_probe_${process.pid}`

  describe(`transactions on a busy pool (${target.name}, max ${max})`, () => {
    const pools: Sql[] = []
    let admin: Sql
    const pool = (n = max, more: postgres.Options<Record<string, never>> = {}) => {
      const p = postgres(target.url, { onnotice: () => {}, max: n, ...more }) as unknown as Sql
      pools.push(p)
      return p
    }
    const rows = async (src: string) => (await admin`SELECT count(*)::int AS n FROM ${admin(table)} WHERE src = ${src}`)[0].n as number
    /** Opens every connection of `sql`, so that a flood is spread over all of them. */
    const warm = (sql: Sql, n = max) => Promise.all(Array.from({ length: n }, () => sql`SELECT pg_sleep(0.05)`))
    /** Fills every connection's pipeline: PIPELINE queries per connection, sent at once, none awaited yet. */
    const flood = (sql: Sql, n: number, statement = 'SELECT 1') => Promise.all(Array.from({ length: n }, () => sql.unsafe(statement).execute()))
    /** A query of postgres.js reaches the pool a tick after execute(): after this, a flood is on the connections. */
    const handedOut = async () => {
      for (let i = 0; i < 4; i++) await null
    }
    /** Whether each connection of `sql` is inside a transaction block (SAVEPOINT is refused outside one, 25P01). */
    const inTransaction = async (sql: Sql, n = max) => {
      const held = await Promise.all(Array.from({ length: n }, () => sql.reserve()))
      try {
        return await Promise.all(held.map(async (r) => {
          try {
            await r.unsafe('SAVEPOINT probe')
            await r.unsafe('ROLLBACK TO SAVEPOINT probe')
            return true
          } catch (e) {
            if ((e as postgres.PostgresError).code === '25P01') return false
            if ((e as postgres.PostgresError).code === '25P02') return true
            throw e
          }
        }))
      } finally {
        for (const r of held) r.release()
      }
    }

    beforeAll(async () => {
      admin = pool(1)
      await admin.unsafe(`CREATE TABLE ${table} (id serial PRIMARY KEY, src text NOT NULL, body text)`)
    })
    afterAll(async () => {
      for (const p of pools.splice(1)) await p.end({ timeout: 5 })
      await admin.unsafe(`DROP TABLE IF EXISTS ${table}`)
      await admin.end({ timeout: 5 })
    })

    // The embedded database cannot show this: a one-connection pool answers with a TypeError inside postgres.js
    // that goes unhandled (the run fails), and the transaction left open there holds every other connection.
    it.skipIf(target.name === 'embedded')('(the hazard) the stock sql.begin behind full pipelines fails and leaves a connection in a transaction that eats writes', async () => {
      const sql = pool()
      await warm(sql)
      const busy = flood(sql, PIPELINE * max)
      const begun = sql.begin((tx) => tx`INSERT INTO ${tx(table)} (src) VALUES ('stock begin')`)
      // If this no longer fails, postgres.js has fixed the bug (porsager/postgres#1218): db/transaction.ts may go.
      await expect(begun, 'postgres.js begin behind a full pipeline').rejects.toMatchObject({ code: 'UNSAFE_TRANSACTION' })
      await busy
      expect(await inTransaction(sql)).toContain(true)
      // Writes answered as done, one after another: the pool alternates its connections, so some land in that transaction.
      for (let i = 0; i < 6; i++) await sql`INSERT INTO ${sql(table)} (src) VALUES ('after stock begin')`
      await sql.end({ timeout: 5 }) // the server rolls the transaction back with the session
      expect(await rows('after stock begin')).toBeLessThan(6)
      expect(await rows('stock begin')).toBe(0)
    })

    it('writeTx behind full pipelines commits every write and leaves no connection in a transaction', async () => {
      const sql = pool()
      await warm(sql)
      const busy = flood(sql, PIPELINE * max)
      await handedOut()
      const writes = Array.from({ length: 4 }, (_, i) => writeTx(sql, actor, async (tx) => {
        await tx`INSERT INTO ${tx(table)} (src) VALUES ('writeTx')`
        return i
      }))
      expect(await Promise.all(writes)).toEqual([0, 1, 2, 3])
      await busy
      expect(await inTransaction(sql)).toEqual(Array(max).fill(false))
      // Autocommit writes after them commit on their own.
      for (let i = 0; i < 6; i++) await sql`INSERT INTO ${sql(table)} (src) VALUES ('after writeTx')`
      await sql.end({ timeout: 5 })
      expect(await rows('writeTx')).toBe(4)
      expect(await rows('after writeTx')).toBe(6)
    })

    it('transactions among floods and 64 kB writes: every commit there, every rollback gone, nothing of the pool in them', async () => {
      const sql = pool()
      await warm(sql)
      const fail = new Error('undo this one')
      const work: Promise<unknown>[] = []
      for (let round = 0; round < 4; round++) {
        work.push(flood(sql, PIPELINE * max))
        await handedOut()
        for (let i = 0; i < 3; i++) work.push(sql`INSERT INTO ${sql(table)} (src, body) VALUES ('pool', ${big})`.execute())
        for (let i = 0; i < 4; i++) {
          work.push(transaction(sql, async (tx) => {
            await tx`INSERT INTO ${tx(table)} (src, body) VALUES (${i % 2 ? 'rolled back' : 'committed'}, ${big})`
            await tx`INSERT INTO ${tx(table)} (src) VALUES (${i % 2 ? 'rolled back' : 'committed'})`
            if (i % 2) throw fail
          }).catch((e) => {
            if (e !== fail) throw e
          }))
        }
      }
      await Promise.all(work)
      expect(await inTransaction(sql)).toEqual(Array(max).fill(false))
      await sql.end({ timeout: 5 })
      expect(await rows('pool')).toBe(12)
      expect(await rows('committed')).toBe(16)
      expect(await rows('rolled back')).toBe(0)
    })

    it('a transaction handed a connection still finishing the pool\'s queries: those commit, the transaction alone rolls back', async () => {
      const seen: string[] = []
      const sql = pool(1, { debug: (_c: number, q: string) => seen.push(q) })
      await warm(sql, 1)
      // 101 go on the connection (1 running, 100 waiting), 100 wait in the pool's queue; the transaction is queued
      // after them, so the connection comes to it with 99 queries ahead of its BEGIN.
      const busy = flood(sql, PIPELINE + 1 + PIPELINE, `INSERT INTO ${table} (src) VALUES ('flood')`)
      await handedOut()
      const fail = new Error('undo')
      await expect(transaction(sql, async (tx) => {
        await tx`INSERT INTO ${tx(table)} (src) VALUES ('behind the flood')`
        throw fail
      })).rejects.toBe(fail)
      await busy
      const begin = seen.indexOf('BEGIN')
      expect(seen.slice(begin, begin + 2), 'the BEGIN went out behind a full pipeline (the connection seen on the next statement)').toEqual(['BEGIN', 'SELECT 1'])
      expect(await inTransaction(sql, 1)).toEqual([false])
      await sql.end({ timeout: 5 })
      expect(await rows('flood')).toBe(2 * PIPELINE + 1)
      expect(await rows('behind the flood')).toBe(0)
    })

    it('on a one-connection pool: work uses only tx, a pool query meanwhile waits for the COMMIT, the connection is reused', async () => {
      const sql = pool(1)
      let outside: Promise<{ n: number }[]> | undefined
      const pid = await transaction(sql, async (tx) => {
        await tx`INSERT INTO ${tx(table)} (src) VALUES ('one connection')`
        outside = sql<{ n: number }[]>`SELECT count(*)::int AS n FROM ${sql(table)} WHERE src = 'one connection'`.execute()
        const [{ pid }] = await tx<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`
        return pid
      })
      expect((await outside!)[0].n, 'the pool query ran after the COMMIT, not inside the transaction').toBe(1)
      // Handed back at the server's "idle", not closed: the next transaction gets the same session.
      expect(await transaction(sql, async (tx) => (await tx<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`)[0].pid)).toBe(pid)
      expect(await inTransaction(sql, 1)).toEqual([false])
    })

    it('keeps sql.begin\'s rules: result back, a failed statement fails it even when caught, savepoints undo only themselves', async () => {
      const sql = pool()
      // The result (a query's rows, as api/analysis/run.ts returns one).
      const got = await transaction(sql, (tx) => tx<{ n: number }[]>`SELECT 41 + 1 AS n`)
      expect(got[0].n).toBe(42)

      // A statement's error caught by work still rolls everything back, and is the error thrown.
      const caught = transaction(sql, async (tx) => {
        await tx`INSERT INTO ${tx(table)} (src) VALUES ('caught')`
        await tx`SELECT * FROM no_such_table_here`.catch(() => 'ignored')
        return 'went on'
      })
      await expect(caught).rejects.toMatchObject({ code: '42P01' })
      expect(await rows('caught')).toBe(0)

      // So does one work did not await (and it does not go unhandled).
      const unawaited = transaction(sql, async (tx) => {
        await tx`INSERT INTO ${tx(table)} (src) VALUES ('unawaited')`
        void tx`SELECT 1/0`.execute()
      })
      await expect(unawaited).rejects.toMatchObject({ code: '22012' })
      expect(await rows('unawaited')).toBe(0)

      // A savepoint that fails undoes its own work only; named ones too, whatever the name holds.
      const kept = await transaction(sql, async (tx) => {
        await tx`INSERT INTO ${tx(table)} (src) VALUES ('outer')`
        const refused = await tx.savepoint(async (sp) => {
          await sp`INSERT INTO ${sp(table)} (src) VALUES ('inner undone')`
          await sp`SELECT * FROM no_such_table_here`
        }).catch((e: postgres.PostgresError) => e.code)
        const inner = await tx.savepoint('odd"; name', async (sp: Tx) => {
          await sp`INSERT INTO ${sp(table)} (src) VALUES ('inner kept')`
          return sp.savepoint(async (deeper) => (await deeper`SELECT 7 AS n`)[0].n as number)
        })
        return { refused, inner }
      })
      expect(kept).toEqual({ refused: '42P01', inner: 7 })
      expect([await rows('outer'), await rows('inner undone'), await rows('inner kept')]).toEqual([1, 0, 1])
      await expect(transaction(sql, (tx) => (tx.savepoint as (x: unknown) => Promise<unknown>)('no function'))).rejects.toThrow(/no function/)
    })

    it('a statement after the end, or after a COMMIT of work\'s own, is refused unsent', async () => {
      const sql = pool()
      let kept: Tx | undefined
      await transaction(sql, async (tx) => {
        kept = tx
      })
      await expect(kept!`INSERT INTO ${kept!(table)} (src) VALUES ('too late')`).rejects.toThrow(/after its COMMIT or ROLLBACK/)
      const own = transaction(sql, async (tx) => {
        await tx.unsafe('COMMIT')
        await tx`INSERT INTO ${tx(table)} (src) VALUES ('after own commit')`
      })
      await expect(own).rejects.toThrow(/ended inside/)
      expect([await rows('too late'), await rows('after own commit')]).toEqual([0, 0])
      expect(await inTransaction(sql)).toEqual(Array(max).fill(false))
    })

    it('takes read only and an isolation level; refuses an unknown level before taking a connection', async () => {
      const sql = pool(1)
      await expect(transaction(sql, (tx) => tx`INSERT INTO ${tx(table)} (src) VALUES ('read only')`, { readOnly: true })).rejects.toMatchObject({ code: '25006' })
      const level = await transaction(sql, async (tx) => (await tx`SHOW transaction_isolation`)[0].transaction_isolation, { isolation: 'serializable' })
      expect(level).toBe('serializable')
      const bad = { isolation: 'serializable; DROP TABLE x' } as unknown as { isolation: 'serializable' }
      await expect(transaction(sql, () => 'never', bad)).rejects.toThrow(/unknown isolation level/)
      await expect(transaction(sql, () => 'never', { isolation: '' as 'serializable' })).rejects.toThrow(/unknown isolation level/)
      // Nothing held by the refusals: the one connection still serves.
      expect(await transaction(sql, async (tx) => (await tx`SELECT 1 AS one`)[0].one)).toBe(1)
      expect(await rows('read only')).toBe(0)
    })

    // PostGIS only: the embedded database has one backend, which no session can end.
    it.skipIf(target.name === 'embedded')('a connection lost inside: the transaction fails, nothing more is sent, the pool reconnects', async () => {
      const sql = pool(1)
      let after: unknown
      const lost = writeTx(sql, actor, async (tx) => {
        const [{ pid }] = await tx<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`
        await tx`INSERT INTO ${tx(table)} (src) VALUES ('lost')`
        const sleeping = tx`SELECT pg_sleep(30)`.execute()
        await admin`SELECT pg_terminate_backend(${pid})`
        await sleeping.catch(() => {})
        // Work that goes on after an error (as code catching errors might) writes nothing anywhere.
        after = await tx`INSERT INTO ${tx(table)} (src) VALUES ('after loss')`.catch((e: Error) => e)
      })
      await expect(lost).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' })
      expect(after).toMatchObject({ code: 'CONNECTION_CLOSED' })
      // postgres.js 3.4.9 keeps the FATAL the server sent as it ended the session and fails the next query of that
      // connection slot with it (a plain pool query killed the same way does too); the ones after are served.
      await sql`SELECT 1`.catch((e: postgres.PostgresError) => expect(e.code).toBe('57P01'))
      expect((await sql`SELECT 1 AS one`)[0].one).toBe(1)
      expect(await inTransaction(sql, 1)).toEqual([false])
      expect([await rows('lost'), await rows('after loss')]).toEqual([0, 0])
    })
  })
}
