/**
 * Export benchmark: every household of the database (the whole city on a
 * `--scale full` seed) in each format, through GET /api/export, as a
 * throw-away planner (names masked, as most exports will be). Each format runs
 * in a fresh process so that its peak RSS is its own; for GeoPackage and
 * Shapefile the peak of the ogr2ogr child is read from /proc as well.
 * Needs DATABASE_URL. Writes bench/export.md (or --out).
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { cliActor, createAccount } from '../api/auth/accounts.ts'
import { projectRoot } from '../core/config.ts'
import { writeTx } from '../db/write.ts'
import { startServer } from '../api/server.ts'

const FORMATS = ['csv', 'geojson', 'xlsx', 'gpkg', 'shp.zip'] as const
const { values } = parseArgs({ options: { out: { type: 'string' }, one: { type: 'string' }, formats: { type: 'string' } } })
if (!process.env.DATABASE_URL) {
  console.error('bench:export needs DATABASE_URL (a PostGIS seeded with npm run seed -- --scale full)')
  process.exit(2)
}

/** Peak resident memory (VmHWM, kB) of our ogr2ogr children so far. */
function childPeaks(seen: Map<number, number>) {
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8')
      const m = /^\d+ \((.*)\) \S (\d+)/.exec(stat)
      if (!m || m[1] !== 'ogr2ogr' || Number(m[2]) !== process.pid) continue
      const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${d}/status`, 'utf8'))
      if (hwm) seen.set(Number(d), Math.max(seen.get(Number(d)) ?? 0, Number(hwm[1])))
    } catch {
      // the process ended between the listing and the read
    }
  }
}

async function one(format: string) {
  const s = await startServer({ port: 0, seedScale: false, quiet: true })
  const [city] = await s.db.sql`SELECT code FROM admin_units WHERE level = 'city'`
  const [{ n }] = await s.db.sql`SELECT count(*)::int AS n FROM households`
  const password = `Bench-${randomBytes(9).toString('base64url')}`
  const username = `bench-${randomBytes(4).toString('hex')}`
  const acc = await createAccount(s.db.sql, { username, displayName: '基准测试', role: 'planner', unitCode: city.code as string, password }, cliActor('bench'))
  try {
    const login = await fetch(`${s.url}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password }) })
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]
    const rssBefore = process.memoryUsage().rss
    let peakRss = rssBefore
    const ogr = new Map<number, number>()
    const timer = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss)
      if (format === 'gpkg' || format === 'shp.zip') childPeaks(ogr)
    }, 100)
    const t0 = process.hrtime.bigint()
    // identity: the bytes as made, not gzip work in the same process.
    const r = await fetch(`${s.url}/api/export/households.${format}?unit=${city.code}`, { headers: { Cookie: cookie, 'Accept-Encoding': 'identity' } })
    if (r.status !== 200) throw new Error(`export ${format}: ${r.status} ${await r.text()}`)
    let bytes = 0
    let firstByteMs = 0
    for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
      if (!bytes) firstByteMs = Number(process.hrtime.bigint() - t0) / 1e6
      bytes += chunk.length
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9
    clearInterval(timer)
    const result = {
      format, households: n, seconds, firstByteSeconds: firstByteMs / 1000, mb: bytes / 1e6,
      peakRssMb: Math.max(peakRss, process.resourceUsage().maxRSS * 1024) / 1e6, rssBeforeMb: rssBefore / 1e6,
      ogr2ogrPeakMb: ogr.size ? Math.max(...ogr.values()) / 1000 : null,
    }
    console.log(JSON.stringify(result))
  } finally {
    await writeTx(s.db.sql, cliActor('bench'), async (tx) => void (await tx`DELETE FROM users WHERE id = ${acc.id as number}`))
    await s.close()
  }
}

if (values.one) {
  await one(values.one)
} else {
  const formats = values.formats ? values.formats.split(',') : [...FORMATS]
  const results: Record<string, number | string | null>[] = []
  for (const f of formats) {
    console.log(`bench:export ${f} …`)
    const p = spawnSync(process.execPath, [...process.execArgv, import.meta.filename, '--one', f], { encoding: 'utf8', env: process.env, stdio: ['ignore', 'pipe', 'inherit'] })
    if (p.status !== 0) throw new Error(`bench:export ${f} failed (exit ${p.status}): ${p.stdout}`)
    const r = JSON.parse(p.stdout.trim().split('\n').at(-1)!)
    console.log(`  ${r.seconds.toFixed(1)} s, ${r.mb.toFixed(0)} MB, peak RSS ${r.peakRssMb.toFixed(0)} MB${r.ogr2ogrPeakMb ? `, ogr2ogr ${r.ogr2ogrPeakMb.toFixed(0)} MB` : ''}`)
    results.push(r)
  }
  const fmt = (x: unknown, d = 1) => (typeof x === 'number' ? x.toFixed(d) : '–')
  const md = [
    '# Export benchmark',
    '',
    `\`npm run bench:export\` on ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`,
    `All ${results[0]?.households} households, \`GET /api/export/households.{format}?unit=<city>\` as a planner; one server process per format.`,
    'Peak RSS is the whole Node process (server and the benchmark client reading the stream), ogr2ogr its own child.',
    '',
    '| format | time (s) | first byte (s) | size (MB) | Node RSS before → peak (MB) | ogr2ogr peak (MB) |',
    '|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.format} | ${fmt(r.seconds)} | ${fmt(r.firstByteSeconds)} | ${fmt(r.mb, 0)} | ${fmt(r.rssBeforeMb, 0)} → ${fmt(r.peakRssMb, 0)} | ${fmt(r.ogr2ogrPeakMb, 0)} |`),
    '',
  ].join('\n')
  const out = values.out ?? path.join(projectRoot, 'bench', 'export.md')
  fs.writeFileSync(out, md)
  console.log(`written ${out}`)
}
