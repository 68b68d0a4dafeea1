/**
 * XLSX through exceljs's streaming WorkbookWriter: each row is committed to
 * the zip stream as it comes (no shared strings, no styles), with a pause
 * whenever the client reads slower than the database gives. Values go through
 * core/spreadsheet.ts: text that a spreadsheet would run as a formula is
 * neutralised (codes are string cells already), times are Beijing time.
 */
import type { ExportCrs } from './crs.ts'
import { PassThrough, type Readable } from 'node:stream'
import ExcelJS from 'exceljs'
import { spreadsheetValue } from '../../core/spreadsheet.ts'
import type { Layer, Row } from '../datasets.ts'
import { tableColumns, tableValues } from './source.ts'

/** Excel's sheet holds 1,048,576 rows: past this many a new sheet (households_2…) begins. */
export const ROWS_PER_SHEET = 1_000_000

/** Waits until the stream takes more, or is gone (a client that leaves must not leave us waiting, cursor open). */
const drainOrClose = (s: NodeJS.EventEmitter) =>
  new Promise<void>((resolve) => {
    const done = () => {
      s.off('drain', done)
      s.off('close', done)
      resolve()
    }
    s.on('drain', done)
    s.on('close', done)
  })

/** Uncompressed sheet XML allowed to wait for the zip's deflate before we stop reading rows. */
const SHEET_BUFFER = 8 * 2 ** 20

/**
 * The stream exceljs's sheet writes into on its way to the zip. exceljs writes
 * rows into it without heeding backpressure, so when deflate is slower than
 * the database (it is) the uncompressed XML piles up there: ~0.7 GB for the
 * full city (measured). We look inside (exceljs 4.4: the worksheet's StreamBuf
 * pipes into archiver's entry PassThrough) and wait for it to drain; if a
 * later exceljs moves things, this finds nothing and only the guard is lost.
 */
type Sink = NodeJS.EventEmitter & { _writableState?: { length: number } }
function sheetSink(sheet: ExcelJS.Worksheet): Sink | undefined {
  const pipe = (sheet as unknown as { stream?: { pipes?: Sink[] } }).stream?.pipes?.[0]
  return pipe?._writableState ? pipe : undefined
}

/** How a time shows: Excel has no zones, so the cell holds the Beijing wall clock and the format says which zone it is. */
export const DATE_TIME_FORMAT = 'yyyy-mm-dd hh:mm:ss "+08:00"'

/**
 * Without styles (a style per cell would double the time) exceljs gives every
 * date cell one style, a date without its time (mm-dd-yy). We make that style
 * a date-time in DATE_TIME_FORMAT. This reaches into exceljs 4.4's stand-in
 * for styles (StylesXform.Mock: its model and _dateStyleId); if a later
 * exceljs moves them, dates keep their day only (tests/unit/xlsx-export.test.ts
 * reads the format back).
 */
function dateTimeStyle(book: ExcelJS.stream.xlsx.WorkbookWriter) {
  const styles = (book as unknown as { styles?: { model?: { numFmts?: unknown[]; styles?: unknown[] }; _dateStyleId?: number } }).styles
  const model = styles?.model
  if (!styles || !Array.isArray(model?.numFmts) || !Array.isArray(model?.styles)) return
  const id = 164 // the first id for formats of one's own
  model.numFmts.push({ id, formatCode: DATE_TIME_FORMAT })
  styles._dateStyleId = model.styles.push({ numFmtId: id, fontId: 0, fillId: 0, borderId: 0, xfId: 0 }) - 1
}

export function xlsxStream(layer: Layer, batches: AsyncIterable<Row[]>, rowsPerSheet = ROWS_PER_SHEET, crs: ExportCrs = 'EPSG:4326'): Readable {
  const out = new PassThrough()
  const book = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: false, useSharedStrings: false })
  dateTimeStyle(book)
  // Polygons become a point on them: a WKT outline would pass Excel's 32,767 characters a cell.
  const cols = tableColumns(layer, false, crs)
  let sheet: ExcelJS.Worksheet | undefined
  let sheetNo = 0
  let inSheet = 0
  const newSheet = () => {
    sheet?.commit()
    sheetNo++
    sheet = book.addWorksheet(sheetNo === 1 ? layer.id : `${layer.id}_${sheetNo}`)
    sheet.columns = cols.map((c) => ({ key: c.name, width: Math.max(10, c.name.length + 2) }))
    // The header as rich text: exceljs writes it as an inline string (t="inlineStr"), which GDAL/QGIS
    // take for text and so recognise the row as the header; plain strings (t="str") they do not.
    sheet.addRow(cols.map((c) => ({ richText: [{ text: c.name }] }))).commit()
    inSheet = 0
  }
  void (async () => {
    newSheet()
    for await (const rows of batches) {
      for (const r of rows) {
        if (inSheet === rowsPerSheet) newSheet()
        sheet!.addRow(tableValues(layer, r, false).map((v) => spreadsheetValue(v, 'xlsx'))).commit()
        inSheet++
      }
      const sink = sheetSink(sheet!)
      if (sink && sink._writableState!.length > SHEET_BUFFER) await drainOrClose(sink)
      if (out.writableNeedDrain) await drainOrClose(out)
      if (out.destroyed) return // the client left: returning ends the cursor
    }
    sheet!.commit()
    await book.commit()
  })().catch((err: Error) => out.destroy(err))
  return out
}
