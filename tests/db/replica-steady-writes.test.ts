/**
 * Issue #21: on a storm night (writes all over the city, a change notice every ~15 ms) the read replica must
 * still take the heavy reads. Each notice moves what a read must see a few ms past the replica's replay last
 * seen; a read that fell back to the primary at once went there nearly every time (session 10's peak run:
 * 4–18 reads/s on the replica against 300–435 on the primary). db/replica.ts now waits briefly for the replica.
 */
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { connect, type Database } from '../../db/connect.ts'
import type { ReplicaReads } from '../../db/replica.ts'
import { caughtUp, streamingReplica, waitForDatabase, type Replica } from '../helpers/replica.ts'

const primaryUrl = inject('postgisUrl')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe.skipIf(!primaryUrl && !process.env.CI)('read replica under a steady stream of writes (issue #21)', () => {
  let replica: Replica | null
  let db: Database
  let writer: postgres.Sql // another API process, as it were: its commits reach this one as notices only

  beforeAll(async () => {
    if (!primaryUrl) throw new Error('CI must run the replica suite on a real PostGIS (TEST_POSTGIS_URL)')
    replica = await streamingReplica('replica steady-writes suite')
    if (!replica) return
    const readUrl = replica.urlFor(primaryUrl)
    await waitForDatabase(readUrl)
    writer = postgres(primaryUrl, { onnotice: () => {}, max: 1 })
    await writer`CREATE TABLE IF NOT EXISTS replica_steady_writes (id bigint PRIMARY KEY)`
    await writer`TRUNCATE replica_steady_writes`
    const rep = postgres(readUrl, { onnotice: () => {}, max: 1 })
    await caughtUp(writer, rep)
    await rep.end()
    db = await connect({ databaseUrl: primaryUrl, readUrl, quiet: true })
  })

  afterAll(async () => {
    if (!replica) return
    if (writer) {
      await writer`DROP TABLE IF EXISTS replica_steady_writes`.catch(() => {})
      await writer.end()
    }
    await db?.close()
    // As the replica suite: stopped when this run may (not with TEST_REPLICA_RUNNING), so it replays no other suite's work.
    await replica.stop?.()
  })

  it('most heavy reads go to the replica, and each sees every change this process heard of before it began', async (ctx) => {
    if (!replica) return ctx.skip()
    const reads = db.reads as ReplicaReads
    // The change notices as this process hears them, beside the read routing's own listener (called in the same turn).
    let heard = 0
    let onNotice = () => {}
    const unlisten = await db.listen('gridwatch_events', (payload) => {
      heard = Math.max(heard, Number(payload))
      onNotice()
    })
    const nextNotice = () => new Promise<void>((r) => (onNotice = r))

    // 120 small commits, each with its notice, one every ~15 ms.
    let writing = true
    const writes = (async () => {
      try {
        for (let n = 1; n <= 120; n++) {
          await writer.begin(async (tx) => {
            await tx`INSERT INTO replica_steady_writes VALUES (${n})`
            await tx`SELECT pg_notify('gridwatch_events', ${String(n)})`
          })
          await sleep(15)
        }
      } finally {
        writing = false
        onNotice()
      }
    })()
    await expect.poll(() => heard).toBeGreaterThan(0)

    const on = { replica: 0, primary: 0 }
    const read = async () => {
      const mustSee = heard
      const sql = await reads.pick()
      const [{ last }] = await sql`SELECT coalesce(max(id), 0)::int AS last FROM replica_steady_writes`
      expect(last).toBeGreaterThanOrEqual(mustSee)
      on[sql === reads.replica ? 'replica' : 'primary']++
    }
    // Readers on their own cadence, and one that reads the moment a notice comes: on a storm night reads arrive
    // all the time, so many begin just after a notice, while the primary's position after it is being looked up.
    const steadily = async () => {
      while (writing) {
        await read()
        await sleep(10)
      }
    }
    const onEachNotice = async () => {
      while (writing) {
        await nextNotice() // (the writer's end wakes it too)
        if (writing) await read()
      }
    }
    try {
      await Promise.all([steadily(), steadily(), onEachNotice(), writes])
    } finally {
      await unlisten()
    }
    await expect.poll(() => heard).toBe(120)
    const total = on.replica + on.primary
    expect(total).toBeGreaterThan(100)
    // At least 9 in 10. Falling back at once (before issue #21's change) gave 62–84 % here without the reader on
    // each notice (machine load 8–9), and sends each read begun while a lookup is in flight to the primary;
    // waiting up to MAX_WAIT_MS (db/replica.ts) gave 99 % and more.
    expect(on.replica / total, `reads on the replica and on the primary: ${JSON.stringify(on)}`).toBeGreaterThanOrEqual(0.9)

    // /api/ready's figures meanwhile: streaming, with a lag in bytes and the time of a replayed transaction.
    // (Not "caught up": the cluster is shared, and other databases' writes move the primary's position too.)
    const lag = await reads.lag()
    expect(lag).toMatchObject({ state: 'streaming', lagBytes: expect.any(Number), replayedAt: expect.any(String) })
  })
})
