/**
 * npm run rain:replay -- [--speed N] [--file data/storms/zhaoyang-july.json]
 *                        [--url http://localhost:8080] [--user commander] [--password …] [--as-recorded]
 *
 * Plays a storm file in time order — forecasts when they were issued, each
 * hour's readings when the hour ends — through the same ingest code as the
 * API, so before-, during- and after-rain tasks appear as they would live.
 *
 * - DATABASE_URL set (and no --url): straight into that database.
 * - Otherwise: as an HTTP client of the running server (npm start), logged in
 *   as the demo commander. The embedded database belongs to the process that
 *   serves it (pglite-socket runs one backend; a second process's transaction
 *   would interleave with the server's), so the server does the writing.
 *
 * The storm is moved by whole days (the night stays a night) so that it ends
 * before now: readings from the future are refused. --speed N plays N times
 * faster than real time (default 720: an hour of storm every 5 s; 0: no waiting).
 */
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { config, projectRoot } from '../api/config.ts'
import { connect } from '../api/db/connect.ts'
import { ingestForecasts, ingestReadings, ingestStations, type RainActor } from '../api/rain/ingest.ts'
import { timeline, type Storm } from '../data/storms/build.ts'

const { values } = parseArgs({
  options: {
    speed: { type: 'string', default: '720' },
    file: { type: 'string', default: path.join(projectRoot, 'data', 'storms', 'zhaoyang-july.json') },
    url: { type: 'string' },
    user: { type: 'string', default: process.env.GRIDWATCH_USER ?? 'commander' },
    password: { type: 'string', default: process.env.GRIDWATCH_PASSWORD },
    'as-recorded': { type: 'boolean', default: false },
  },
})
const speed = Number(values.speed)
if (!Number.isFinite(speed) || speed < 0) {
  console.error(`--speed 须为非负数 / --speed must be a number ≥ 0, got ${values.speed}`)
  process.exit(2)
}
const storm = JSON.parse(fs.readFileSync(values.file!, 'utf8')) as Storm

const DAY = 86400_000
const lastEnd = Math.max(...storm.hours.map((h) => Date.parse(h.hour))) + 3600_000
const shift = values['as-recorded'] ? 0 : Math.floor((Date.now() - lastEnd) / DAY) * DAY
const steps = timeline(storm, shift)
const rows = <T extends object>(xs: T[]) => xs.map((v, i) => ({ row: i + 1, values: v as Record<string, unknown> }))

/** The three ingest calls, either in-process or over HTTP. */
interface Sink {
  stations(s: Storm['stations']): Promise<unknown>
  forecasts(f: Storm['forecasts']): Promise<{ tasks: { before: number } }>
  readings(r: { station: string; hour: string; mm: number }[]): Promise<{ tasks: { during: number; after: number } }>
  close(): Promise<void>
}

async function directSink(): Promise<Sink> {
  const db = await connect({ quiet: true })
  const actor = { id: null, username: 'cli:rain-replay', role: 'admin' } as unknown as RainActor
  return {
    stations: (s) => ingestStations(db.sql, actor, rows(s)),
    forecasts: (f) => ingestForecasts(db.sql, actor, rows(f)),
    readings: (r) => ingestReadings(db.sql, actor, rows(r)),
    close: () => db.close(),
  }
}

async function httpSink(base: string): Promise<Sink> {
  const password = values.password ?? (await import('../api/auth/demo-accounts.ts')).DEMO_PASSWORD
  const login = await fetch(`${base}/api/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: values.user, password }),
  }).catch((e: Error) => {
    throw new Error(`连不上 ${base}，请先 npm start / cannot reach ${base}; start the server first (npm start): ${e.message}`)
  })
  if (login.status !== 200) throw new Error(`登录失败 / login as ${values.user} failed (${login.status}): ${await login.text()}`)
  const cookie = (login.headers.get('Set-Cookie') ?? '').split(';')[0]
  const { csrfToken } = (await login.json()) as { csrfToken: string }
  const post = async (route: string, body: unknown) => {
    const r = await fetch(`${base}${route}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', Cookie: cookie, 'X-CSRF-Token': csrfToken }, body: JSON.stringify(body),
    })
    if (r.status !== 200) throw new Error(`${route}: ${r.status} ${await r.text()}`)
    return r.json()
  }
  return {
    stations: (s) => post('/api/rain/stations', s),
    forecasts: (f) => post('/api/rain/forecasts', f),
    readings: (r) => post('/api/rain/readings', r),
    close: async () => {},
  }
}

const direct = !!config.databaseUrl && !values.url
const base = values.url ?? `http://localhost:${config.port}`
const sink = direct ? await directSink() : await httpSink(base)
const local = (iso: string) => new Date(Date.parse(iso) + 8 * 3600_000).toISOString().slice(5, 16).replace('T', ' ')
console.log(`rain:replay: ${storm.name}, ${storm.stations.length} stations, ${storm.hours.length} hours, ${storm.forecasts.length} forecasts → ${direct ? 'DATABASE_URL' : base}`)
console.log(`rain:replay: storm moved by ${shift / DAY} days; speed ${speed || '∞'}× (times are Beijing time)`)
try {
  await sink.stations(storm.stations)
  const totals = { before: 0, during: 0, after: 0 }
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]
    const parts: string[] = []
    if (s.forecasts.length) {
      const r = await sink.forecasts(s.forecasts)
      totals.before += r.tasks.before
      parts.push(`${s.forecasts.length} forecasts (${[...new Set(s.forecasts.map((f) => f.leadHours + 'h'))].join('/')}) → ${r.tasks.before} 雨前 before-rain tasks`)
    }
    if (s.readings.length) {
      const r = await sink.readings(s.readings)
      totals.during += r.tasks.during
      totals.after += r.tasks.after
      const max = Math.max(...s.readings.map((x) => x.mm))
      parts.push(`${s.readings.length} readings (max ${max} mm) → ${r.tasks.during} 雨中 during, ${r.tasks.after} 雨后 after`)
    }
    console.log(`  ${local(s.time)}  ${parts.join('; ')}`)
    const next = steps[i + 1]
    if (next && speed > 0) await new Promise((r) => setTimeout(r, (Date.parse(next.time) - Date.parse(s.time)) / speed))
  }
  console.log(`rain:replay: done — tasks opened: ${totals.before} before, ${totals.during} during, ${totals.after} after (a replay of the same storm adds none)`)
} finally {
  await sink.close()
}
