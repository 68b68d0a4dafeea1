import { bandAt, tileLayerByName } from './registry.ts'
import { BUFFER, EXTENT } from './sql.ts'
import { latToTileY, lonToTileX } from './tile-math.ts'

export interface CachedTile {
  /** What is sent: gzipped when `gzipped`, else the tile itself (too small for gzip to pay). */
  body: Buffer
  gzipped: boolean
  etag: string
  bytes: number // uncompressed size
}

/** [kind, minLon, minLat, maxLon, maxLat]: one thing that changed. */
export type Change = [string, number, number, number, number]

interface Entry {
  layer: string
  z: number
  x: number
  y: number
  tile: CachedTile
}

/**
 * An in-process LRU of finished tiles (gzipped), bounded in bytes, that drops
 * exactly the tiles a change touches: those of layers that show the changed
 * kind at that zoom, whose buffered extent meets the change's box.
 */
export class TileCache {
  private entries = new Map<string, Entry>()
  private size = 0
  /** Bumped by every invalidation: a tile made before it is not stored. */
  generation = 0
  hits = 0
  misses = 0

  constructor(private maxBytes = 256 * 1024 * 1024) {}

  static key(layer: string, z: number, x: number, y: number) {
    return `${layer}/${z}/${x}/${y}`
  }

  get(key: string): CachedTile | undefined {
    const e = this.entries.get(key)
    if (!e) {
      this.misses++
      return undefined
    }
    this.entries.delete(key)
    this.entries.set(key, e) // most recently used last
    this.hits++
    return e.tile
  }

  set(layer: string, z: number, x: number, y: number, tile: CachedTile, generation: number) {
    if (generation !== this.generation) return
    const key = TileCache.key(layer, z, x, y)
    const old = this.entries.get(key)
    if (old) this.size -= old.tile.body.length
    this.entries.set(key, { layer, z, x, y, tile })
    this.size += tile.body.length
    for (const [k, e] of this.entries) {
      if (this.size <= this.maxBytes) break
      this.entries.delete(k)
      this.size -= e.tile.body.length
    }
  }

  get count() {
    return this.entries.size
  }

  clear() {
    this.generation++
    this.entries.clear()
    this.size = 0
  }

  /** Drops the cached tiles the changes touch; returns how many. */
  invalidate(changes: Change[]): number {
    this.generation++
    if (!changes.length) return 0
    let dropped = 0
    const margin = BUFFER / EXTENT
    for (const [key, e] of this.entries) {
      const tileLayer = tileLayerByName.get(e.layer)
      if (!tileLayer) continue
      const kinds = new Set(tileLayer.layers.map((l) => bandAt(l, e.z)?.kind).filter(Boolean))
      const hit = changes.some(([kind, w, s, east, n]) => {
        if (!kinds.has(kind)) return false
        const x0 = lonToTileX(w, e.z), x1 = lonToTileX(east, e.z)
        const y0 = latToTileY(n, e.z), y1 = latToTileY(s, e.z)
        return x1 >= e.x - margin && x0 <= e.x + 1 + margin && y1 >= e.y - margin && y0 <= e.y + 1 + margin
      })
      if (hit) {
        this.entries.delete(key)
        this.size -= e.tile.body.length
        dropped++
      }
    }
    return dropped
  }
}
