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
import { projectRoot } from '../core/config.ts'
import { timeline, type Storm } from '../data/storms/build.ts'
import { openRainSink, sinkOptions } from './lib/rain-sink.ts'

const { values } = parseArgs({
  options: {
    speed: { type: 'string', default: '720' },
    file: { type: 'string', default: path.join(projectRoot, 'data', 'storms', 'zhaoyang-july.json') },
    ...sinkOptions,
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
// Straight into DATABASE_URL, or through the running server (scripts/lib/rain-sink.ts).
const sink = await openRainSink({ url: values.url, user: values.user!, password: values.password }, 'rain-replay')
const json = (rows: unknown[]) => ({ type: 'json' as const, text: JSON.stringify(rows) })
const send = {
  stations: (s: Storm['stations']) => sink.send('stations', json(s)),
  forecasts: async (f: Storm['forecasts']) => (await sink.send('forecasts', json(f))) as { tasks: { before: number } },
  readings: async (r: { station: string; hour: string; mm: number }[]) => (await sink.send('readings', json(r))) as { tasks: { during: number; after: number } },
}
const local = (iso: string) => new Date(Date.parse(iso) + 8 * 3600_000).toISOString().slice(5, 16).replace('T', ' ')
console.log(`rain:replay: ${storm.name}, ${storm.stations.length} stations, ${storm.hours.length} hours, ${storm.forecasts.length} forecasts → ${sink.target}`)
console.log(`rain:replay: storm moved by ${shift / DAY} days; speed ${speed || '∞'}× (times are Beijing time)`)
try {
  await send.stations(storm.stations)
  const totals = { before: 0, during: 0, after: 0 }
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]
    const parts: string[] = []
    if (s.forecasts.length) {
      const r = await send.forecasts(s.forecasts)
      totals.before += r.tasks.before
      parts.push(`${s.forecasts.length} forecasts (${[...new Set(s.forecasts.map((f) => f.leadHours + 'h'))].join('/')}) → ${r.tasks.before} 雨前 before-rain tasks`)
    }
    if (s.readings.length) {
      const r = await send.readings(s.readings)
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
