/**
 * The rows of an export, read through a postgres.js cursor a thousand at a
 * time: the full-city household layer (≈1.8 M rows) never sits in memory, and
 * a client that goes away ends the cursor (the generator is returned).
 */
import type { SessionUser } from '../auth/guard.ts'
import type { Sql } from '../../db/connect.ts'
import { layerQuery, maskRow, placeIn, type Layer, type Row } from '../datasets.ts'
import { placeColumns, type ExportCrs } from './crs.ts'

export const BATCH = 1000

export async function* exportRows(sql: Sql, layer: Layer, user: SessionUser, prefix: string, opts: { wkt?: boolean; crs?: ExportCrs } = {}): AsyncGenerator<Row[]> {
  const q = layerQuery(sql, layer, placeIn(sql, layer, prefix), sql`ORDER BY ${sql.unsafe(layer.idExpr)}`, { wkt: opts.wkt, mercator: opts.crs === 'EPSG:3857' })
  for await (const rows of q.cursor(BATCH)) {
    yield (rows as unknown as Row[]).map((r) => maskRow(layer, user, r))
  }
}

/** Table columns: the fields, then where the feature is (its point, or a point on the line or polygon), then WKT for non-points. */
export function tableColumns(layer: Layer, withWkt: boolean, crs: ExportCrs = 'EPSG:4326') {
  const cols = [...layer.fields.map((f) => ({ name: f.name, type: f.type, zh: f.zh })),
    ...placeColumns(crs).map((c) => ({ ...c, type: 'number' as const }))]
  if (withWkt && layer.geometry !== 'Point') cols.push({ name: 'wkt', type: 'string' as const, zh: `几何(WKT, ${crs})` })
  return cols
}

export function tableValues(layer: Layer, row: Row, withWkt: boolean): unknown[] {
  const v: unknown[] = layer.fields.map((f) => row[f.name] ?? null)
  v.push(row._lon, row._lat)
  if (withWkt && layer.geometry !== 'Point') v.push(row._wkt)
  return v
}
