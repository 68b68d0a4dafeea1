import fs from 'node:fs'
import path from 'node:path'
import gcoord from 'gcoord'
import type { Feature, FeatureCollection, MultiPolygon, Polygon } from 'geojson'
import { config } from '../../core/config.ts'

export interface County {
  code: string // 6 digits
  name: string
  /** WGS84 (converted from the GCJ-02 source). */
  geometry: MultiPolygon
}

export const countiesFile = () => path.join(config.sharedDataDir, 'zhaotong-counties.gcj02.geojson')

/**
 * The 11 real county outlines. The source is GCJ-02 (Amap/DataV); we never
 * store GCJ-02, so every vertex is converted to WGS84 here.
 */
export function loadCounties(file = countiesFile()): County[] {
  if (!fs.existsSync(file)) {
    throw new Error(`找不到县界数据 / county outlines not found at ${file} (set GRIDWATCH_SHARED_DATA)`)
  }
  const fc = JSON.parse(fs.readFileSync(file, 'utf8')) as FeatureCollection<Polygon | MultiPolygon>
  // gcoord types positions as fixed tuples; the GeoJSON types use open arrays.
  const wgs = gcoord.transform(fc as never, gcoord.GCJ02, gcoord.WGS84) as unknown as FeatureCollection<Polygon | MultiPolygon>
  return wgs.features.map((f: Feature<Polygon | MultiPolygon>) => {
    const p = f.properties as { adcode: number; name: string }
    const geometry: MultiPolygon =
      f.geometry.type === 'Polygon' ? { type: 'MultiPolygon', coordinates: [f.geometry.coordinates] } : f.geometry
    return { code: String(p.adcode), name: p.name, geometry }
  })
}
