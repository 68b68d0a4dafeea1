import { describe, expect, it } from 'vitest'
import { TileCache, type CachedTile } from '../../tiles/cache.ts'
import { tilesCovering, isValidTile, tileBounds3857 } from '../../tiles/tile-math.ts'

const tile = (n = 10): CachedTile => ({ body: Buffer.alloc(n), gzipped: true, etag: '"x"', bytes: n })
const lon = 103.72, lat = 27.34

describe('tile math', () => {
  it('validates coordinates', () => {
    expect(isValidTile({ z: 0, x: 0, y: 0 })).toBe(true)
    expect(isValidTile({ z: 3, x: 8, y: 0 })).toBe(false)
    expect(isValidTile({ z: -1, x: 0, y: 0 })).toBe(false)
    expect(isValidTile({ z: 23, x: 0, y: 0 })).toBe(false)
    expect(isValidTile({ z: 2, x: 1.5, y: 0 })).toBe(false)
  })
  it('finds the tile of a point and the world tile bounds', () => {
    const [t] = tilesCovering([lon, lat, lon, lat], 14)
    expect(t).toEqual({ z: 14, x: 12912, y: 6897 })
    expect(tileBounds3857({ z: 0, x: 0, y: 0 })[2]).toBeCloseTo(20037508.34, 1)
  })
})

describe('TileCache invalidation', () => {
  it('drops exactly the tiles of layers showing the changed kind, near the change', () => {
    const c = new TileCache()
    const [here] = tilesCovering([lon, lat, lon, lat], 14)
    const g = c.generation
    c.set('households', 14, here.x, here.y, tile(), g) // shows kind "household" at z14
    c.set('households', 14, here.x + 5, here.y, tile(), g) // far away
    c.set('hazards', 14, here.x, here.y, tile(), g) // other kind
    c.set('households', 9, here.x >> 5, here.y >> 5, tile(), g) // z9 shows village aggregates, not points
    expect(c.invalidate([['household', lon, lat, lon, lat]])).toBe(1)
    expect(c.get(TileCache.key('households', 14, here.x, here.y))).toBeUndefined()
    expect(c.get(TileCache.key('households', 14, here.x + 5, here.y))).toBeDefined()
    expect(c.get(TileCache.key('hazards', 14, here.x, here.y))).toBeDefined()
    expect(c.get(TileCache.key('households', 9, here.x >> 5, here.y >> 5))).toBeDefined()
    expect(c.invalidate([['label_village', lon, lat, lon, lat]])).toBe(1)
  })
  it('drops a neighbour whose render buffer reaches the change', () => {
    const c = new TileCache()
    const [here] = tilesCovering([lon, lat, lon, lat], 16)
    // a point just inside the west edge of `here` is in the buffer of the tile to the west
    const west = here.x - 1
    const edgeLon = (here.x / 2 ** 16) * 360 - 180 + 1e-7
    c.set('households', 16, west, here.y, tile(), c.generation)
    expect(c.invalidate([['household', edgeLon, lat, edgeLon, lat]])).toBe(1)
  })
  it('does not store a tile made before a change', () => {
    const c = new TileCache()
    const before = c.generation
    c.invalidate([])
    c.set('grids', 12, 1, 1, tile(), before)
    expect(c.count).toBe(0)
  })
  it('evicts least recently used tiles beyond its byte budget', () => {
    const c = new TileCache(25)
    c.set('grids', 12, 1, 1, tile(), 0)
    c.set('grids', 12, 1, 2, tile(), 0)
    c.get(TileCache.key('grids', 12, 1, 1))
    c.set('grids', 12, 1, 3, tile(), 0)
    expect(c.get(TileCache.key('grids', 12, 1, 2))).toBeUndefined()
    expect(c.get(TileCache.key('grids', 12, 1, 1))).toBeDefined()
  })
})
