import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, type Database } from '../../db/connect.ts'
import { writeTx, type Actor, type Tx } from '../../db/write.ts'
import { EventHub } from '../../api/events/hub.ts'
import { publish, publishMany, type LiveEvent } from '../../api/events/publish.ts'
import { targets } from '../helpers/targets.ts'

/**
 * The live feed's writers (issue #21): an event is numbered at its
 * transaction's COMMIT, so the lock every writer shares is never held while
 * the server waits for a client; ids still become visible in id order (a
 * reader following the last id it sent misses nothing), and a transaction or
 * savepoint that rolls back publishes nothing.
 */
const CITY = '530600000000'
const actor: Actor = { id: null, username: 'test:live-feed', role: 'admin' }
const FEED_LOCK = "hashtext('gridwatch.live_events')"

class Refused extends Error {}

for (const target of targets()) {
  describe(`live feed writers on ${target.name}`, () => {
    let db: Database

    const lastId = async () => Number((await db.sql<{ max: string }[]>`SELECT coalesce(max(id), 0)::text AS max FROM live_events`)[0].max)
    const since = async (after: number) =>
      db.sql<{ id: string; kind: string; payload: Record<string, unknown> }[]>`
        SELECT id::text, kind, payload FROM live_events WHERE id > ${after} AND kind LIKE 'test.%' ORDER BY live_events.id`
    const pending = async () => (await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM live_events_pending`)[0].n

    beforeAll(async () => {
      db = await connect({ databaseUrl: target.url, readUrl: null, quiet: true })
    })
    afterAll(async () => {
      await db.sql`DELETE FROM live_events WHERE kind LIKE 'test.%'`
      await db.close()
    })

    it('a transaction that rolls back publishes nothing', async () => {
      const before = await lastId()
      await expect(writeTx(db.sql, actor, async (tx) => {
        await publish(tx, 'test.rollback', CITY, { n: 1 })
        await publishMany(tx, [{ kind: 'test.rollback', unitCode: CITY, payload: { n: 2 } }])
        throw new Refused('no')
      })).rejects.toThrow(Refused)
      expect(await since(before)).toEqual([])
      expect(await pending()).toBe(0)
    })

    it('an event published in a savepoint that rolls back is not sent; the rest of the transaction is, in order', async () => {
      const before = await lastId()
      await writeTx(db.sql, actor, async (tx) => {
        await publish(tx, 'test.savepoint', CITY, { n: 'a' })
        // As api/field/sync.ts runs each action: a refusal rolls its savepoint back, the transaction commits.
        await tx.savepoint(async (sp) => {
          await publish(sp as unknown as Tx, 'test.savepoint', CITY, { n: 'refused' })
          await publishMany(sp as unknown as Tx, [{ kind: 'test.savepoint', unitCode: CITY, payload: { n: 'refused too' } }])
          throw new Refused('refused')
        }).catch((e) => {
          if (!(e instanceof Refused)) throw e
        })
        await tx.savepoint(async (sp) => {
          await publish(sp as unknown as Tx, 'test.savepoint', CITY, { n: 'b' })
        })
        await publish(tx, 'test.savepoint', CITY, { n: 'c' })
      })
      expect((await since(before)).map((e) => e.payload.n)).toEqual(['a', 'b', 'c'])
      expect(await pending()).toBe(0)
    })

    it('publishMany keeps the events\' order, and a transaction sends one notification however many events it holds', async () => {
      let heard = 0
      const unlisten = await db.listen('gridwatch_events', () => heard++)
      try {
        const before = await lastId()
        const many = Array.from({ length: 40 }, (_, i) => ({ kind: 'test.many', unitCode: CITY, payload: { n: i } }))
        await writeTx(db.sql, actor, async (tx) => {
          await publishMany(tx, many.slice(0, 20))
          await publish(tx, 'test.many', CITY, { n: 20 })
          await publishMany(tx, many.slice(21))
        })
        // A second transaction's notice comes after the first's (both in commit order): by then every notice of the first is in.
        await writeTx(db.sql, actor, (tx) => publish(tx, 'test.many', CITY, { n: 40 }))
        await expect.poll(() => heard).toBeGreaterThanOrEqual(2)
        expect(heard).toBe(2)
        const rows = await since(before)
        expect(rows.map((e) => e.payload.n)).toEqual(Array.from({ length: 41 }, (_, i) => i))
        // One transaction's events are numbered together: nothing of another writer between them.
        expect(Number(rows[39].id) - Number(rows[0].id)).toBe(39)
      } finally {
        await unlisten()
      }
    })

    it('an event published outside a transaction is sent too', async () => {
      const before = await lastId()
      await publish(db.sql as unknown as Tx, 'test.autocommit', CITY, { n: 1 })
      expect((await since(before)).map((e) => e.payload.n)).toEqual([1])
      expect(await pending()).toBe(0)
    })
  })

  // Two transactions at once need two backends: PGlite is one.
  if (target.name !== 'postgis') continue

  describe(`the live feed's lock on ${target.name}`, () => {
    let db: Database
    let watcher: postgres.Sql

    /** The statements now waiting for an advisory lock in this database. */
    const waitingOnAdvisory = () => watcher<{ pid: number; query: string }[]>`
      SELECT pid, query FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`

    beforeAll(async () => {
      db = await connect({ databaseUrl: target.url, readUrl: null, quiet: true })
      watcher = postgres(target.url, { onnotice: () => {}, max: 2 })
    })
    afterAll(async () => {
      await db.sql`DELETE FROM live_events WHERE kind LIKE 'test.%'`
      await watcher.end()
      await db.close()
    })

    for (const [name, write] of [
      ['publish', (tx: Tx) => publish(tx, 'test.lock', CITY, { n: 1 })],
      ['publishMany', (tx: Tx) => publishMany(tx, [{ kind: 'test.lock', unitCode: CITY, payload: { n: 1 } }, { kind: 'test.lock', unitCode: CITY, payload: { n: 2 } }])],
    ] as const) {
      it(`a writer that used ${name} waits for the lock only in its COMMIT, never between two of its statements`, async () => {
        const holder = await watcher.reserve()
        try {
          await holder`SELECT pg_advisory_lock(${watcher.unsafe(FEED_LOCK)})`
          const writing = writeTx(db.sql, actor, async (tx) => {
            await write(tx)
            await tx`SELECT 1`
          })
          await expect.poll(async () => (await waitingOnAdvisory()).length).toBe(1)
          const [waiting] = await waitingOnAdvisory()
          // Waiting there, it holds the lock from the moment it gets it until the end of that one statement.
          expect(waiting.query.trim().toLowerCase()).toBe('commit')
          await holder`SELECT pg_advisory_unlock(${watcher.unsafe(FEED_LOCK)})`
          await writing
        } finally {
          await holder`SELECT pg_advisory_unlock_all()`
          holder.release()
        }
      })
    }

    it('a writer that has published and keeps its transaction open holds back no other writer', async () => {
      const before = Number((await db.sql`SELECT coalesce(max(id), 0)::text AS m FROM live_events`)[0].m)
      let other: 'committed' | 'waiting on the feed lock' | undefined
      await writeTx(db.sql, actor, async (tx) => {
        await publishMany(tx, [{ kind: 'test.open', unitCode: CITY, payload: { n: 'first, committed second' } }])
        await publish(tx, 'test.open', CITY, { n: 'first, committed second (2)' })
        // Another writer publishes and commits meanwhile: done, or caught waiting behind this transaction.
        const committing = writeTx(db.sql, actor, (t2) => publish(t2, 'test.open', CITY, { n: 'second, committed first' }))
          .then(() => 'committed' as const)
        const blocked = (async () => {
          for (;;) {
            const w = await waitingOnAdvisory()
            if (w.length) return 'waiting on the feed lock' as const
            await new Promise((r) => setTimeout(r, 20))
          }
        })()
        other = await Promise.race([committing, blocked])
        // Let it go either way (it gets the lock once this one commits).
        void committing.catch(() => {})
      })
      expect(other).toBe('committed')
      const rows = await db.sql`SELECT payload ->> 'n' AS n FROM live_events WHERE id > ${before} AND kind = 'test.open' ORDER BY id`
      // Numbered in commit order.
      expect(rows.map((r) => r.n)).toEqual(['second, committed first', 'first, committed second', 'first, committed second (2)'])
    })

    it('many writers at once: a reader following the last id it sent gets every committed event once, in commit order', async () => {
      const WRITERS = 8
      const ROUNDS = 40
      const hub = await EventHub.create(db, 50)
      const heard: LiveEvent[] = []
      hub.subscribe((e) => {
        if (e.kind === 'test.stress') heard.push(e)
      })
      // A second reader with the hub's cursor, as fast as it can go, on its own connection.
      const cursor = postgres(target.url, { onnotice: () => {}, max: 1 })
      const polled: { id: number; key: string }[] = []
      let cursorAt = Number((await cursor`SELECT coalesce(max(id), 0)::text AS m FROM live_events`)[0].m)
      let writing = true
      const poll = async () => {
        const rows = await cursor<{ id: string; kind: string; key: string }[]>`
          SELECT id::text, kind, payload ->> 'key' AS key FROM live_events WHERE id > ${cursorAt} ORDER BY live_events.id LIMIT 1000`
        for (const r of rows) {
          cursorAt = Number(r.id)
          if (r.kind === 'test.stress') polled.push({ id: Number(r.id), key: r.key })
        }
        return rows.length
      }
      const reading = (async () => {
        while (writing) await poll()
      })()

      /** Every event of a transaction that committed, by key; the transactions' events in order. */
      const committed = new Map<string, string[]>()
      const writer = async (w: number) => {
        for (let i = 0; i < ROUNDS; i++) {
          const keys = Array.from({ length: 1 + ((w + i) % 4) }, (_, j) => `${w}:${i}:${j}`)
          const fate = (w * 7 + i * 3) % 10 // 0: rolls back; 1: a savepoint rolls back
          const ev = (key: string) => ({ kind: 'test.stress', unitCode: CITY, payload: { key } })
          const ok = await writeTx(db.sql, actor, async (tx) => {
            await publish(tx, 'test.stress', CITY, { key: keys[0] })
            if (fate === 1) {
              await tx.savepoint(async (sp) => {
                await publish(sp as unknown as Tx, 'test.stress', CITY, { key: `${w}:${i}:gone` })
                throw new Refused()
              }).catch(() => {})
            }
            // Other work between the events and before the commit, of varying length.
            await tx`SELECT pg_sleep(${((w * 13 + i * 7) % 5) / 1000})`
            if (keys.length > 1) await publishMany(tx, keys.slice(1).map(ev))
            await tx`SELECT count(*) FROM live_events_pending`
            if (fate === 0) throw new Refused()
            return true
          }).catch((e) => {
            if (!(e instanceof Refused)) throw e
            return false
          })
          if (ok) committed.set(`${w}:${i}`, keys)
        }
      }
      try {
        await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)))
      } finally {
        writing = false
        await reading
      }
      while ((await poll()) > 0);
      await hub.readNew()
      await hub.close()
      await cursor.end()

      const want = [...committed.values()].flat().sort()
      expect(want.length).toBeGreaterThan(WRITERS * ROUNDS)
      for (const [who, got] of [['the hub', heard.map((e) => ({ id: e.id, key: e.payload.key as string }))], ['the fast reader', polled]] as const) {
        const ids = got.map((e) => e.id)
        expect(ids, `${who}: ids ascending, none twice`).toEqual([...ids].sort((a, b) => a - b).filter((id, k, a) => k === 0 || a[k - 1] !== id))
        expect(got.map((e) => e.key).sort(), `${who}: every committed event, nothing rolled back`).toEqual(want)
      }
      // Each transaction's events numbered one after the other, in the order it published them.
      const idOf = new Map(polled.map((e) => [e.key, e.id]))
      for (const keys of committed.values()) {
        const ids = keys.map((k) => idOf.get(k)!)
        expect(ids).toEqual(ids.map((_, j) => ids[0] + j))
      }
      expect((await db.sql`SELECT count(*)::int AS n FROM live_events_pending`)[0].n).toBe(0)
    })
  })
}
