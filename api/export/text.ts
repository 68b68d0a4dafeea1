/** GeoJSON and CSV exports: text made batch by batch from the cursor, so memory stays flat. */
import { stringify } from 'csv-stringify/sync'
import { featureText, type Layer, type Row } from '../layers.ts'
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
 * CSV, UTF-8. `excel`: with a byte-order mark (Excel then reads Chinese as
 * UTF-8 rather than GBK) and true/false; without it, the plain form GDAL
 * reads (1/0 for its Integer(Boolean), see gdal.ts).
 */
export async function* csvText(layer: Layer, batches: AsyncIterable<Row[]>, opts: { excel: boolean; wkt: boolean }): AsyncGenerator<string> {
  const cols = tableColumns(layer, opts.wkt)
  const cast = {
    boolean: (b: boolean) => (opts.excel ? String(b) : b ? '1' : '0'),
    date: (d: Date) => d.toISOString(),
  }
  yield (opts.excel ? '\uFEFF' : '') + stringify([cols.map((c) => c.name)])
  for await (const rows of batches) {
    if (rows.length) yield stringify(rows.map((r) => tableValues(layer, r, opts.wkt)), { cast })
  }
}
