/**
 * Issue #21: on the storm night every connection of the API's pools was busy with a heavy read, and the read
 * routing's WAL position lookups (db/replica.ts) queued behind them past MAX_WAIT_MS: the reads they held went to
 * the primary (0–5 reads/s on the replica). The lookups now have a connection of their own on each server.
 */
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { connect, type Database } from '../../db/connect.ts'
import { MAX_WAIT_MS, type ReplicaReads } from '../../db/replica.ts'
import { caughtUp, streamingReplica, waitForDatabase, type Replica } from '../helpers/replica.ts'

const primaryUrl = inject('postgisUrl')
/** connect()'s pool size (db/connect.ts pgOptions). */
const POOL = 8

describe.skipIf(!primaryUrl && !process.env.CI)('read routing with every pool connection busy (issue #21)', () => {
  let replica: Replica | null
  let db: Database
  let writer: postgres.Sql // another API process: its commit reaches this one as a notice only

  beforeAll(async () => {
    if (!primaryUrl) throw new Error('CI must run the replica suite on a real PostGIS (TEST_POSTGIS_URL)')
    replica = await streamingReplica('replica lookups suite')
    if (!replica) return
    const readUrl = replica.urlFor(primaryUrl)
    await waitForDatabase(readUrl)
    writer = postgres(primaryUrl, { onnotice: () => {}, max: 1 })
    db = await connect({ databaseUrl: primaryUrl, readUrl, quiet: true })
  })

  afterAll(async () => {
    if (!replica) return
    await writer?.end()
    await db?.close()
    await replica.stop?.()
  })

  it('a read begun after a change notice goes to the replica while both pools are busy with long reads', async (ctx) => {
    if (!replica) return ctx.skip()
    const reads = db.reads as ReplicaReads
    const rep = postgres(replica.urlFor(primaryUrl!), { onnotice: () => {}, max: 1 })
    try {
      await caughtUp(writer, rep)
    } finally {
      await rep.end()
    }
    await expect.poll(async () => (await reads.pick()) === reads.replica).toBe(true)

    let heard = 0
    const unlisten = await db.listen('gridwatch_events', () => heard++)
    // Every connection of both pools busy for 6 s, as with tiles and pages on a storm night.
    const busy = [
      ...Array.from({ length: POOL }, () => db.sql`SELECT pg_sleep(6)`.execute()),
      ...Array.from({ length: POOL }, () => reads.replica`SELECT pg_sleep(6)`.execute()),
    ]
    const picks: string[] = []
    try {
      // Sent now (a postgres.js query waits for its first then() otherwise), each on its own connection: all running.
      await expect.poll(async () => (await writer<{ n: number }[]>`
        SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(6)' AND state = 'active'`)[0].n).toBeGreaterThanOrEqual(POOL)
      // Up to ten reads, each just after a notice. The cluster is shared: another database's burst of writes can put
      // the replica's replay more than MAX_WAIT_MS behind now and then, so one read on the replica is enough. Behind
      // a 6 s read, a lookup does not answer for any of them (before: all ten on the primary).
      for (let i = 0; i < 10 && picks.at(-1) !== 'replica'; i++) {
        const before = heard
        await writer`SELECT pg_notify('gridwatch_events', '')`
        await expect.poll(() => heard, { interval: 5 }).toBeGreaterThan(before)
        const t0 = Date.now()
        const picked = await reads.pick()
        const took = Date.now() - t0
        expect(took, "a read waits MAX_WAIT_MS at most, never for the busy reads").toBeLessThan(MAX_WAIT_MS + 1000)
        picks.push(picked === reads.replica ? 'replica' : 'primary')
      }
      expect(picks.at(-1), picks.join(', ')).toBe('replica')
    } finally {
      await unlisten()
      await Promise.allSettled(busy)
    }
  })
})
