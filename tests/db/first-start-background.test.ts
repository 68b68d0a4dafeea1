/**
 * Issue #17 item 11: `npm start` serves the map as soon as the demo data is in
 * and writes the demo storm's history behind it. On the embedded database that
 * is safe only because the history and the requests share the one connection
 * (db/connect.ts): a burst of tiles of every layer during the writing must get
 * each layer its own features and no error. /api/ready says what is still
 * being written; a stop half-way leaves a mark, and the next start writes the
 * history again from the start, so the demo never keeps half a storm.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { VectorTile } from '@mapbox/vector-tile'
import { PbfReader } from 'pbf'
import { afterAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer, type ServerOptions } from '../../api/server.ts'
import { buildStorm } from '../../data/storms/build.ts'
import { tileLayers } from '../../tiles/registry.ts'
import { tilesCovering } from '../../tiles/tile-math.ts'
import { loginAs } from '../helpers/session.ts'

const COUNTY = '530626'
const pendingFile = (dir: string) => path.join(dir, 'gridwatch-demo-pending')
const pending = (dir: string) => (fs.existsSync(pendingFile(dir)) ? fs.readFileSync(pendingFile(dir), 'utf8') : null)

const dirs: string[] = []
const servers: RunningServer[] = []
afterAll(async () => {
  for (const s of servers) await s.close().catch(() => {})
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})

function start(dataDir: string, extra: Partial<ServerOptions> = {}) {
  return startServer({
    port: 0, databaseUrl: null, dataDir, seedScale: 'test', quiet: true, sweepEveryMs: 3600_000, reportSweepEveryMs: 3600_000,
    demoStorm: (sql) => buildStorm(sql, { county: COUNTY, seed: 5, spacingKm: 5 }),
    ...extra,
  }).then((s) => (servers.push(s), s))
}

const counts = async (s: RunningServer) => (await s.db.sql`
  SELECT (SELECT count(*) FROM live_events)::int AS events, (SELECT count(*) FROM tasks)::int AS tasks,
         (SELECT count(*) FROM rain_events)::int AS storms, (SELECT count(*) FROM evac_status_log)::int AS moves`)[0]

describe('the first start writes the demo storm behind a map that serves', () => {
  let whole: Awaited<ReturnType<typeof counts>>

  it('serves tiles of every layer, each with its own features, while the history is written; then says it is done', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridwatch-first-start-'))
    dirs.push(dir)
    const s = await start(dir, { stormInBackground: true })
    const early = await (await fetch(`${s.url}/api/ready`)).json()
    expect(early).toMatchObject({ ready: true, stage: 'background' })
    expect(early.zh).toContain('暴雨历史')
    expect(pending(dir)).toBe('storm')

    const viewer = await loginAs(s, 'viewer', COUNTY + '000000')
    const [c] = await s.db.sql`SELECT ST_X(label_point) AS lon, ST_Y(label_point) AS lat FROM admin_units WHERE code = ${COUNTY + '000000'}`
    const d = 0.05
    const jobs = [10, 12].flatMap((z) =>
      tilesCovering([c.lon - d, c.lat - d, c.lon + d, c.lat + d], z).flatMap((t) => tileLayers.map((layer) => ({ layer, t }))))
    let rounds = 0
    let features = 0
    // Round after round of every tile at once until the history is in (at least one round beside it).
    let done = false
    void s.background.then(() => (done = true))
    do {
      s.tiles.cache.clear()
      const answers = await Promise.all(jobs.map(async ({ layer, t }) => {
        const r = await viewer.get(`/tiles/${layer.name}/${t.z}/${t.x}/${t.y}.mvt`)
        expect(r.status, `${layer.name} ${t.z}/${t.x}/${t.y}: ${r.status}`).toBe(200)
        return { layer, tile: new VectorTile(new PbfReader(new Uint8Array(await r.arrayBuffer()))) }
      }))
      for (const { layer, tile } of answers) {
        for (const [name, l] of Object.entries(tile.layers)) {
          const fields = layer.layers.find((x) => x.name === name)?.fields
          expect(fields, `${layer.name} holds layer ${name}`).toBeDefined()
          for (let i = 0; i < l.length; i++) {
            expect(Object.keys(l.feature(i).properties).filter((k) => !(k in fields!)), `${layer.name}/${name} feature ${i}`).toEqual([])
            features++
          }
        }
      }
      const unit = await viewer.get(`/api/units/${COUNTY}000000`)
      expect(unit.status).toBe(200)
      rounds++
    } while (!done)
    expect(features).toBeGreaterThan(100)
    expect(rounds).toBeGreaterThan(0)

    await s.background
    expect(await (await fetch(`${s.url}/api/ready`)).json()).toEqual({ ready: true, database: 'embedded' })
    expect(pending(dir)).toBeNull()
    whole = await counts(s)
    expect(whole.events).toBeGreaterThan(100)
    expect(whole.tasks).toBeGreaterThan(0)
    expect(whole.moves).toBeGreaterThan(0)
    await s.close()
  }, 600_000)

  it('a stop half-way through the history leaves a mark; the next start writes it again from the start, once', async () => {
    expect(whole, 'the first test ran').toBeDefined()
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridwatch-first-start-'))
    dirs.push(dir)
    const s = await start(dir, { stormInBackground: true })
    await expect.poll(async () => (await counts(s)).events, { timeout: 300_000, interval: 200 }).toBeGreaterThan(0)
    await s.close()
    expect(pending(dir)).toBe('storm')
    const half = await start(dir, { stormInBackground: false })
    expect(pending(dir)).toBeNull()
    expect(await counts(half)).toEqual(whole)
    await half.close()
  }, 600_000)
})
