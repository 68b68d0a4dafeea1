/**
 * Tile benchmark: a fixed tile set over zooms 5–16 (the densest tiles and the
 * county seats), cold (cache cleared) and cached, over loopback HTTP, with the
 * raw SQL for the same tile timed in the same run as the reference, and where
 * the rest goes: the same cold tile through Hono alone (no fast path), the
 * tile's gzip + ETag in-process, and a floor — the same client fetching a
 * static buffer of the same size from a bare node:http server.
 * Writes bench/tiles.md (or --out). Uses DATABASE_URL, else the embedded database.
 */
import fs from 'node:fs'
import os from 'node:os'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { getRequestListener } from '@hono/node-server'
import { parseArgs } from 'node:util'
import { fork } from 'node:child_process'
import type { ClientReply, ClientRequest } from './bench/http-client.ts'
import { projectRoot } from '../core/config.ts'
import { startServer } from '../api/server.ts'
import { benchSession } from './bench/session.ts'
import { tileLayers, tileLayerByName } from '../tiles/registry.ts'
import { sessionOf } from '../api/auth/middleware.ts'
import { tileReply } from '../api/routes/tiles.ts'
import { packTile, renderTile } from '../tiles/service.ts'
import { tilesCovering, type TileCoord } from '../tiles/tile-math.ts'

const { values } = parseArgs({
  options: {
    out: { type: 'string' }, requests: { type: 'string', default: '20000' }, concurrency: { type: 'string', default: '32' },
    // A quick look at some layers only (comma-separated names); the report says so.
    layers: { type: 'string' },
    // The tiles of one prefecture only (its code's first 4 digits, e.g. 5306): the province database
    // benched on the same tiles as the city's (bench/province.md).
    within: { type: 'string' },
  },
})
const onlyLayers = values.layers ? new Set(values.layers.split(',')) : undefined
if (values.within !== undefined && !/^[0-9]{2,12}$/.test(values.within)) {
  console.error(`--within 须为行政区划代码前缀 / --within must be the first digits of an area code, got "${values.within}"`)
  process.exit(2)
}
const within = `${values.within ?? ''}%`

const loadAtStart = os.loadavg()[0]
const server = await startServer({ port: 0, seedScale: 'demo' })
const { sql } = server.db
const encoder = server.tiles.encoder
console.log(`bench: ${server.db.kind} database, encoder ${encoder}`)

// The fixed set: per zoom, the tiles holding the 3 densest grids and every county's label point.
const points = await sql<{ lon: number; lat: number }[]>`
  (SELECT ST_X(g.label_point) AS lon, ST_Y(g.label_point) AS lat FROM grids g
   JOIN household_rollups r ON r.level = 'grid' AND r.unit_id = g.id WHERE g.code LIKE ${within}
   ORDER BY r.households DESC, g.id LIMIT 3)
  UNION ALL
  (SELECT ST_X(a.label_point), ST_Y(a.label_point) FROM admin_units a
   JOIN household_rollups r ON r.level = 'county' AND r.unit_id = a.id WHERE r.households > 0 AND a.code LIKE ${within} ORDER BY a.code)`
const requests: { layer: string; t: TileCoord }[] = []
const seen = new Set<string>()
for (let z = 5; z <= 16; z++) {
  for (const p of points) {
    const [t] = tilesCovering([p.lon, p.lat, p.lon, p.lat], z)
    for (const layer of tileLayers) {
      if (z < layer.minzoom || z > layer.maxzoom || (onlyLayers && !onlyLayers.has(layer.name))) continue
      const key = `${layer.name}/${z}/${t.x}/${t.y}`
      if (!seen.has(key)) {
        seen.add(key)
        requests.push({ layer: layer.name, t })
      }
    }
  }
}
console.log(`bench: ${requests.length} tiles over zooms 5–16`)

async function listen(server: Server): Promise<string> {
  // Slow embedded tiles can leave a server idle past Node's default 5 s keep-alive.
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}
// The same app without the fast path in front (api/tile-fast-path.ts), on the same tile service and cache.
const honoOnly = createServer(getRequestListener(server.app.fetch))
const honoUrl = await listen(honoOnly)
// The floor: a bare node:http server answering /N with a static buffer of N
// bytes and the headers of a real tile answer (security headers included), so
// that the floor is the transport of the same answer, and nothing of ours.
const buffers = new Map<number, Buffer>()
let answerHeaders: Record<string, string> = {}
const bare = createServer((req, res) => {
  const n = Number(req.url!.slice(1))
  if (!buffers.has(n)) buffers.set(n, Buffer.alloc(n, 7))
  res.writeHead(200, { ...answerHeaders, 'Content-Length': n })
  res.end(buffers.get(n))
})
const bareUrl = await listen(bare)

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}
const tilePath = (r: { layer: string; t: TileCoord }) => `/tiles/${r.layer}/${r.t.z}/${r.t.x}/${r.t.y}.mvt`
// All three servers by address: "localhost" may try ::1 first.
const fastUrl = `http://127.0.0.1:${server.port}`
const url = (r: { layer: string; t: TileCoord }) => fastUrl + tilePath(r)

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

{
  const probe = await fetch(url(requests[0]), { headers: { cookie: session.cookie, 'accept-encoding': 'gzip' } })
  await probe.arrayBuffer()
  const hopByHop = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'])
  answerHeaders = Object.fromEntries([...probe.headers].filter(([k]) => !hopByHop.has(k)))
}

// Warm the database's own caches once so that cold means "tile cache cold", not "disk cold".
for (const r of requests) await ask({ type: 'one', url: url(r) })

interface Row { layer: string; z: number; http: number; hono: number; sql: number; unprepared: number; pack: number; floor: number; bytes: number; gzip: number }
const median = (xs: number[]) => pct(xs, 50)
const ROUNDS = 5
const rows: Row[] = []
for (const r of requests) {
  // Each tile ROUNDS times, the steps' order rotated each round, so that none
  // always finds the database's buffers freshly warmed by another.
  const t = { http: [] as number[], hono: [] as number[], sql: [] as number[], unprepared: [] as number[], pack: [] as number[], floor: [] as number[] }
  let bytes = 0
  let gzip = 0
  const cold = async (base: string) => {
    server.tiles.cache.clear()
    const res = await ask({ type: 'one', url: base + tilePath(r) })
    if (res.status !== 200) throw new Error(`${base + tilePath(r)} → ${res.status}`)
    gzip = res.bytes
    return res.ms
  }
  // The floor is sized by what the HTTP step sent, so it comes after the first one.
  t.http.push(await cold(fastUrl))
  for (let round = 0; round < ROUNDS; round++) {
    const steps = [
      async () => t.http.push(await cold(fastUrl)),
      async () => t.hono.push(await cold(honoUrl)),
      async () => {
        const t1 = performance.now()
        const raw = await renderTile(server.db, tileLayerByName.get(r.layer)!, r.t, encoder)
        const t2 = performance.now()
        await packTile(raw)
        t.pack.push(performance.now() - t2)
        t.sql.push(t2 - t1)
        bytes = raw.length
      },
      async () => t.floor.push((await ask({ type: 'one', url: `${bareUrl}/${gzip}` })).ms),
      async () => {
        const t1 = performance.now()
        await renderTile(server.db, tileLayerByName.get(r.layer)!, r.t, encoder, { prepare: false })
        t.unprepared.push(performance.now() - t1)
      },
    ]
    for (let i = 0; i < steps.length; i++) await steps[(i + round) % steps.length]()
  }
  t.http.shift() // the sizing request
  rows.push({ layer: r.layer, z: r.t.z, http: median(t.http), hono: median(t.hono), sql: median(t.sql), unprepared: median(t.unprepared), pack: median(t.pack), floor: median(t.floor), bytes, gzip })
}

// Cached: every tile in the cache, then many concurrent clients over loopback.
for (const r of requests) await ask({ type: 'one', url: url(r) })
// The transport alone: one client, cached tiles, sequential.
const transport: number[] = []
for (const r of requests) transport.push((await ask({ type: 'one', url: url(r) })).ms)
// The fast path's own steps in-process, no I/O: what of "rest" is CPU of ours.
const cpuUs = async (f: () => unknown, n = 2000) => {
  const t0 = performance.now()
  for (let i = 0; i < n; i++) await f()
  return ((performance.now() - t0) / n) * 1000
}
const sample = await server.tiles.tile(requests[0].layer, requests[0].t)
const ownCpu = {
  session: await cpuUs(() => sessionOf(server.sessions, session.cookie)),
  lookup: await cpuUs(() => server.tiles.tile(requests[0].layer, requests[0].t)),
  reply: await cpuUs(() => tileReply(sample, undefined, 'gzip')),
}
const total = Number(values.requests)
const conc = Number(values.concurrency)
async function tilesPerSecond(tileUrl: (r: (typeof requests)[number]) => string) {
  const load = await ask({ type: 'load', urls: requests.map(tileUrl), total, concurrency: conc })
  if (load.failed) throw new Error(`${load.failed} of ${total} cached requests failed`)
  return total / load.seconds
}
const cachedPerSec = await tilesPerSecond(url)
const honoPerSec = await tilesPerSecond((r) => honoUrl + tilePath(r))
client.removeAllListeners('exit')
client.kill()
await session.end()
honoOnly.close()
bare.close()

const byZoom = new Map<number, Row[]>()
for (const r of rows) byZoom.set(r.z, [...(byZoom.get(r.z) ?? []), r])
const zooms: [string, Row[]][] = [...[...byZoom].map(([z, rs]): [string, Row[]] => [String(z), rs]), ['all', rows]]
const f = (x: number) => x.toFixed(1)
const f2 = (x: number) => x.toFixed(2)
const p50 = (rs: Row[], v: (r: Row) => number) => pct(rs.map(v), 50)
const sum = (rs: Row[], v: (r: Row) => number) => rs.reduce((a, r) => a + v(r), 0)
const ratioSum = (rs: Row[], v: (r: Row) => number) => f2(sum(rs, v) / sum(rs, (r) => r.sql))
const TARGET = 1.2
// Issue #17: every tile at every zoom made cold within 100 ms and at most 300 KB uncompressed.
const COLD_MS = 100
const MAX_BYTES = 300 * 1024
const overTarget = rows.filter((r) => r.http > COLD_MS || r.bytes > MAX_BYTES)
const byLayerZoom = new Map<string, Row[]>()
for (const r of rows) byLayerZoom.set(`${r.layer}\t${r.z}`, [...(byLayerZoom.get(`${r.layer}\t${r.z}`) ?? []), r])
const layerRows = [...byLayerZoom].sort(([a], [b]) => {
  const [la, za] = a.split('\t'), [lb, zb] = b.split('\t')
  return tileLayers.findIndex((l) => l.name === la) - tileLayers.findIndex((l) => l.name === lb) || Number(za) - Number(zb)
})
const unreachable = rows.filter((r) => (r.sql + r.floor) / r.sql > TARGET)
const lines = [
  `# Tile benchmark`,
  '',
  `Run ${new Date().toISOString()} on ${server.db.kind} (${encoder} encoder), ${(await sql`SELECT count(*)::int AS n FROM households`)[0].n} households,`,
  `${requests.length} tiles (${onlyLayers ? `layers ${[...onlyLayers].join(', ')} only` : `${tileLayers.length} layers`}, zooms 5–16: the 3 densest grids and each seeded county's label point${values.within ? `, within ${values.within}*` : ''}).`,
  'Cold = tile cache cleared before each request (database warm); "SQL" = the same tile made directly',
  `(${encoder === 'st_asmvt' ? 'raw ST_AsMVT query' : 'feature query + JS encoder'}) in the same run, by the server's own function (tiles/service.ts renderTile:`,
  'the same statement, sent the same way — prepared — through the same postgres.js pool); ratio p50 = p50 of per-tile HTTP / SQL;',
  `"ratio Σ" = total HTTP time / total SQL time (weights tiles by cost); each tile timed ${ROUNDS}× with the steps' order rotated, medians kept.`,
  'The HTTP client runs in its own process (node:http, keep-alive).',
  `Machine: ${os.cpus().length} cores, load average ${loadAtStart.toFixed(1)} at the start and ${os.loadavg()[0].toFixed(1)} at the end (a shared machine: compare within one run).`,
  '',
  '| zoom | tiles | HTTP cold p50 ms | p95 ms | max ms | SQL p50 ms | ratio p50 | ratio Σ | floor ratio p50 | overhead p50 ms | max bytes | max gzip bytes |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...zooms.map(([z, rs]) =>
    `| ${z} | ${rs.length} | ${f(p50(rs, (r) => r.http))} | ${f(pct(rs.map((r) => r.http), 95))} | ${f(Math.max(...rs.map((r) => r.http)))} | ${f(p50(rs, (r) => r.sql))} | ${f2(p50(rs, (r) => r.http / r.sql))} | ${ratioSum(rs, (r) => r.http)} | ${f2(p50(rs, (r) => (r.sql + r.floor) / r.sql))} | ${f(p50(rs, (r) => r.http - r.sql))} | ${Math.max(...rs.map((r) => r.bytes))} | ${Math.max(...rs.map((r) => r.gzip))} |`),
  '',
  `**Targets (issue #17): every tile ≤ ${COLD_MS} ms cold and ≤ ${MAX_BYTES / 1024} KB uncompressed** — ${overTarget.length} of ${rows.length} tiles over`
    + (overTarget.length ? `: ${overTarget.sort((a, b) => b.http - a.http).slice(0, 12).map((r) => `${r.layer} z${r.z} (${f(r.http)} ms, ${(r.bytes / 1024).toFixed(0)} KB)`).join(', ')}${overTarget.length > 12 ? ', …' : ''}.` : '.'),
  '',
  '"floor ratio" = (SQL + floor) / SQL per tile: the ratio a server doing nothing but the SQL would reach over this transport.',
  `Target ≤ ${TARGET}×: ${rows.filter((r) => r.http / r.sql <= TARGET).length} of ${rows.length} tiles reach it; for ${unreachable.length} tiles`,
  `(SQL p50 ${f2(p50(unreachable, (r) => r.sql))} ms, max ${f2(Math.max(0, ...unreachable.map((r) => r.sql)))} ms) the floor alone is above it, i.e. SQL < floor / ${f2(TARGET - 1)} ≈ ${f(p50(rows, (r) => r.floor) / (TARGET - 1))} ms at the median floor.`,
  '',
  '## Per layer and zoom',
  '',
  'The tiles of each layer at each zoom: cold HTTP (tile cache cleared) and the SQL reference (the same tile by renderTile), in ms;',
  'bytes uncompressed (what the ≤ 300 KB target is about) and as sent (gzip); "ratio Σ" = total HTTP / total SQL.',
  '',
  '| layer | zoom | tiles | HTTP cold p50 ms | p95 ms | max ms | SQL p50 ms | SQL max ms | ratio Σ | max bytes | max gzip bytes |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
  ...layerRows.map(([k, rs]) => {
    const [layer, z] = k.split('\t')
    return `| ${layer} | ${z} | ${rs.length} | ${f(p50(rs, (r) => r.http))} | ${f(pct(rs.map((r) => r.http), 95))} | ${f(Math.max(...rs.map((r) => r.http)))} | ${f(p50(rs, (r) => r.sql))} | ${f(Math.max(...rs.map((r) => r.sql)))} | ${ratioSum(rs, (r) => r.http)} | ${Math.max(...rs.map((r) => r.bytes))} | ${Math.max(...rs.map((r) => r.gzip))} |`
  }),
  '',
  '## Where the overhead goes',
  '',
  'Per tile, medians; overhead = HTTP cold − SQL. "floor" = the same client fetching a static buffer of the tile\'s size (as sent)',
  'from a bare node:http server in the server\'s process; "gzip+ETag" = the server\'s packTile on the tile, in-process;',
  '"rest" = overhead − floor − gzip+ETag (session check, cache, routing, writing the answer).',
  '"Hono" = the same cold tile through the Hono app alone, without the fast path in front (api/tile-fast-path.ts).',
  '"SQL unprepared" = the same statement sent unprepared (parsed and planned each time), as tiles were made before.',
  '',
  '| zoom | overhead p50 ms | floor p50 ms | gzip+ETag p50 ms | rest p50 ms | Hono cold p50 ms | Hono ratio p50 | Hono ratio Σ | SQL unprepared p50 ms |',
  '|---|---|---|---|---|---|---|---|---|',
  ...zooms.map(([z, rs]) =>
    `| ${z} | ${f2(p50(rs, (r) => r.http - r.sql))} | ${f2(p50(rs, (r) => r.floor))} | ${f2(p50(rs, (r) => r.pack))} | ${f2(p50(rs, (r) => r.http - r.sql - r.floor - r.pack))} | ${f(p50(rs, (r) => r.hono))} | ${f2(p50(rs, (r) => r.hono / r.sql))} | ${ratioSum(rs, (r) => r.hono)} | ${f(p50(rs, (r) => r.unprepared))} |`),
  '',
  `CPU of the fast path's own steps, in-process without I/O (same run, same load): session check ${f(ownCpu.session)} µs,`,
  `cached tile lookup ${f(ownCpu.lookup)} µs, answer headers ${f(ownCpu.reply)} µs.`,
  '',
  `Transport of a cached tile (one client, sequential): p50 ${f(pct(transport, 50))} ms, p95 ${f(pct(transport, 95))} ms.`,
  '',
  `Cached: ${total} requests, ${conc} concurrent clients over loopback HTTP (client in its own process, node:http keep-alive): **${cachedPerSec.toFixed(0)} tiles/s**`,
  `(through Hono alone, same run: ${honoPerSec.toFixed(0)} tiles/s).`,
  '',
]
const out = values.out ?? path.join(projectRoot, 'bench', 'tiles.md')
fs.mkdirSync(path.dirname(out), { recursive: true })
fs.writeFileSync(out, lines.join('\n'))
console.log(lines.join('\n'))
await server.close()
