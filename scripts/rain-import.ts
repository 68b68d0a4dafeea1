/**
 * npm run rain:import -- FILE [--kind readings|stations|forecasts|warnings]
 *                        [--url http://localhost:8080] [--user commander] [--password …]
 *
 * Imports one file of rain input through the same checks and ingest code as
 * POST /api/rain/{kind}: readings as CSV (header station,hour,mm) or JSON,
 * stations / forecasts / warnings as JSON (an array, or {"kind": [...]}, the
 * request bodies of api/README.md). The whole file is one transaction: any bad
 * row and nothing is written; the errors name every bad row (CSV: its line).
 *
 * Where to: DATABASE_URL directly, or without it (the embedded database) as
 * an HTTP client of the running server — see scripts/lib/rain-sink.ts.
 *
 * Exit: 0 imported; 1 refused (bad rows, login, server unreachable); 2 usage.
 */
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { HttpError } from '../core/errors.ts'
import { rainKinds, type RainKind } from '../api/rain/rows.ts'
import { openRainSink, sinkOptions, type RainBody } from './lib/rain-sink.ts'

const usage = `npm run rain:import -- FILE [--kind ${rainKinds.join('|')}] [--url URL] [--user NAME] [--password P]
  FILE: .csv (readings: header station,hour,mm) or .json (an array, or {"readings"|"stations"|"forecasts"|"warnings": [...]})`

const usageError = (zh: string, en: string): never => {
  console.error(`${zh}\n${en}\n\n${usage}`)
  process.exit(2)
}

let parsed
try {
  parsed = parseArgs({ allowPositionals: true, options: { kind: { type: 'string' }, help: { type: 'boolean' }, ...sinkOptions } })
} catch (e) {
  usageError('参数有误', (e as Error).message)
}
const { values, positionals } = parsed!
if (values.help) {
  console.log(usage)
  process.exit(0)
}
if (positionals.length !== 1) usageError('请给出一个文件', `give one file${positionals.length ? `, got ${positionals.length}` : ''}`)
const file = positionals[0]
if (values.kind !== undefined && !(rainKinds as readonly string[]).includes(values.kind)) {
  usageError(`--kind 须为 ${rainKinds.join('、')}`, `--kind must be one of ${rainKinds.join(', ')}, got "${values.kind}"`)
}

/** Refused input or a refused request: the reason in both languages, exit 1. */
function refuse(e: unknown): never {
  if (e instanceof HttpError) console.error(`rain:import: 未导入 / not imported (${e.code})\n${e.zh}\n${e.en}`)
  else console.error(`rain:import: 失败 / failed: ${(e as Error).message}`)
  process.exit(1)
}

let text = ''
try {
  text = fs.readFileSync(file, 'utf8')
} catch (e) {
  usageError(`读不了文件 ${file}`, `cannot read ${file}: ${(e as Error).message}`)
}
const body: RainBody = { type: formatOf(file, text), text }
const kind = (values.kind as RainKind | undefined) ?? kindOf(body)
if (body.type === 'csv' && kind !== 'readings') {
  usageError('只有雨量数据（readings）可用 CSV；雨量站、预报、预警须为 JSON', `only readings come as CSV; ${kind} must be JSON`)
}

/** By the name's extension, else by the first character: JSON starts with [ or {. */
function formatOf(name: string, content: string): 'json' | 'csv' {
  const ext = path.extname(name).toLowerCase()
  if (ext === '.json' || ext === '.geojson') return 'json'
  if (ext === '.csv') return 'csv'
  return /^\uFEFF?\s*[[{]/.test(content) ? 'json' : 'csv'
}

/**
 * Without --kind: CSV is readings; JSON says it by its key ({"stations": […]})
 * or by the fields of its first row. The ingest checks every row whatever the guess.
 */
function kindOf(b: RainBody): RainKind {
  if (b.type === 'csv') return 'readings'
  let raw: unknown
  try {
    raw = JSON.parse(b.text.replace(/^\uFEFF/, ''))
  } catch {
    return refuse(new HttpError(400, 'bad_json', `${file} 不是有效的 JSON`, `${file} is not valid JSON`))
  }
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    const keys = rainKinds.filter((k) => k in raw!)
    if (keys.length === 1) return keys[0]
  }
  const first = Array.isArray(raw) ? raw[0] : undefined
  if (first && typeof first === 'object') {
    const has = (k: string) => k in first
    if (has('station') && has('mm')) return 'readings'
    if (has('leadHours')) return 'forecasts'
    if (has('colour')) return 'warnings'
    if (has('lon') && has('lat')) return 'stations'
  }
  return usageError('看不出文件是哪类数据，请加 --kind', `cannot tell what ${file} holds: add --kind ${rainKinds.join('|')}`)
}

/** One line on what happened, from the ingest's answer. */
function summary(k: RainKind, r: Record<string, unknown>): string {
  const n = (key: string) => Number(r[key] ?? 0)
  const tasks = (r.tasks ?? {}) as Record<string, number>
  const opened = Object.entries(tasks).map(([phase, count]) => `${count} ${phase}`).join(', ')
  switch (k) {
    case 'stations': return `${n('received')} stations: ${n('inserted')} new, ${n('updated')} updated`
    case 'readings': return `${n('received')} readings: ${n('inserted')} new, ${n('corrected')} corrected, ${n('unchanged')} unchanged; 三查 tasks opened: ${opened}`
    case 'forecasts': return `${n('received')} forecasts: ${n('changed')} new or changed, ${n('unchanged')} unchanged; 三查 tasks opened: ${opened}`
    case 'warnings': return `${n('received')} warnings: ${n('inserted')} new, ${n('unchanged')} already known; 三查 tasks opened: ${opened}`
  }
}

let sink
try {
  sink = await openRainSink({ url: values.url, user: values.user!, password: values.password }, 'rain-import')
  console.log(`rain:import: ${file} (${kind}, ${body.type.toUpperCase()}) → ${sink.target}`)
  const result = await sink.send(kind, body)
  console.log(`rain:import: 已导入 / imported — ${summary(kind, result)}`)
} catch (e) {
  await sink?.close()
  refuse(e)
}
await sink.close()
