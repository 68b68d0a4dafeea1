/**
 * XLSX through exceljs's streaming WorkbookWriter: each row is committed to
 * the zip stream as it comes (no shared strings, no styles), with a pause
 * whenever the client reads slower than the database gives.
 */
import { PassThrough, type Readable } from 'node:stream'
import ExcelJS from 'exceljs'
import type { Layer, Row } from '../layers.ts'
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

export function xlsxStream(layer: Layer, batches: AsyncIterable<Row[]>, rowsPerSheet = ROWS_PER_SHEET): Readable {
  const out = new PassThrough()
  const book = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: false, useSharedStrings: false })
  // Polygons become a point on them: a WKT outline would pass Excel's 32,767 characters a cell.
  const cols = tableColumns(layer, false)
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
        sheet!.addRow(tableValues(layer, r, false)).commit()
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
