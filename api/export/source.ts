/**
 * The rows of an export, read through a postgres.js cursor a thousand at a
 * time: the full-city household layer (≈1.8 M rows) never sits in memory, and
 * a client that goes away ends the cursor (the generator is returned).
 */
import type { SessionUser } from '../auth/guard.ts'
import type { Sql } from '../db/connect.ts'
import { layerQuery, maskRow, placeIn, type Layer, type Row } from '../layers.ts'

export const BATCH = 1000

export async function* exportRows(sql: Sql, layer: Layer, user: SessionUser, prefix: string, opts: { wkt?: boolean } = {}): AsyncGenerator<Row[]> {
  const q = layerQuery(sql, layer, placeIn(sql, layer, prefix), sql`ORDER BY ${sql.unsafe(layer.idExpr)}`, opts)
  for await (const rows of q.cursor(BATCH)) {
    yield (rows as unknown as Row[]).map((r) => maskRow(layer, user, r))
  }
}

/** Table columns: the fields, then where the feature is (its point, or a point on the line or polygon), then WKT for non-points. */
export function tableColumns(layer: Layer, withWkt: boolean) {
  const cols = [...layer.fields.map((f) => ({ name: f.name, type: f.type, zh: f.zh })),
    { name: 'lon', type: 'number' as const, zh: '经度(WGS84)' }, { name: 'lat', type: 'number' as const, zh: '纬度(WGS84)' }]
  if (withWkt && layer.geometry !== 'Point') cols.push({ name: 'wkt', type: 'string' as const, zh: '几何(WKT, WGS84)' })
  return cols
}

export function tableValues(layer: Layer, row: Row, withWkt: boolean): unknown[] {
  const v: unknown[] = layer.fields.map((f) => row[f.name] ?? null)
  v.push(row._lon, row._lat)
  if (withWkt && layer.geometry !== 'Point') v.push(row._wkt)
  return v
}
