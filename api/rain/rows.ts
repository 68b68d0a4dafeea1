import { HttpError } from '../../core/errors.ts'
import { parseCsv } from './csv.ts'
import { MAX_ROWS, type RawRow } from './ingest.ts'

/** What rain comes in as; each has its POST route and ingest function. */
export const rainKinds = ['stations', 'readings', 'forecasts', 'warnings'] as const
export type RainKind = (typeof rainKinds)[number]

/** The one CSV rain input: hourly readings. */
export const READING_COLUMNS = ['station', 'hour', 'mm'] as const

/**
 * The rows of a rain body: a JSON array, or an object holding the array
 * under the kind's name; readings also as CSV (header station,hour,mm). One
 * function for the POST routes and the file importer (scripts/rain-import.ts),
 * so a file is checked exactly as a request is: same messages, same row numbers
 * (a JSON element's index + 1, a CSV line's number).
 */
export function rowsFromBody(text: string, type: 'json' | 'csv', kind: RainKind): RawRow[] {
  if (type === 'csv') {
    if (kind !== 'readings') throw new HttpError(415, 'json_required', '只有雨量数据可用 CSV；其余须为 JSON', 'only readings come as CSV; the rest must be JSON')
    return parseCsv(text, READING_COLUMNS).map((r) => ({ row: r.line, values: r.values }))
  }
  let raw: unknown
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''))
  } catch {
    throw new HttpError(400, 'bad_json', '请求体不是有效的 JSON', 'the body is not valid JSON')
  }
  const list = Array.isArray(raw) ? raw : raw && typeof raw === 'object' ? (raw as Record<string, unknown>)[kind] : undefined
  if (!Array.isArray(list)) throw new HttpError(400, 'bad_body', `请求体须为数组或 {"${kind}": [...]}`, `the body must be an array or {"${kind}": [...]}`)
  if (list.length > MAX_ROWS) throw new HttpError(413, 'too_many_rows', `一次最多 ${MAX_ROWS} 行`, `at most ${MAX_ROWS} rows per request`)
  return list.map((values, i) => {
    if (!values || typeof values !== 'object' || Array.isArray(values)) {
      throw new HttpError(400, 'bad_rows', `第 ${i + 1} 行须为对象`, `row ${i + 1} must be an object`)
    }
    return { row: i + 1, values: values as Record<string, unknown> }
  })
}
