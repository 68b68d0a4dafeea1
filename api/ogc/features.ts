/**
 * Pages of features for OGC API – Features items, as GeoJSON text: SQL picks
 * and orders the rows (by id, so offsets page stably), PostGIS writes the
 * geometry, and personal fields are masked row by row for the reader.
 */
import type { SessionUser } from '../auth/guard.ts'
import type { Sql } from '../../db/connect.ts'
import { featureText, layerQuery, maskRow, type Layer, type Row } from '../datasets.ts'
import { defaultCrs, geometryIn, type Crs } from './crs.ts'

type Bbox = [number, number, number, number]

/** Rows whose geometry meets the box; one crossing the antimeridian (w > e) is two boxes. */
function bboxFilter(sql: Sql, layer: Layer, [w, s, e, n]: Bbox) {
  const g = sql.unsafe(layer.geomExpr)
  const box = (x0: number, x1: number) => sql`ST_Intersects(${g}, ST_MakeEnvelope(${x0}, ${s}, ${x1}, ${n}, 4326))`
  return w <= e ? box(w, e) : sql`(${box(w, 180)} OR ${box(-180, e)})`
}

/** A row's feature text in `crs` (the geometry PostGIS wrote in CRS84, moved when another is asked for). */
const inCrs = (layer: Layer, row: Row, crs: Crs) => featureText(layer, { ...row, _geojson: geometryIn(row._geojson, crs) })

export async function featurePage(sql: Sql, layer: Layer, user: SessionUser | undefined, q: { bbox?: Bbox; limit: number; offset: number; crs?: Crs }) {
  const where = q.bbox ? bboxFilter(sql, layer, q.bbox) : null
  const rows = (await layerQuery(sql, layer, where, sql`ORDER BY ${sql.unsafe(layer.idExpr)} LIMIT ${q.limit} OFFSET ${q.offset}`)) as unknown as Row[]
  // numberMatched: the count of the whole selection, so that clients can tell how far they have paged.
  // Counted on the layer's table alone: the joins only add columns, and 1.8 M households count faster without them.
  const [{ n }] = await sql`SELECT count(*)::int AS n FROM ${sql.unsafe(layer.table)} ${where ? sql`WHERE ${where}` : sql``}`
  return { features: rows.map((r) => inCrs(layer, maskRow(layer, user, r), q.crs ?? defaultCrs)), matched: n as number }
}

export async function oneFeature(sql: Sql, layer: Layer, user: SessionUser | undefined, id: number, crs: Crs = defaultCrs): Promise<string | undefined> {
  const [row] = (await layerQuery(sql, layer, sql`${sql.unsafe(layer.idExpr)} = ${id}`, sql``)) as unknown as Row[]
  return row && inCrs(layer, maskRow(layer, user, row), crs)
}
