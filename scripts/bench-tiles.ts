/**
 * Tile benchmark: a fixed tile set over zooms 5–16 (the densest tiles and the
 * county seats), cold (cache cleared) and cached, over loopback HTTP, with the
 * raw SQL for the same tile timed in the same run as the reference.
 * Writes bench/tiles.md (or --out). Uses DATABASE_URL, else the embedded database.
 */
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { fork } from 'node:child_process'
import type { ClientReply, ClientRequest } from './bench/http-client.ts'
import { projectRoot } from '../api/config.ts'
import { startServer } from '../api/server.ts'
import { benchSession } from './bench/session.ts'
import { tileLayers, tileLayerByName } from '../tiles/registry.ts'
import { renderTile } from '../tiles/service.ts'
import { tilesCovering, type TileCoord } from '../tiles/tile-math.ts'

const { values } = parseArgs({
  options: { out: { type: 'string' }, requests: { type: 'string', default: '20000' }, concurrency: { type: 'string', default: '32' } },
})

const server = await startServer({ port: 0, seedScale: 'demo' })
const { sql } = server.db
const encoder = server.tiles.encoder
console.log(`bench: ${server.db.kind} database, encoder ${encoder}`)

// The fixed set: per zoom, the tiles holding the 3 densest grids and every county's label point.
const points = await sql<{ lon: number; lat: number }[]>`
  (SELECT ST_X(g.label_point) AS lon, ST_Y(g.label_point) AS lat FROM grids g
   JOIN household_rollups r ON r.level = 'grid' AND r.unit_id = g.id ORDER BY r.households DESC, g.id LIMIT 3)
  UNION ALL
  (SELECT ST_X(a.label_point), ST_Y(a.label_point) FROM admin_units a
   JOIN household_rollups r ON r.level = 'county' AND r.unit_id = a.id WHERE r.households > 0 ORDER BY a.code)`
const requests: { layer: string; t: TileCoord }[] = []
const seen = new Set<string>()
for (let z = 5; z <= 16; z++) {
  for (const p of points) {
    const [t] = tilesCovering([p.lon, p.lat, p.lon, p.lat], z)
    for (const layer of tileLayers) {
      if (z < layer.minzoom || z > layer.maxzoom) continue
      const key = `${layer.name}/${z}/${t.x}/${t.y}`
      if (!seen.has(key)) {
        seen.add(key)
        requests.push({ layer: layer.name, t })
      }
    }
  }
}
console.log(`bench: ${requests.length} tiles over zooms 5–16`)

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}
const url = (r: { layer: string; t: TileCoord }) => `${server.url}/tiles/${r.layer}/${r.t.z}/${r.t.x}/${r.t.y}.mvt`

// fork() passes on tsx's loader (process.execArgv), which worker threads do not get.
const session = await benchSession(server)
const client = fork(new URL('./bench/http-client.ts', import.meta.url), [], { env: { ...process.env, BENCH_COOKIE: session.cookie } })
let waiting: { resolve(m: ClientReply): void; reject(e: Error): void } | undefined
client.on('message', (m: ClientReply) => waiting?.resolve(m))
client.on('exit', (code) => waiting?.reject(new Error(`benchmark client exited with code ${code}`)))
function ask<T extends ClientReply['type']>(msg: ClientRequest & { type: T }): Promise<Extract<ClientReply, { type: T }>> {
  return new Promise((resolve, reject) => {
    waiting = { resolve: (m) => resolve(m as Extract<ClientReply, { type: T }>), reject }
    client.send(msg)
  })
}

// Warm the database's own caches once so that cold means "tile cache cold", not "disk cold".
for (const r of requests) await ask({ type: 'one', url: url(r) })

interface Row { z: number; http: number; sql: number; bytes: number; gzip: number }
const median = (xs: number[]) => pct(xs, 50)
const ROUNDS = 3
const rows: Row[] = []
for (const r of requests) {
  // Each tile ROUNDS times, alternating which of the two goes first, so that
  // neither always finds the database's buffers freshly warmed by the other.
  const https: number[] = []
  const sqls: number[] = []
  let bytes = 0
  let gzip = 0
  for (let round = 0; round < ROUNDS; round++) {
    const steps = [
      async () => {
        server.tiles.cache.clear()
        const res = await ask({ type: 'one', url: url(r) })
        if (res.status !== 200) throw new Error(`${url(r)} → ${res.status}`)
        https.push(res.ms)
        gzip = res.bytes
      },
      async () => {
        const t1 = performance.now()
        const raw = await renderTile(server.db, tileLayerByName.get(r.layer)!, r.t, encoder)
        sqls.push(performance.now() - t1)
        bytes = raw.length
      },
    ]
    if (round % 2) steps.reverse()
    for (const step of steps) await step()
  }
  rows.push({ z: r.t.z, http: median(https), sql: median(sqls), bytes, gzip })
}

// Cached: every tile in the cache, then many concurrent clients over loopback.
for (const r of requests) await ask({ type: 'one', url: url(r) })
// The transport alone: one client, cached tiles, sequential.
const transport: number[] = []
for (const r of requests) transport.push((await ask({ type: 'one', url: url(r) })).ms)
const total = Number(values.requests)
const conc = Number(values.concurrency)
const load = await ask({ type: 'load', urls: requests.map(url), total, concurrency: conc })
if (load.failed) throw new Error(`${load.failed} of ${total} cached requests failed`)
const cachedPerSec = total / load.seconds
client.removeAllListeners('exit')
client.kill()
await session.end()

const byZoom = new Map<number, Row[]>()
for (const r of rows) byZoom.set(r.z, [...(byZoom.get(r.z) ?? []), r])
const f = (x: number) => x.toFixed(1)
const ratioSum = (rs: Row[]) => (rs.reduce((a, r) => a + r.http, 0) / rs.reduce((a, r) => a + r.sql, 0)).toFixed(2)
const lines = [
  `# Tile benchmark`,
  '',
  `Run ${new Date().toISOString()} on ${server.db.kind} (${encoder} encoder), ${(await sql`SELECT count(*)::int AS n FROM households`)[0].n} households,`,
  `${requests.length} tiles (${tileLayers.length} layers, zooms 5–16: the 3 densest grids and each seeded county's label point).`,
  'Cold = tile cache cleared before each request (database warm); "SQL" = the same tile made directly',
  `(${encoder === 'st_asmvt' ? 'raw ST_AsMVT query' : 'feature query + JS encoder'}) in the same run; ratio p50 = p50 of per-tile HTTP / SQL;`,
  `"ratio Σ" = total HTTP time / total SQL time (weights tiles by cost); each tile timed ${ROUNDS}× in alternating order, medians kept.`,
  'The HTTP client runs in its own process (node:http, keep-alive).',
  '',
  '| zoom | tiles | HTTP cold p50 ms | p95 ms | max ms | SQL p50 ms | ratio p50 | ratio Σ | overhead p50 ms | max bytes | max gzip bytes |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
  ...[...byZoom.entries()].map(([z, rs]) =>
    `| ${z} | ${rs.length} | ${f(pct(rs.map((r) => r.http), 50))} | ${f(pct(rs.map((r) => r.http), 95))} | ${f(Math.max(...rs.map((r) => r.http)))} | ${f(pct(rs.map((r) => r.sql), 50))} | ${pct(rs.map((r) => r.http / r.sql), 50).toFixed(2)} | ${ratioSum(rs)} | ${f(pct(rs.map((r) => r.http - r.sql), 50))} | ${Math.max(...rs.map((r) => r.bytes))} | ${Math.max(...rs.map((r) => r.gzip))} |`),
  `| all | ${rows.length} | ${f(pct(rows.map((r) => r.http), 50))} | ${f(pct(rows.map((r) => r.http), 95))} | ${f(Math.max(...rows.map((r) => r.http)))} | ${f(pct(rows.map((r) => r.sql), 50))} | ${pct(rows.map((r) => r.http / r.sql), 50).toFixed(2)} | ${ratioSum(rows)} | ${f(pct(rows.map((r) => r.http - r.sql), 50))} | ${Math.max(...rows.map((r) => r.bytes))} | ${Math.max(...rows.map((r) => r.gzip))} |`,
  '',
  `Transport alone (one client, cached tiles, sequential): p50 ${f(pct(transport, 50))} ms, p95 ${f(pct(transport, 95))} ms.`,
  '',
  `Cached: ${total} requests, ${conc} concurrent clients over loopback HTTP (client in its own process, node:http keep-alive): **${cachedPerSec.toFixed(0)} tiles/s**.`,
  '',
]
const out = values.out ?? path.join(projectRoot, 'bench', 'tiles.md')
fs.mkdirSync(path.dirname(out), { recursive: true })
fs.writeFileSync(out, lines.join('\n'))
console.log(lines.join('\n'))
await server.close()
