/**
 * A streaming replica behind DATABASE_READ_URL (db/replica.ts): heavy reads come from it, writes and notices stay
 * on the primary, a reader's own writes are never hidden by replica lag, and a replica gone sends reads to the
 * primary. Lag is made on purpose by pausing the replica's replay (pg_wal_replay_pause()).
 */
import { VectorTile } from '@mapbox/vector-tile'
import { PbfReader } from 'pbf'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { READ_AFTER_COOKIE } from '../../api/edge/read-your-writes.ts'
import { formatLsn, parseLsn, type ReplicaReads } from '../../db/replica.ts'
import { tilesCovering } from '../../tiles/tile-math.ts'
import { loginAs, type Client } from '../helpers/session.ts'
import { caughtUp, streamingReplica, waitForDatabase, type Replica } from '../helpers/replica.ts'

const CITY = '530600000000'
const primaryUrl = inject('postgisUrl')
let base = '' // the server's URL

interface Household { id: number; risk_level: string; version: number; lon: number; lat: number; village: string }

/** The `risk` of household `id` in a households tile (z13+ draws one point per household). */
async function riskInTile(client: Client, path: string, id: number, cookie?: string) {
  // Client.fetch sends its own Cookie header; a mark added to it goes by plain fetch.
  const r = cookie ? await fetch(base + path, { headers: { Cookie: cookie } }) : await client.fetch(path)
  expect(r.status).toBe(200)
  const layer = new VectorTile(new PbfReader(Buffer.from(await r.arrayBuffer()))).layers.households
  for (let i = 0; i < (layer?.length ?? 0); i++) {
    const f = layer.feature(i)
    if (f.properties.id === id) return f.properties.risk
  }
  throw new Error(`household ${id} not in ${path}`)
}

/** The client's cookies with the read mark `lsn` in place of any it has (its login, a write, set one). */
const withMark = (client: Client, lsn: string) =>
  [...client.cookies.split('; ').filter((c) => !c.startsWith(`${READ_AFTER_COOKIE}=`)), `${READ_AFTER_COOKIE}=${lsn}`].join('; ')

const tileOf = (h: Household, z = 16) => {
  const [t] = tilesCovering([h.lon, h.lat, h.lon, h.lat], z)
  return `/tiles/households/${z}/${t.x}/${t.y}.mvt`
}
const otherRisk = (risk: string) => (risk === 'red' ? 'green' : 'red')

describe.skipIf(!primaryUrl && !process.env.CI)('read replica (DATABASE_READ_URL)', () => {
  let replica: Replica | null
  let s: RunningServer
  let commander: Client
  let prim: postgres.Sql
  let rep: postgres.Sql
  let quiet: Household // changed behind the app's back (no notice): tells which server a read came from
  let mine: Household // changed through the API: read-your-writes
  const paused = async () => (await rep`SELECT pg_get_wal_replay_pause_state() AS s`)[0].s

  beforeAll(async () => {
    if (!primaryUrl) throw new Error('CI must run the replica suite on a real PostGIS (TEST_POSTGIS_URL)')
    replica = await streamingReplica('replica suite')
    if (!replica) return
    const readUrl = replica.urlFor(primaryUrl)
    await waitForDatabase(readUrl)
    prim = postgres(primaryUrl, { onnotice: () => {}, max: 2 })
    rep = postgres(readUrl, { onnotice: () => {}, max: 2 })
    s = await startServer({ port: 0, databaseUrl: primaryUrl, readUrl, seedScale: false, quiet: true, sweepEveryMs: 3600_000, reportSweepEveryMs: 3600_000 })
    base = s.url
    commander = await loginAs(s, 'commander', CITY)
    const pick = async (notIn: string) => {
      const [h] = await prim`
        SELECT h.id, h.risk_level, h.version, ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat, v.code AS village
        FROM households h JOIN grids g ON g.id = h.grid_id JOIN admin_units v ON v.id = g.village_id
        WHERE h.risk_level <> 'red' AND v.code <> ${notIn} ORDER BY h.id LIMIT 1`
      return h as unknown as Household
    }
    quiet = await pick('')
    mine = await pick(quiet.village) // in another village: its roll-up is not the one changed behind the app's back
  })

  afterAll(async () => {
    if (!replica) return
    if (rep) await rep`SELECT pg_wal_replay_resume()`.catch(() => {})
    if (quiet) {
      await prim.begin(async (tx) => {
        await tx`SET LOCAL session_replication_role = replica`
        await tx`UPDATE households SET risk_level = ${quiet.risk_level} WHERE id = ${quiet.id}`
        await tx`UPDATE household_rollups SET red = red - 1000 WHERE level = 'village' AND unit_id = (SELECT id FROM admin_units WHERE code = ${quiet.village})`
      })
    }
    // The shared test database as it was (an ordinary write: roll-ups and tiles follow).
    if (mine) await prim`UPDATE households SET risk_level = ${mine.risk_level} WHERE id = ${mine.id}`
    await s?.close()
    await prim?.end()
    await rep?.end()
    // Stopped, not removed: replaying every other suite's databases would cost the shared cores; the next run starts it (or rebuilds it).
    // A replica this run may not stop (TEST_REPLICA_RUNNING) is left running.
    await replica.stop?.()
  })

  it('reads a tile, an OGC feature, an export and a roll-up from the replica, and writes to the primary', async (ctx) => {
    if (!replica) return ctx.skip()
    await caughtUp(prim, rep)
    await rep`SELECT pg_wal_replay_pause()`
    await expect.poll(paused).toBe('paused')
    // A change on the primary that no API process hears of (triggers off: no notice, no roll-up): the replica,
    // paused, still has the old value, so a read that shows it was the replica's.
    await prim.begin(async (tx) => {
      await tx`SET LOCAL session_replication_role = replica`
      await tx`UPDATE households SET risk_level = ${otherRisk(quiet.risk_level)} WHERE id = ${quiet.id}`
      await tx`UPDATE household_rollups SET red = red + 1000 WHERE level = 'village' AND unit_id = (SELECT id FROM admin_units WHERE code = ${quiet.village})`
    })
    expect((await rep`SELECT risk_level FROM households WHERE id = ${quiet.id}`)[0].risk_level).toBe(quiet.risk_level)
    expect(await riskInTile(commander, tileOf(quiet), quiet.id)).toBe(quiet.risk_level)
    const item = await (await commander.get(`/ogc/collections/households/items/${quiet.id}?f=json`)).json()
    expect(item.properties.risk_level).toBe(quiet.risk_level)
    const file = await (await commander.get(`/api/export/households.geojson?unit=${quiet.village}`)).json()
    const row = file.features.find((f: { properties: { id: number } }) => f.properties.id === quiet.id)
    expect(row.properties.risk_level).toBe(quiet.risk_level)
    const [{ red }] = await prim`SELECT red FROM household_rollups WHERE level = 'village' AND unit_id = (SELECT id FROM admin_units WHERE code = ${quiet.village})`
    expect((await (await commander.get(`/api/units/${quiet.village}`)).json()).stats.red).toBe(red - 1000)
    // The session written at login, and the write's audit, are on the primary (the replica takes none).
    expect((await prim`SELECT count(*)::int AS n FROM sessions WHERE user_id = ${commander.userId}`)[0].n).toBeGreaterThan(0)
  })

  it('a mark from a write elsewhere (the cookie) sends that reader to the primary while the replica lags', async (ctx) => {
    if (!replica) return ctx.skip()
    // As if the reader had written through another API process that this one has not heard from yet.
    const [{ lsn }] = await prim`SELECT pg_current_wal_insert_lsn()::text AS lsn`
    const cookie = withMark(commander, lsn as string)
    const r = await fetch(`${s.url}/ogc/collections/households/items/${quiet.id}?f=json`, { headers: { Cookie: cookie } })
    expect((await r.json()).properties.risk_level).toBe(otherRisk(quiet.risk_level))
    // …and without it, the replica still answers (its old value).
    const plain = await (await commander.get(`/ogc/collections/households/items/${quiet.id}?f=json`)).json()
    expect(plain.properties.risk_level).toBe(quiet.risk_level)
  })

  it('after I change a household, my map and my roll-ups show it while the replica has not replayed it', async (ctx) => {
    if (!replica) return ctx.skip()
    expect(await paused()).toBe('paused')
    const path = tileOf(mine)
    const other = await loginAs(s, 'viewer', CITY) // another reader, who writes nothing
    expect(other.cookies).not.toContain(READ_AFTER_COOKIE)
    expect(await riskInTile(commander, path, mine.id)).toBe(mine.risk_level) // cached before the change
    const unitBefore = await (await commander.get(`/api/units/${mine.village}`)).json()
    const r = await commander.send('PATCH', `/api/households/${mine.id}`, { version: mine.version, risk_level: 'red' })
    expect(r.status).toBe(200)
    // The write's answer carries the primary's position after it; the paused replica is behind it.
    const set = r.headers.getSetCookie().find((c) => c.startsWith(`${READ_AFTER_COOKIE}=`))
    expect(set).toBeDefined()
    const mark = parseLsn(decodeURIComponent(set!.split(';')[0].split('=')[1]))!
    const [{ lsn: replayed }] = await rep`SELECT pg_last_wal_replay_lsn()::text AS lsn`
    expect(mark).toBeGreaterThan(parseLsn(replayed)!)
    expect((await rep`SELECT risk_level FROM households WHERE id = ${mine.id}`)[0].risk_level).toBe(mine.risk_level)
    // An operator reads the lag on /api/ready: paused, and behind by at least what the write added past the replay.
    const ready = await (await fetch(`${s.url}/api/ready`)).json()
    expect(ready).toMatchObject({ ready: true, replica: { state: 'paused' } })
    expect(ready.replica.lagBytes).toBeGreaterThanOrEqual(Number(mark - parseLsn(replayed)!))
    expect(ready.replica.lagSeconds).not.toBe(0)
    const cookie = withMark(commander, formatLsn(mark))
    // My roll-up, at once: my mark sends it to the primary.
    const unit = await (await fetch(`${s.url}/api/units/${mine.village}`, { headers: { Cookie: cookie } })).json()
    expect(unit.stats.red).toBe(unitBefore.stats.red + 1)
    // The tile, for anyone (no mark): dropped by the change's notice, made again from the primary, because
    // the replica has not replayed the notice's position. Made from the replica, the old tile would be cached.
    await expect.poll(() => riskInTile(other, path, mine.id)).toBe('red')
    expect(await riskInTile(commander, path, mine.id, cookie)).toBe('red')
    expect((await (await other.get(`/api/units/${mine.village}`)).json()).stats.red).toBe(unitBefore.stats.red + 1)
    await rep`SELECT pg_wal_replay_resume()`
    await caughtUp(prim, rep)
    expect(await riskInTile(other, path, mine.id)).toBe('red')
    // Replaying again: streaming, the age figure only while it is behind.
    const again = (await (await fetch(`${s.url}/api/ready`)).json()).replica
    expect(again.state).toBe('streaming')
    if (again.lagBytes === 0) expect(again.lagSeconds).toBe(0)
    // Caught up: heavy reads are the replica's again.
    const reads = s.db.reads as ReplicaReads
    await expect.poll(async () => (await reads.pick()) === reads.replica).toBe(true)
  })

  it('a replica stopped mid-way: reads fall back to the primary and come back to the replica once it returns', async (ctx) => {
    // Not with a replica this run may not stop and start (TEST_REPLICA_RUNNING).
    if (!replica?.stop || !replica.start) return ctx.skip()
    const { stop, start } = replica
    const reads = s.db.reads as ReplicaReads
    await stop()
    // A tile not cached yet, an OGC page, a roll-up and an export: all answered (by the primary).
    const [t] = tilesCovering([quiet.lon, quiet.lat, quiet.lon, quiet.lat], 15)
    expect(await riskInTile(commander, `/tiles/households/15/${t.x}/${t.y}.mvt`, quiet.id)).toBe(otherRisk(quiet.risk_level))
    expect((await commander.get(`/ogc/collections/households/items?limit=5&f=json`)).status).toBe(200)
    expect((await commander.get(`/api/units/${mine.village}`)).status).toBe(200)
    const file = await commander.get(`/api/export/households.csv?unit=${mine.village}`)
    expect(file.status).toBe(200)
    expect((await file.text()).split('\n').length).toBeGreaterThan(1)
    expect(await reads.pick()).not.toBe(reads.replica)
    // The process stays ready (reads fall back), and says the replica cannot be reached.
    const ready = await fetch(`${s.url}/api/ready`)
    expect(ready.status).toBe(200)
    expect((await ready.json()).replica).toEqual({ state: 'unreachable', lagBytes: null, lagSeconds: null, replayedAt: null })
    await start()
    // Tried again after 5 s.
    await expect.poll(async () => (await reads.pick()) === reads.replica, { timeout: 20_000 }).toBe(true)
  })
})
