import { parse } from 'csv-parse/sync'
import { HttpError } from '../../core/errors.ts'

export interface CsvRow { line: number; values: Record<string, string> }

/**
 * Station readings as CSV (comma-separated, quotes as RFC 4180 has them, a
 * quoted field may hold a line break, a header row). Returns the rows as
 * objects keyed by the header, each with the line it starts on, or a 400 when
 * the columns are not exactly the expected ones or the quoting is broken.
 */
export function parseCsv(text: string, expected: readonly string[]): CsvRow[] {
  let records: { record: string[]; info: { lines: number } }[]
  try {
    records = parse(text, { bom: true, info: true, record_delimiter: ['\r\n', '\n', '\r'], relax_column_count: true, skip_empty_lines: true, trim: true }) as unknown as typeof records
  } catch (err) {
    const where = (err as { lines?: number }).lines
    throw new HttpError(400, 'bad_csv', `CSV 格式有误（第 ${where ?? '?'} 行附近，引号不成对？）`, `the CSV is malformed (near line ${where ?? '?'}: unbalanced quotes?)`)
  }
  const header = (records[0]?.record ?? []).map((h) => h.toLowerCase())
  const missing = expected.filter((c) => !header.includes(c))
  const extra = header.filter((c) => !expected.includes(c))
  if (missing.length || extra.length || header.length !== expected.length) {
    throw new HttpError(400, 'bad_columns',
      `CSV 列应为 ${expected.join(',')}，收到 ${header.join(',') || '（空）'}${missing.length ? `；缺少 ${missing.join(',')}` : ''}${extra.length ? `；多余 ${extra.join(',')}` : ''}`,
      `CSV columns must be ${expected.join(',')}; got ${header.join(',') || '(none)'}${missing.length ? `; missing ${missing.join(',')}` : ''}${extra.length ? `; unexpected ${extra.join(',')}` : ''}`)
  }
  // A record's number of lines counts the line breaks inside its quotes: its first line is where the previous one ended, plus one.
  let ended = records[0].info.lines
  return records.slice(1).flatMap(({ record, info }) => {
    const start = firstLine(text, ended, info.lines)
    ended = info.lines
    const values: Record<string, string> = {}
    header.forEach((h, j) => (values[h] = record[j] ?? ''))
    if (record.length !== header.length) values.__columns = String(record.length)
    return [{ line: start, values }]
  })
}

/** The first non-empty line after `after`, up to `last` (skipped empty lines lie between records). */
function firstLine(text: string, after: number, last: number): number {
  const lines = text.split(/\r?\n/)
  for (let n = after + 1; n < last; n++) if (lines[n - 1]?.trim()) return n
  return last
}
