/** Web-Mercator tile arithmetic (XYZ scheme, as MapLibre requests tiles). */
export const MAX_ZOOM = 22
const ORIGIN = 20037508.342789244

export interface TileCoord {
  z: number
  x: number
  y: number
}

export function isValidTile({ z, x, y }: TileCoord): boolean {
  return (
    Number.isInteger(z) && Number.isInteger(x) && Number.isInteger(y) &&
    z >= 0 && z <= MAX_ZOOM && x >= 0 && y >= 0 && x < 2 ** z && y < 2 ** z
  )
}

/** Tile bounds in EPSG:3857 metres: [xmin, ymin, xmax, ymax]. */
export function tileBounds3857({ z, x, y }: TileCoord): [number, number, number, number] {
  const size = (2 * ORIGIN) / 2 ** z
  return [-ORIGIN + x * size, ORIGIN - (y + 1) * size, -ORIGIN + (x + 1) * size, ORIGIN - y * size]
}

export function lonToTileX(lon: number, z: number) {
  return ((lon + 180) / 360) * 2 ** z
}

export function latToTileY(lat: number, z: number) {
  const clamped = Math.max(-85.05112878, Math.min(85.05112878, lat))
  const r = (clamped * Math.PI) / 180
  return ((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * 2 ** z
}

/**
 * The tiles at zoom z that a lon/lat box touches, widened by `bufferFraction`
 * of a tile (features are drawn into a tile's buffer too).
 */
export function tilesCovering(bbox: [number, number, number, number], z: number, bufferFraction = 0): TileCoord[] {
  const n = 2 ** z
  const [w, s, e, nth] = bbox
  const x0 = Math.max(0, Math.floor(lonToTileX(w, z) - bufferFraction))
  const x1 = Math.min(n - 1, Math.floor(lonToTileX(e, z) + bufferFraction))
  const y0 = Math.max(0, Math.floor(latToTileY(nth, z) - bufferFraction))
  const y1 = Math.min(n - 1, Math.floor(latToTileY(s, z) + bufferFraction))
  const out: TileCoord[] = []
  for (let x = x0; x <= x1; x++) for (let y = y0; y <= y1; y++) out.push({ z, x, y })
  return out
}
