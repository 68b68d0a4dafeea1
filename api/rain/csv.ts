import { HttpError } from '../errors.ts'

/**
 * A small CSV reader for station readings (comma-separated, optional quotes,
 * a header row). Returns the rows as objects keyed by the header, each with
 * its line number, or a 400 when the columns are not exactly the expected ones.
 */
export function parseCsv(text: string, expected: readonly string[]): { line: number; values: Record<string, string> }[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/)
  const header = splitLine(lines[0] ?? '').map((h) => h.trim().toLowerCase())
  const missing = expected.filter((c) => !header.includes(c))
  const extra = header.filter((c) => !expected.includes(c))
  if (missing.length || extra.length || header.length !== expected.length) {
    throw new HttpError(400, 'bad_columns',
      `CSV 列应为 ${expected.join(',')}，收到 ${header.join(',') || '（空）'}${missing.length ? `；缺少 ${missing.join(',')}` : ''}${extra.length ? `；多余 ${extra.join(',')}` : ''}`,
      `CSV columns must be ${expected.join(',')}; got ${header.join(',') || '(none)'}${missing.length ? `; missing ${missing.join(',')}` : ''}${extra.length ? `; unexpected ${extra.join(',')}` : ''}`)
  }
  const rows: { line: number; values: Record<string, string> }[] = []
  for (let i = 1; i < lines.length; i++) {
    if (lines[i].trim() === '') continue
    const cells = splitLine(lines[i])
    const values: Record<string, string> = {}
    header.forEach((h, j) => (values[h] = (cells[j] ?? '').trim()))
    if (cells.length !== header.length) values.__columns = String(cells.length)
    rows.push({ line: i + 1, values })
  }
  return rows
}

function splitLine(line: string): string[] {
  const out: string[] = []
  let cur = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') (cur += '"'), i++
      else if (ch === '"') quoted = false
      else cur += ch
    } else if (ch === '"') quoted = true
    else if (ch === ',') out.push(cur), (cur = '')
    else cur += ch
  }
  out.push(cur)
  return out
}
