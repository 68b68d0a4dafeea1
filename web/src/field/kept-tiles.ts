import { VectorTile } from '@mapbox/vector-tile'
import { PbfReader } from 'pbf'
import { kv } from './store.ts'
import { basemapUrl, drawZoom, KEEP_ZOOMS, MARGIN_M, tileBox, tilesCovering, vectorUrl, widen, type Bbox, type Tile } from './tile-list.ts'

/** A grid's piece in one tile, cut at the tile's buffer: drawn clipped to `clip` (the tile) so no cut shows. */
export interface TileGrid { code: string; name: string; rings: number[][][]; clip: Bbox }
export interface TileHousehold { id: number; risk: string; lon: number; lat: number }
export interface KeptTiles { z: number; raster: { url: string; box: Bbox }[]; grids: TileGrid[]; households: TileHousehold[] }

/** A vector tile's features of one layer, in lon/lat (an empty or missing tile has none). */
async function layerOf(url: string, layer: string, t: Tile) {
  const res = await fetch(url)
  if (!res.ok || res.status === 204) return []
  const vt = new VectorTile(new PbfReader(new Uint8Array(await res.arrayBuffer())))
  const l = vt.layers[layer]
  if (!l) return []
  return Array.from({ length: l.length }, (_, i) => ({ f: l.feature(i).toGeoJSON(t.x, t.y, t.z), clip: tileBox(t) }))
}

/**
 * What the tiles kept on the phone add to the small map of a grid: the
 * basemap's raster (when one is configured) and, from our vector tiles, the
 * grids around it and households not on the worker's list. Only the tiles the
 * service worker keeps for the grid are asked for (the grid's box and margin
 * at a kept zoom), so offline every one comes from its cache and nothing
 * outside the grid is fetched.
 */
export async function keptTiles(gridBbox: Bbox, viewPixels: number): Promise<KeptTiles> {
  const [zooms, basemap] = await Promise.all([kv.get<number[]>('tileZooms'), kv.get<string[]>('basemapTiles')])
  const box = widen(gridBbox, MARGIN_M)
  const z = drawZoom(box, viewPixels, zooms?.length ? zooms : KEEP_ZOOMS)
  const tiles = tilesCovering(box, z)
  const raster = basemap?.length ? tiles.map((t) => ({ url: basemapUrl(basemap, t), box: tileBox(t) })) : []
  const [gridFeatures, householdFeatures] = await Promise.all(['grids', 'households'].map((layer) =>
    Promise.all(tiles.map((t) => layerOf(vectorUrl(layer, t), layer, t).catch(() => []))).then((x) => x.flat())))
  // A grid crossing tiles comes in pieces, one per tile, each drawn inside its tile.
  const grids: TileGrid[] = []
  for (const { f, clip } of gridFeatures) {
    const g = f.geometry
    const rings = g.type === 'Polygon' ? g.coordinates : g.type === 'MultiPolygon' ? g.coordinates.flat() : []
    grids.push({ code: String(f.properties?.code ?? ''), name: String(f.properties?.name ?? ''), rings, clip })
  }
  const seen = new Set<number>()
  const households: TileHousehold[] = []
  for (const { f } of householdFeatures) {
    const id = Number(f.properties?.id)
    if (f.geometry.type !== 'Point' || f.properties?.agg || !id || seen.has(id)) continue
    seen.add(id)
    const [lon, lat] = f.geometry.coordinates
    households.push({ id, risk: String(f.properties?.risk ?? ''), lon, lat })
  }
  return { z, raster, grids, households }
}
