import { bboxClip } from '@turf/bbox-clip'
import type { Geometry, LineString, MultiLineString, MultiPolygon, Polygon, Position } from 'geojson'
import { BUFFER, EXTENT } from './sql.ts'

/**
 * EPSG:3857 geometry to MVT tile pixels for the JS encoder, as ST_AsMVTGeom
 * makes them: clipped to the tile and its buffer, y flipped, snapped to whole
 * pixels, repeated points dropped, exterior rings positive by the MVT
 * surveyor's formula. Done here rather than in SQL because PGlite's PostGIS
 * spends ~50 µs a feature on each geometry function (ST_Affine,
 * ST_SnapToGrid, …): 80 ms for a tile of 900 points whose rows alone take 5.
 */

type Pt = [number, number]
export type Ring = Pt[]
export interface TileGeometry {
  type: 1 | 2 | 3
  geometry: Ring[] | Pt[]
}

/** Round half to even, as C's rint (PostGIS's ST_SnapToGrid) does. */
export function rint(v: number): number {
  const r = Math.round(v)
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r
}

const LOW = -BUFFER
const HIGH = EXTENT + BUFFER
const CLIP_BOX: [number, number, number, number] = [LOW, LOW, HIGH, HIGH]

/** Tile bounds in EPSG:3857: [xmin, ymin, xmax, ymax]. */
export type Bounds = readonly [number, number, number, number]

/** Signed area in tile pixels by the formula of the MVT spec's tests: > 0 for an exterior ring. */
export function ringArea(ring: Ring): number {
  let a = 0
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) a += (ring[j][0] - ring[i][0]) * (ring[j][1] + ring[i][1])
  return a / 2
}

function snap(line: Position[]): Ring {
  const out: Ring = []
  for (const p of line) {
    const x = rint(p[0])
    const y = rint(p[1])
    const last = out[out.length - 1]
    if (!last || last[0] !== x || last[1] !== y) out.push([x, y])
  }
  return out
}

function inBox(coords: Position[]): boolean {
  for (const p of coords) if (p[0] < LOW || p[0] > HIGH || p[1] < LOW || p[1] > HIGH) return false
  return true
}

/** A polygon's rings clipped and snapped; none when its shell collapses. */
function polygonRings(rings: Position[][]): Ring[] {
  const clipped = rings.every(inBox) ? rings : (bboxClip({ type: 'Polygon', coordinates: rings }, CLIP_BOX).geometry as Polygon).coordinates
  const out: Ring[] = []
  for (let i = 0; i < clipped.length; i++) {
    const ring = snap(clipped[i])
    // A ring needs four points, the last the first: fewer and it collapsed (ST_SnapToGrid drops it; a shell takes its holes along).
    if (ring.length < 4) {
      if (i === 0) return []
      continue
    }
    const wantPositive = i === 0
    if (ringArea(ring) > 0 !== wantPositive) ring.reverse()
    out.push(ring)
  }
  return out
}

/** `geom` in EPSG:3857 as GeoJSON, `bounds` the tile's; undefined when nothing of it is left in the tile. */
export function toTileGeometry(geom: Geometry, bounds: Bounds): TileGeometry | undefined {
  const scale = EXTENT / (bounds[2] - bounds[0])
  const xoff = -bounds[0] * scale
  const yoff = bounds[3] * scale
  const px = (p: Position): Position => [scale * p[0] + xoff, -scale * p[1] + yoff]
  switch (geom.type) {
    case 'Point':
    case 'MultiPoint': {
      const points = (geom.type === 'Point' ? [geom.coordinates] : geom.coordinates).map(px)
      const kept = snap(points).filter((p) => p[0] >= LOW && p[0] <= HIGH && p[1] >= LOW && p[1] <= HIGH)
      return kept.length ? { type: 1, geometry: kept } : undefined
    }
    case 'LineString':
    case 'MultiLineString': {
      const lines = (geom.type === 'LineString' ? [geom.coordinates] : geom.coordinates).map((l) => l.map(px))
      let parts = lines
      if (!lines.every(inBox)) {
        const clipped = bboxClip({ type: 'MultiLineString', coordinates: lines }, CLIP_BOX).geometry as LineString | MultiLineString
        parts = clipped.type === 'LineString' ? [clipped.coordinates] : clipped.coordinates
      }
      const kept = parts.map(snap).filter((l) => l.length >= 2)
      return kept.length ? { type: 2, geometry: kept } : undefined
    }
    case 'Polygon':
    case 'MultiPolygon': {
      const polygons = (geom.type === 'Polygon' ? [geom.coordinates] : (geom as MultiPolygon).coordinates).map((p) => p.map((r) => r.map(px)))
      const rings = polygons.flatMap(polygonRings)
      // No area left (a sliver along the tile edge, snapped flat): nothing to draw, as ST_AsMVTGeom drops it.
      return rings.reduce((a, r) => a + ringArea(r), 0) > 0 ? { type: 3, geometry: rings } : undefined
    }
    default:
      return undefined
  }
}
