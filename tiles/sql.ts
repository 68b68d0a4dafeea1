import { bandAt } from './registry.ts'
import type { Band, MvtLayer, TileLayer } from './layer-types.ts'

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
 * without protobuf (PGlite): the band's columns and the geometry (EPSG:3857)
 * as GeoJSON, unclipped; tiles/tile-geometry.ts does the rest in JS.
 * Parameters: $1 z, $2 x, $3 y.
 */
export const featureQuery = memoByZoom((layer: MvtLayer, z: number): string | undefined => {
  const band = bandAt(layer, z)
  if (!band) return undefined
  return `SELECT ${band.columns}, ST_AsGeoJSON(${band.geom}) AS gw_geom FROM ${band.from} ${where(band)}`
})
