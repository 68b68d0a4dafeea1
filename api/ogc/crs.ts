/**
 * OGC API – Features Part 2 (CRS by reference): what a client may ask the
 * features in (`crs`) and its box in (`bbox-crs`). Stored and default: CRS84
 * (lon, lat). EPSG:4326 and EPSG:4490 (CGCS2000, the Chinese government's
 * datum) are latitude first, as their EPSG definitions say; CGCS2000 and
 * WGS84 agree here within a metre, so their numbers are the same (no shift).
 * EPSG:3857 (Web Mercator) is metres. Worked out in JS on the GeoJSON
 * PostGIS wrote, so the embedded database needs no PROJ tables.
 */
import { HttpError } from '../../core/errors.ts'

export const CRS84 = 'http://www.opengis.net/def/crs/OGC/1.3/CRS84'
const EPSG = (code: number) => `http://www.opengis.net/def/crs/EPSG/0/${code}`

export type CrsId = 'CRS84' | 'EPSG:4326' | 'EPSG:4490' | 'EPSG:3857'
export interface Crs { id: CrsId; uri: string; latFirst: boolean; mercator: boolean }

const all: Crs[] = [
  { id: 'CRS84', uri: CRS84, latFirst: false, mercator: false },
  { id: 'EPSG:4326', uri: EPSG(4326), latFirst: true, mercator: false },
  { id: 'EPSG:4490', uri: EPSG(4490), latFirst: true, mercator: false },
  { id: 'EPSG:3857', uri: EPSG(3857), latFirst: false, mercator: true },
]
export const crsUris = all.map((c) => c.uri)
export const defaultCrs = all[0]

/** A `crs` / `bbox-crs` value: a URI of the list (or its short EPSG:… / CRS84 form, as people type it). 400 otherwise. */
export function parseCrs(name: 'crs' | 'bbox-crs', raw: string): Crs {
  const v = raw.trim().replace(/^\[|\]$/g, '')
  const found = all.find((c) => c.uri === v || c.id === v.toUpperCase() || c.uri.replace('http://', 'https://') === v)
  if (!found) {
    throw new HttpError(400, 'bad_parameter', `参数 ${name} 有误：不支持的坐标系 "${raw}"（可用：${crsUris.join(', ')}）`,
      `bad parameter ${name}: unsupported CRS "${raw}" (supported: ${crsUris.join(', ')})`)
  }
  return found
}

const R = 6378137
const MAX_LAT = 85.05112878

/** lon/lat → Web Mercator metres, to the centimetre. */
function toMercator(lon: number, lat: number): [number, number] {
  const y = Math.max(-MAX_LAT, Math.min(MAX_LAT, lat))
  return [round((lon * Math.PI / 180) * R, 2), round(R * Math.log(Math.tan(Math.PI / 4 + (y * Math.PI / 180) / 2)), 2)]
}
function fromMercator(x: number, y: number): [number, number] {
  return [(x / R) * 180 / Math.PI, (2 * Math.atan(Math.exp(y / R)) - Math.PI / 2) * 180 / Math.PI]
}
const round = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d

type Coords = number[] | Coords[]
function mapCoords(c: Coords, f: (p: number[]) => number[]): Coords {
  return typeof c[0] === 'number' ? f(c as number[]) : (c as Coords[]).map((x) => mapCoords(x, f))
}

/** A GeoJSON geometry (text, CRS84, as PostGIS wrote it) in `crs`, as text. */
export function geometryIn(geojson: string, crs: Crs): string {
  if (crs.id === 'CRS84') return geojson
  const g = JSON.parse(geojson) as { type: string; coordinates?: Coords; geometries?: unknown[] }
  const f = crs.mercator ? (p: number[]) => toMercator(p[0], p[1]) : (p: number[]) => [p[1], p[0]]
  if (g.coordinates) g.coordinates = mapCoords(g.coordinates, f)
  return JSON.stringify(g)
}

/**
 * A box given in `crs` (4 numbers, or 6 with heights) as lon/lat w,s,e,n, checked there: latitude-first CRSs
 * give (minLat, minLon, maxLat, maxLon); Web Mercator gives metres.
 */
export function bboxToLonLat(raw: string, crs: Crs, parseLonLat: (raw: string) => [number, number, number, number]): [number, number, number, number] {
  if (crs.id === 'CRS84') return parseLonLat(raw)
  const parts = raw.split(',').map((p) => p.trim())
  const v = parts.length === 6 ? [parts[0], parts[1], parts[3], parts[4]] : parts
  if (v.length !== 4 || v.some((p) => !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(p))) return parseLonLat(raw) // its own 400
  const [a, b, c, d] = v.map(Number)
  if (crs.latFirst) return parseLonLat([b, a, d, c].join(','))
  const lim = Math.PI * R
  if ([a, b, c, d].some((x) => Math.abs(x) > lim * 1.0001)) {
    throw new HttpError(400, 'bad_parameter', `参数 bbox 有误：Web 墨卡托坐标须在 ±${Math.round(lim)} 米之内`, `bad parameter bbox: Web Mercator coordinates must lie within ±${Math.round(lim)} m`)
  }
  const [w, s] = fromMercator(a, b)
  const [e, n] = fromMercator(c, d)
  return parseLonLat([w, s, e, n].map((x) => round(x, 9)).join(','))
}
