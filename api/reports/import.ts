/**
 * Problem reports by import (issue #20): a duty desk's call log or another
 * system's list, as CSV (UTF-8 or GBK, as Excel saves it), each row filed as
 * the importer files one by hand (api/reports/file.ts: type, urgency, place in
 * a grid of the importer's area, clock started on arrival). All rows are
 * checked first; one bad row and nothing is written, every bad row named.
 * A dry run answers what would be filed and writes nothing.
 */
import { parse } from 'csv-parse/sync'
import { z } from 'zod'
import { urgencies, type Urgency } from '../../core/rules/escalation.ts'
import type { SessionUser } from '../auth/guard.ts'
import type { Sql } from '../../db/connect.ts'
import { writeTx } from '../../db/write.ts'
import { HttpError } from '../../core/errors.ts'
import { decodeText } from '../ledger-import/decode.ts'
import { fileBody, fileReportIn, mustMay } from './file.ts'
import { loadRules } from './rules.ts'

export const MAX_IMPORT_ROWS = 2000

export const importBody = z.object({
  /** The file's bytes as base64 (a CSV as Excel or a system saves it). */
  file: z.string().max(8_000_000).regex(/^[A-Za-z0-9+/=\s]*$/, 'base64'),
  dryRun: z.boolean().default(true),
}).strict()

/** The columns, by the headers a duty desk writes (Chinese first) and our own export's names. */
const headers: Record<string, string[]> = {
  type: ['类型', '问题类型', 'type', 'type_name'],
  urgency: ['紧急程度', '紧急', 'urgency'],
  lng: ['经度', 'lon', 'lng', 'longitude', 'x'],
  lat: ['纬度', 'lat', 'latitude', 'y'],
  note: ['说明', '情况说明', '内容', 'note'],
  at: ['时间', '发现时间', '来电时间', 'reported_at', 'at'],
  caller: ['来电人', '报告人', 'caller', 'caller_name'],
  phone: ['电话', '来电电话', 'caller_phone', 'phone'],
}
const urgencyWords: Record<string, Urgency> = { 一般: 'normal', 紧急: 'urgent', 特急: 'critical' }

interface RowError { row: number; zh: string; en: string }

/** A time as people write it: ISO 8601, or "2026-07-14 08:30" (Beijing time). */
function readTime(v: string): string | null {
  if (!v) return null
  const local = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(v)
  const d = local
    ? new Date(`${local[1]}-${local[2].padStart(2, '0')}-${local[3].padStart(2, '0')}T${local[4].padStart(2, '0')}:${local[5]}:${local[6] ?? '00'}+08:00`)
    : new Date(v)
  return Number.isNaN(d.getTime()) || !/\d{4}/.test(v) ? null : d.toISOString()
}

export async function importReports(sql: Sql, user: SessionUser, input: z.infer<typeof importBody>, now: Date) {
  mustMay(user, 'report.file')
  const { text, errors: decodeErrors } = decodeText(Buffer.from(input.file, 'base64'), 'auto')
  if (decodeErrors.length) throw new HttpError(400, 'bad_file', decodeErrors.map((e) => e.zh).join('；'), decodeErrors.map((e) => e.en).join('; '))
  let records: Record<string, string>[]
  try {
    records = parse(text, { columns: (h: string[]) => h.map((x) => x.trim()), bom: true, skip_empty_lines: true, trim: true })
  } catch (e) {
    throw new HttpError(400, 'bad_csv', `CSV 无法读取：${(e as Error).message}`, `the CSV cannot be read: ${(e as Error).message}`)
  }
  if (!records.length) throw new HttpError(400, 'empty_file', '文件中没有上报', 'the file holds no report')
  if (records.length > MAX_IMPORT_ROWS) {
    throw new HttpError(400, 'too_many_rows', `一次最多导入 ${MAX_IMPORT_ROWS} 条，文件有 ${records.length} 条`, `at most ${MAX_IMPORT_ROWS} rows at once; the file has ${records.length}`)
  }
  const columns = Object.keys(records[0])
  const column = (field: string) => columns.find((c) => headers[field].some((h) => h.toLowerCase() === c.toLowerCase()))
  const missing = ['type', 'urgency', 'lng', 'lat'].filter((f) => !column(f))
  if (missing.length) {
    throw new HttpError(400, 'missing_columns', `缺少列：${missing.map((f) => headers[f][0]).join('、')}`, `missing columns: ${missing.join(', ')}`)
  }
  const rules = await loadRules(sql)
  const errors: RowError[] = []
  const bodies: { row: number; body: z.infer<typeof fileBody> }[] = []
  records.forEach((r, i) => {
    const row = i + 2 // the header is row 1, as a spreadsheet numbers them
    const cell = (f: string) => (column(f) ? (r[column(f)!] ?? '').trim() : '')
    const typeCell = cell('type')
    const type = rules.types.find((t) => t.code === typeCell || t.zh === typeCell)?.code ?? typeCell
    const urgency = urgencyWords[cell('urgency')] ?? cell('urgency')
    const at = cell('at')
    const when = at ? readTime(at) : null
    if (at && !when) errors.push({ row, zh: `第 ${row} 行 时间无法识别："${at}"`, en: `row ${row}: unreadable time "${at}"` })
    const body = fileBody.safeParse({
      type, urgency: urgency as Urgency, lng: Number(cell('lng') || NaN), lat: Number(cell('lat') || NaN), note: cell('note'),
      ...(when ? { at: when } : {}),
      ...(cell('caller') ? { caller: { name: cell('caller'), ...(cell('phone') ? { phone: cell('phone') } : {}) } } : {}),
    })
    if (!urgencies.includes(urgency as Urgency)) errors.push({ row, zh: `第 ${row} 行 紧急程度须为 一般、紧急 或 特急`, en: `row ${row}: urgency must be 一般, 紧急 or 特急` })
    else if (!body.success) {
      const what = body.error.issues.map((x) => x.path.join('.')).join(', ')
      errors.push({ row, zh: `第 ${row} 行 有误：${what}`, en: `row ${row}: invalid ${what}` })
    } else if (!at || when) bodies.push({ row, body: body.data })
  })
  const rollback = new Error('dry run')
  const filed: { row: number; gridCode: string }[] = []
  try {
    await writeTx(sql, user, async (tx) => {
      for (const { row, body } of bodies) {
        try {
          const r = await fileReportIn(tx, user, body, now)
          filed.push({ row, gridCode: r.gridCode })
        } catch (e) {
          if (!(e instanceof HttpError)) throw e
          // Its checks come before any write (file.ts): the transaction goes on, so every bad row is named.
          errors.push({ row, zh: `第 ${row} 行 ${e.zh}`, en: `row ${row}: ${e.en}` })
        }
      }
      if (errors.length || input.dryRun) throw rollback
    })
  } catch (e) {
    if (e !== rollback) throw e
    if (errors.length) {
      errors.sort((a, b) => a.row - b.row)
      throw Object.assign(new HttpError(400, 'bad_rows', `${errors.length} 行有误，未导入任何上报：${errors.slice(0, 20).map((x) => x.zh).join('；')}`,
        `${errors.length} bad row(s); nothing imported: ${errors.slice(0, 20).map((x) => x.en).join('; ')}`), { rows: errors })
    }
    return { dryRun: true, rows: filed.length, filed }
  }
  return { dryRun: false, rows: filed.length, filed }
}
