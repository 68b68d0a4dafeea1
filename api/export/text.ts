/** GeoJSON and CSV exports: text made batch by batch from the cursor, so memory stays flat. */
import type { ExportCrs } from './crs.ts'
import { stringify } from 'csv-stringify/sync'
import { beijingIso, spreadsheetText } from '../../core/spreadsheet.ts'
import { featureText, type Layer, type Row } from '../datasets.ts'
import { tableColumns, tableValues } from './source.ts'

export async function* geojsonText(layer: Layer, batches: AsyncIterable<Row[]>): AsyncGenerator<string> {
  yield `{"type":"FeatureCollection","name":"${layer.id}","features":[\n`
  let first = true
  for await (const rows of batches) {
    const text = rows.map((r) => featureText(layer, r)).join(',\n')
    if (!text) continue
    yield first ? text : `,\n${text}`
    first = false
  }
  yield '\n]}\n'
}

/**
 * CSV, UTF-8. `excel`: the file a user opens in Excel, with a byte-order mark
 * (Excel then reads Chinese as UTF-8 rather than GBK), true/false, and every
 * text through core/spreadsheet.ts (formulas neutralised; codes and other digit
 * strings after a tab, in quotes, so that Excel keeps them as text). Without
 * it, the plain form GDAL reads (1/0 for its Integer(Boolean), see gdal.ts),
 * text as it is. Times are Beijing time with +08:00, or UTC with `utc`
 * (GeoPackage stores UTC).
 */
export async function* csvText(layer: Layer, batches: AsyncIterable<Row[]>, opts: { excel: boolean; wkt: boolean; utc?: boolean; crs?: ExportCrs }): AsyncGenerator<string> {
  const cols = tableColumns(layer, opts.wkt, opts.crs)
  const cast = {
    boolean: (b: boolean) => (opts.excel ? String(b) : b ? '1' : '0'),
    date: (d: Date) => (opts.utc ? d.toISOString() : beijingIso(d)),
    string: (t: string) => (opts.excel ? spreadsheetText(t, 'csv') : t),
  }
  // In quotes, the tab is the value's: a reader splitting on tabs too (LibreOffice can) leaves it in the cell.
  const options = { cast, quoted_match: /^\t/ }
  yield (opts.excel ? '\uFEFF' : '') + stringify([cols.map((c) => c.name)])
  for await (const rows of batches) {
    if (rows.length) yield stringify(rows.map((r) => tableValues(layer, r, opts.wkt)), options)
  }
}
