import { bandAt, type Band, type MvtLayer, type TileLayer } from './registry.ts'
import { tileBounds3857, type TileCoord } from './tile-math.ts'

export const EXTENT = 4096
export const BUFFER = 64

const envelope = 'ST_TileEnvelope($1::int, $2::int, $3::int)'
/** The tile widened by the render buffer: what a band's features must touch. */
const bufferedEnvelope = `ST_TileEnvelope($1::int, $2::int, $3::int, margin => ${BUFFER / EXTENT})`

function where(band: Band) {
  return `WHERE ${band.geom} && ${bufferedEnvelope}${band.where ? ` AND (${band.where})` : ''}`
}

/**
 * Each query once per layer and zoom: building the text anew was tens of µs
 * of a cold tile whose SQL takes a few hundred.
 */
function memoByZoom<L extends object>(build: (layer: L, z: number) => string | undefined) {
  const memo = new WeakMap<L, Map<number, string | undefined>>()
  return (layer: L, z: number) => {
    let byZoom = memo.get(layer)
    if (!byZoom) memo.set(layer, (byZoom = new Map()))
    if (!byZoom.has(z)) byZoom.set(z, build(layer, z))
    return byZoom.get(z)
  }
}

/**
 * One query making the whole tile with ST_AsMVT (a PostGIS built with
 * protobuf). Parameters: $1 z, $2 x, $3 y.
 */
export const mvtQuery = memoByZoom((tile: TileLayer, z: number): string | undefined => {
  const parts = tile.layers.flatMap((layer) => {
    const band = bandAt(layer, z)
    if (!band) return []
    return [
      `(SELECT coalesce(ST_AsMVT(t, '${layer.name}', ${EXTENT}, 'geom', 'fid'), ''::bytea) FROM (
         SELECT ${band.columns}, ST_AsMVTGeom(${band.geom}, ${envelope}, ${EXTENT}, ${BUFFER}, true) AS geom
         FROM ${band.from} ${where(band)}
       ) t WHERE t.geom IS NOT NULL)`,
    ]
  })
  return parts.length ? `SELECT ${parts.join(' || ')} AS mvt` : undefined
})

/**
 * The features of one MVT layer as rows for the JS encoder, for a database
 * without protobuf (PGlite): geometry clipped, in tile pixels (y down),
 * snapped to whole pixels, exterior rings clockwise on screen, as
 * ST_AsMVTGeom makes them. Parameters: $1 z, $2 x, $3 y, $4–$7 the tile
 * bounds in EPSG:3857.
 */
export const featureQuery = memoByZoom((layer: MvtLayer, z: number): string | undefined => {
  const band = bandAt(layer, z)
  if (!band) return undefined
  const scale = `(${EXTENT} / (t.xmax - t.xmin))`
  const clipBox = `ST_Expand(ST_MakeEnvelope(t.xmin, t.ymin, t.xmax, t.ymax, 3857), (t.xmax - t.xmin) * ${BUFFER / EXTENT})`
  // Clockwise in EPSG:3857 (y up) becomes clockwise on screen once y is flipped.
  const clipped = layer.geometry === 'point' ? band.geom : `ST_ForcePolygonCW(ST_ClipByBox2D(${band.geom}, ${clipBox}))`
  const keep =
    layer.geometry === 'point'
      ? `ST_X(g) BETWEEN ${-BUFFER} AND ${EXTENT + BUFFER} AND ST_Y(g) BETWEEN ${-BUFFER} AND ${EXTENT + BUFFER}`
      : layer.geometry === 'polygon'
        ? 'ST_Area(g) > 0'
        : 'ST_Length(g) > 0'
  return `
    WITH t AS (SELECT $4::float8 AS xmin, $5::float8 AS ymin, $6::float8 AS xmax, $7::float8 AS ymax)
    SELECT to_jsonb(s) - 'g' - 'fid' AS props, s.fid, ST_AsGeoJSON(s.g, 0)::json AS geom FROM (
      SELECT ${band.columns},
             ST_RemoveRepeatedPoints(ST_SnapToGrid(
               ST_Affine(${clipped}, ${scale}, 0, 0, -${scale}, -t.xmin * ${scale}, t.ymax * ${scale}), 1)) AS g
      FROM t, ${band.from} ${where(band)}
    ) s
    WHERE NOT ST_IsEmpty(s.g) AND ${keep}`
})

export function featureParams(t: TileCoord) {
  return [t.z, t.x, t.y, ...tileBounds3857(t)]
}
