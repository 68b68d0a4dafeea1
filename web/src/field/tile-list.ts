/**
 * Which map tiles the phone keeps for its grid (issue #19): z12–16 over the
 * grid's box widened by a margin, for our own vector layers and, when one is
 * configured, the basemap's raster. Pure arithmetic (Web Mercator XYZ, as the
 * tile server and MapLibre count tiles); the service worker fetches the list.
 *
 * How many: a grid is a few km across. A 3 × 3 km grid at Zhaotong's latitude
 * (a z16 tile is ≈ 540 m there) with a 300 m margin touches about 8 × 8 tiles
 * at z16, 4 × 4 at z15, 2–3 × 2–3 at z14 and 1–4 at z13 and z12: ≈ 95 tiles a
 * layer, ≈ 290 for two vector layers and a basemap. MAX_TILES (600) leaves room
 * for a grid twice that size; beyond it the closest zooms are dropped first
 * (z16, then z15), never the overview.
 */
export const KEEP_ZOOMS = [12, 13, 14, 15, 16] as const
/** The margin kept around the grid, in metres: the worker walks to its edge and a little past it. */
export const MARGIN_M = 300
/** At most this many tiles are kept (all layers together). */
export const MAX_TILES = 600
/**
 * At most this many bytes: our vector tiles of a grid are 1–20 KB, a basemap's
 * raster 10–40 KB; 600 tiles stay under 20 MB. The service worker stops keeping
 * tiles past this (a phone's storage is shared with its photos).
 */
export const MAX_BYTES = 24 * 1024 * 1024
/** Our vector layers the small map draws: the grids around this one and their households. */
export const KEEP_LAYERS = ['grids', 'households'] as const

export interface Tile { z: number; x: number; y: number }
export type Bbox = [number, number, number, number]

const lonToX = (lon: number, z: number) => ((lon + 180) / 360) * 2 ** z
const latToY = (lat: number, z: number) => {
  const r = (Math.max(-85.05112878, Math.min(85.05112878, lat)) * Math.PI) / 180
  return ((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * 2 ** z
}
export const tileLon = (x: number, z: number) => (x / 2 ** z) * 360 - 180
export const tileLat = (y: number, z: number) => (Math.atan(Math.sinh(Math.PI * (1 - (2 * y) / 2 ** z))) * 180) / Math.PI

/** The box widened by `metres` on every side (degrees of latitude are ≈ 111.32 km; of longitude, that times cos(lat)). */
export function widen([w, s, e, n]: Bbox, metres: number): Bbox {
  const dLat = metres / 111_320
  const dLon = metres / (111_320 * Math.cos((((s + n) / 2) * Math.PI) / 180))
  return [w - dLon, s - dLat, e + dLon, n + dLat]
}

/** The tiles at zoom z that a lon/lat box touches. */
export function tilesCovering([w, s, e, n]: Bbox, z: number): Tile[] {
  const last = 2 ** z - 1
  const clamp = (v: number) => Math.max(0, Math.min(last, Math.floor(v)))
  const [x0, x1, y0, y1] = [clamp(lonToX(w, z)), clamp(lonToX(e, z)), clamp(latToY(n, z)), clamp(latToY(s, z))]
  const out: Tile[] = []
  for (let x = x0; x <= x1; x++) for (let y = y0; y <= y1; y++) out.push({ z, x, y })
  return out
}

/** A tile's lon/lat box. */
export function tileBox({ z, x, y }: Tile): Bbox {
  return [tileLon(x, z), tileLat(y + 1, z), tileLon(x + 1, z), tileLat(y, z)]
}

/** What the map's configuration says (GET /api/config): an XYZ raster template or none (PMTiles archives are not kept). */
export interface BasemapConfig { tiles?: string[]; url?: string }

/** A template's URL for one tile (several hosts: one chosen by the tile, so a tile always has the same URL). */
export function basemapUrl(templates: string[], t: Tile): string {
  const tpl = templates[(t.x + t.y) % templates.length]
  return tpl.replace('{z}', String(t.z)).replace('{x}', String(t.x)).replace('{y}', String(t.y))
}

export const vectorUrl = (layer: string, t: Tile) => `/tiles/${layer}/${t.z}/${t.x}/${t.y}.mvt`

/**
 * The URLs to keep for a grid's box: every kept zoom's vector tiles and
 * basemap tiles, the overview zooms first. Past MAX_TILES the closest zooms
 * are dropped whole (a zoom half kept would draw with holes).
 */
export function tilesToKeep(bbox: Bbox, basemap: BasemapConfig | null): { urls: string[]; zooms: number[] } {
  const box = widen(bbox, MARGIN_M)
  const templates = basemap?.tiles?.length ? basemap.tiles.filter((t) => /^https?:\/\//.test(t)) : []
  const perTile = KEEP_LAYERS.length + (templates.length ? 1 : 0)
  const urls: string[] = []
  const zooms: number[] = []
  for (const z of KEEP_ZOOMS) {
    const tiles = tilesCovering(box, z)
    if (urls.length + tiles.length * perTile > MAX_TILES) break
    zooms.push(z)
    for (const t of tiles) {
      for (const layer of KEEP_LAYERS) urls.push(vectorUrl(layer, t))
      if (templates.length) urls.push(basemapUrl(templates, t))
    }
  }
  return { urls, zooms }
}

/**
 * The zoom the small map draws a box at: the closest kept zoom whose tiles
 * show the box in about `pixels` (a tile is 256 px); with a wider view the
 * tiles would be drawn smaller than they are made.
 */
export function drawZoom(box: Bbox, pixels: number, zooms: readonly number[] = KEEP_ZOOMS): number {
  let best = zooms[0]
  for (const z of zooms) if ((lonToX(box[2], z) - lonToX(box[0], z)) * 256 <= pixels * 1.5) best = z
  return best
}
