import { fromGeojsonVt } from '@maplibre/vt-pbf'
import type { Geometry } from 'geojson'
import type { MvtLayer } from './layer-types.ts'
import { EXTENT } from './sql.ts'
import { toTileGeometry, type Bounds, type TileGeometry } from './tile-geometry.ts'

/** A row of featureQuery: the band's columns as the database sent them, and the geometry (EPSG:3857) as GeoJSON text. */
export interface FeatureRow {
  fid: number | string | null
  gw_geom: string
  [column: string]: unknown
}

interface VtFeature extends TileGeometry {
  tags: Record<string, string | number | boolean>
  id?: number
}

/**
 * The layer's declared fields, typed as declared: the rows come as plain
 * columns (twice as fast as to_jsonb on PGlite), so a bigint arrives as a
 * string and is turned back into the number ST_AsMVT would write.
 */
function tags(layer: MvtLayer, row: FeatureRow) {
  const out: VtFeature['tags'] = {}
  for (const [k, type] of Object.entries(layer.fields)) {
    const v = row[k]
    if (v === null || v === undefined) continue
    out[k] = type === 'Number' ? Number(v) : type === 'Boolean' ? Boolean(v) : String(v)
  }
  return out
}

/** Encodes rows from featureQuery (one list per MVT layer) into one tile whose bounds (EPSG:3857) are `bounds`. */
export function encodeTile(layers: { layer: MvtLayer; rows: FeatureRow[] }[], bounds: Bounds): Uint8Array {
  const vtLayers: Record<string, { features: VtFeature[] }> = {}
  for (const { layer, rows } of layers) {
    const features: VtFeature[] = []
    for (const row of rows) {
      const geometry = toTileGeometry(JSON.parse(row.gw_geom) as Geometry, bounds)
      if (!geometry) continue
      features.push({ ...geometry, tags: tags(layer, row), ...(row.fid == null ? {} : { id: Number(row.fid) }) })
    }
    if (features.length) vtLayers[layer.name] = { features }
  }
  // vt-pbf's types want geojson-vt's tile objects; ours carry the same fields.
  return fromGeojsonVt(vtLayers as never, { version: 2, extent: EXTENT })
}
