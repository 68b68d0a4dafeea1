/**
 * An uploaded file as numbered records of text values by column name: CSV
 * (csv-parse; row = the line number, header = 1, as a spreadsheet shows it),
 * XLSX (exceljs; row = the sheet row), GeoJSON (row = feature position from 1)
 * and zipped Shapefile (read by GDAL's ogr2ogr into GeoJSON, which honours the
 * .cpg/.dbf encoding; row = feature position from 1). Points of GeoJSON and
 * Shapefile become `lon`/`lat` values. CSV and XLSX values lose the marks our
 * exports put on them for Excel (core/spreadsheet.ts: the quote before a
 * formula, the tab before a code), so an export comes back in unchanged.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parse } from 'csv-parse/sync'
import ExcelJS from 'exceljs'
import { fromSpreadsheetText } from '../../core/spreadsheet.ts'
import { HttpError } from '../../core/errors.ts'
import { decodeText, type Encoding, type LineError } from './decode.ts'

export type FileFormat = 'csv' | 'xlsx' | 'geojson' | 'shp.zip'

export interface Sheet {
  headers: string[]
  records: { row: number; values: Record<string, string> }[]
  errors: LineError[]
}

export const MAX_ROWS = 200_000

const cell = (v: unknown): string => {
  if (v === null || v === undefined) return ''
  if (v instanceof Date) return v.toISOString()
  // A whole number past 2^53 (a 19-digit code Excel stored as a number) has lost digits: shown as such, not as false digits.
  if (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v)) return v.toExponential()
  if (typeof v === 'object') {
    const o = v as { text?: string; result?: unknown; richText?: { text: string }[] }
    if (o.richText) return o.richText.map((t) => t.text).join('')
    if (o.text !== undefined) return String(o.text)
    if (o.result !== undefined) return cell(o.result)
  }
  return String(v).trim()
}

function readCsv(buf: Buffer, encoding: Encoding): Sheet {
  const dec = decodeText(buf, encoding)
  if (dec.errors.length) return { headers: [], records: [], errors: dec.errors }
  let parsed: { record: string[]; info: { lines: number } }[]
  try {
    parsed = parse(dec.text, { relax_column_count: true, skip_empty_lines: true, info: true, trim: true }) as never
  } catch (e) {
    const line = (e as { lines?: number }).lines ?? 0
    return { headers: [], records: [], errors: [{ row: line, zh: `CSV 格式错误：${(e as Error).message}`, en: `CSV syntax error: ${(e as Error).message}` }] }
  }
  if (!parsed.length) return { headers: [], records: [], errors: [{ row: 1, zh: '文件为空', en: 'the file is empty' }] }
  const headers = parsed[0].record.map((h) => h.trim())
  const errors: LineError[] = []
  const records = parsed.slice(1).map(({ record, info }) => {
    if (record.length !== headers.length) {
      errors.push({ row: info.lines, zh: `第 ${info.lines} 行有 ${record.length} 列，表头有 ${headers.length} 列`, en: `line ${info.lines} has ${record.length} columns, the header ${headers.length}` })
    }
    return { row: info.lines, values: Object.fromEntries(headers.map((h, i) => [h, fromSpreadsheetText(record[i] ?? '')])) }
  })
  return { headers, records, errors }
}

async function readXlsx(buf: Buffer): Promise<Sheet> {
  const book = new ExcelJS.Workbook()
  try {
    await book.xlsx.load(buf as never)
  } catch {
    throw new HttpError(400, 'bad_file', '无法读取该 XLSX 文件（已损坏或不是 Excel 2007+ 格式）', 'this XLSX file cannot be read (damaged, or not Excel 2007+)')
  }
  const sheet = book.worksheets[0]
  if (!sheet) return { headers: [], records: [], errors: [{ row: 1, zh: '工作簿没有工作表', en: 'the workbook has no sheet' }] }
  const headers: string[] = []
  sheet.getRow(1).eachCell({ includeEmpty: true }, (c, i) => (headers[i - 1] = cell(c.value)))
  const records: Sheet['records'] = []
  sheet.eachRow((r, n) => {
    if (n === 1) return
    const values: Record<string, string> = {}
    headers.forEach((h, i) => (values[h] = fromSpreadsheetText(cell(r.getCell(i + 1).value))))
    if (Object.values(values).some((v) => v !== '')) records.push({ row: n, values })
  })
  return { headers, records, errors: [] }
}

type Feature = { geometry?: { type?: string; coordinates?: unknown } | null; properties?: Record<string, unknown> | null }

function fromFeatures(features: unknown): Sheet {
  if (!Array.isArray(features)) return { headers: [], records: [], errors: [{ row: 1, zh: '不是 GeoJSON 要素集合（FeatureCollection）', en: 'not a GeoJSON FeatureCollection' }] }
  const headers = new Set<string>(['lon', 'lat'])
  const errors: LineError[] = []
  const records = (features as Feature[]).map((f, i) => {
    const row = i + 1
    const values: Record<string, string> = {}
    for (const [k, v] of Object.entries(f?.properties ?? {})) {
      headers.add(k)
      values[k] = cell(v)
    }
    const c = f?.geometry?.coordinates
    if (f?.geometry?.type === 'Point' && Array.isArray(c) && c.length >= 2) {
      values.lon = String(c[0])
      values.lat = String(c[1])
    } else {
      errors.push({ row, zh: `第 ${row} 个要素不是点（${f?.geometry?.type ?? '无几何'}）`, en: `feature ${row} is not a point (${f?.geometry?.type ?? 'no geometry'})` })
    }
    return { row, values }
  })
  return { headers: [...headers], records, errors }
}

/** The features of a GeoJSON file (UTF-8, as RFC 7946 has it), or the row-1 error saying why there are none. */
function geojsonFeatures(buf: Buffer): { features?: unknown; errors: LineError[] } {
  let doc: { type?: string; features?: unknown }
  try {
    doc = JSON.parse(decodeText(buf, 'utf-8').text)
  } catch {
    return { errors: [{ row: 1, zh: '不是有效的 JSON', en: 'not valid JSON' }] }
  }
  return { features: doc?.type === 'FeatureCollection' ? doc.features : undefined, errors: [] }
}

function readGeojson(buf: Buffer): Sheet {
  const r = geojsonFeatures(buf)
  return r.errors.length ? { headers: [], records: [], errors: r.errors } : fromFeatures(r.features)
}

/** A zipped Shapefile through ogr2ogr (as the exports use GDAL): its .cpg or .dbf code page decides the text encoding. */
async function shapefileFeatures(buf: Buffer): Promise<unknown> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gridwatch-import-'))
  try {
    const zip = path.join(dir, 'upload.zip')
    await writeFile(zip, buf)
    const out = await new Promise<string>((resolve, reject) => {
      const p = spawn('ogr2ogr', ['-f', 'GeoJSON', '/vsistdout/', `/vsizip/${zip}`], { stdio: ['ignore', 'pipe', 'pipe'] })
      const chunks: Buffer[] = []
      let err = ''
      p.stdout.on('data', (d: Buffer) => chunks.push(d))
      p.stderr.on('data', (d: Buffer) => (err += d.toString()))
      p.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT'
        ? new HttpError(503, 'gdal_missing', '服务器未安装 GDAL（gdal-bin），无法读取 Shapefile；可改用 GeoJSON 或 CSV', 'GDAL (gdal-bin) is not installed on the server, so Shapefiles cannot be read; use GeoJSON or CSV')
        : e))
      p.on('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks).toString('utf8'))
        : reject(new HttpError(400, 'bad_file', `无法读取该 Shapefile 压缩包：${err.slice(0, 300)}`, `this zipped Shapefile cannot be read: ${err.slice(0, 300)}`))))
    })
    return JSON.parse(out).features
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function readShapefile(buf: Buffer): Promise<Sheet> {
  return fromFeatures(await shapefileFeatures(buf))
}

/**
 * The features of a GeoJSON file or a zipped Shapefile as they are, any
 * geometry (the grid import reads polygons): the same decoding as the point
 * imports above. `features` is not an array when the file is no feature
 * collection; `errors` (row 1) when it cannot be read at all.
 */
export async function readFeatures(buf: Buffer, format: 'geojson' | 'shp.zip'): Promise<{ features: unknown; errors: LineError[] }> {
  if (format === 'shp.zip') return { features: await shapefileFeatures(buf), errors: [] }
  const r = geojsonFeatures(buf)
  return { features: r.features, errors: r.errors }
}

export async function readFile(buf: Buffer, format: FileFormat, encoding: Encoding): Promise<Sheet> {
  const sheet = format === 'csv' ? readCsv(buf, encoding)
    : format === 'xlsx' ? await readXlsx(buf)
      : format === 'geojson' ? readGeojson(buf)
        : await readShapefile(buf)
  if (sheet.records.length > MAX_ROWS) {
    throw new HttpError(400, 'too_many_rows', `一次最多导入 ${MAX_ROWS} 行，文件有 ${sheet.records.length} 行：请分批导入`, `at most ${MAX_ROWS} rows an import, the file has ${sheet.records.length}: split it`)
  }
  return sheet
}
