import { fromGeojsonVt } from '@maplibre/vt-pbf'
import type { Geometry } from 'geojson'
import { EXTENT } from './sql.ts'

export interface FeatureRow {
  fid: number | null
  props: Record<string, unknown>
  geom: Geometry
}

type Ring = [number, number][]
interface VtFeature {
  type: 1 | 2 | 3
  geometry: Ring[] | [number, number][]
  tags: Record<string, string | number | boolean>
  id?: number
}

function toVt(g: Geometry): { type: 1 | 2 | 3; geometry: VtFeature['geometry'] } | undefined {
  switch (g.type) {
    case 'Point':
      return { type: 1, geometry: [g.coordinates as [number, number]] }
    case 'MultiPoint':
      return { type: 1, geometry: g.coordinates as [number, number][] }
    case 'LineString':
      return { type: 2, geometry: [g.coordinates as Ring] }
    case 'MultiLineString':
      return { type: 2, geometry: g.coordinates as Ring[] }
    case 'Polygon':
      return { type: 3, geometry: g.coordinates as Ring[] }
    case 'MultiPolygon':
      return { type: 3, geometry: (g.coordinates as Ring[][]).flat() }
    default:
      return undefined // a collection left over from clipping carries nothing drawable of one type
  }
}

function tags(props: Record<string, unknown>) {
  const out: VtFeature['tags'] = {}
  for (const [k, v] of Object.entries(props)) {
    if (v === null || v === undefined) continue
    out[k] = typeof v === 'number' || typeof v === 'boolean' ? v : String(v)
  }
  return out
}

/** Encodes rows from featureQuery (one array per MVT layer) into one tile. */
export function encodeTile(layers: Record<string, FeatureRow[]>): Uint8Array {
  const vtLayers: Record<string, { features: VtFeature[] }> = {}
  for (const [name, rows] of Object.entries(layers)) {
    const features: VtFeature[] = []
    for (const row of rows) {
      const vt = toVt(row.geom)
      if (!vt) continue
      features.push({ ...vt, tags: tags(row.props), ...(row.fid == null ? {} : { id: Number(row.fid) }) })
    }
    if (features.length) vtLayers[name] = { features }
  }
  // vt-pbf's types want geojson-vt's tile objects; ours carry the same fields.
  return fromGeojsonVt(vtLayers as never, { version: 2, extent: EXTENT })
}
