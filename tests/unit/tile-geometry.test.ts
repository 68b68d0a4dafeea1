import { describe, expect, it } from 'vitest'
import { ringArea, rint, toTileGeometry, type Bounds } from '../../tiles/tile-geometry.ts'

// A tile 4096 m wide with its lower-left corner at the origin: one metre is one pixel, y flipped.
const bounds: Bounds = [0, 0, 4096, 4096]
const at = (x: number, y: number) => [x, 4096 - y] // tile pixel → EPSG:3857 metre

describe('tile geometry for the JS encoder', () => {
  it('rounds half to even, as ST_SnapToGrid', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, 2.5001].map(rint)).toEqual([0, 2, 2, -0, -2, -2, 2, 3])
  })

  it('puts a point in pixels, y down, and drops it past the buffer', () => {
    expect(toTileGeometry({ type: 'Point', coordinates: at(10.4, 20.6) }, bounds)).toEqual({ type: 1, geometry: [[10, 21]] })
    expect(toTileGeometry({ type: 'Point', coordinates: at(-64, 4160) }, bounds)).toEqual({ type: 1, geometry: [[-64, 4160]] })
    expect(toTileGeometry({ type: 'Point', coordinates: at(-65, 100) }, bounds)).toBeUndefined()
    expect(toTileGeometry({ type: 'Point', coordinates: at(100, 4161) }, bounds)).toBeUndefined()
  })

  it('clips a polygon to the buffer and writes its shell positive, its holes negative', () => {
    // Counter-clockwise on screen as given: the shell must come back turned.
    const shell = [at(-1000, 100), at(-1000, 1000), at(200, 1000), at(200, 100), at(-1000, 100)]
    const hole = [at(50, 200), at(150, 200), at(150, 300), at(50, 300), at(50, 200)]
    const g = toTileGeometry({ type: 'Polygon', coordinates: [shell, hole] }, bounds)!
    expect(g.type).toBe(3)
    const [s, h] = g.geometry as [number, number][][]
    expect(Math.min(...s.map((p) => p[0]))).toBe(-64)
    expect(ringArea(s)).toBe((200 + 64) * 900)
    expect(ringArea(h)).toBe(-100 * 100)
  })

  it('drops a polygon that snaps flat and a hole that collapses', () => {
    expect(toTileGeometry({ type: 'Polygon', coordinates: [[at(10, 10), at(10.2, 10.1), at(10.3, 10.4), at(10, 10)]] }, bounds)).toBeUndefined()
    const shell = [at(0, 0), at(0, 100), at(100, 100), at(100, 0), at(0, 0)]
    const speck = [at(50, 50), at(50.1, 50), at(50.1, 50.1), at(50, 50)]
    const g = toTileGeometry({ type: 'Polygon', coordinates: [shell, speck] }, bounds)!
    expect(g.geometry).toHaveLength(1)
    // Wholly outside the buffer: nothing.
    expect(toTileGeometry({ type: 'Polygon', coordinates: [[at(5000, 0), at(5000, 100), at(5100, 100), at(5000, 0)]] }, bounds)).toBeUndefined()
  })

  it('keeps each polygon of a multipolygon on its own', () => {
    const square = (x: number) => [at(x, 0), at(x, 10), at(x + 10, 10), at(x + 10, 0), at(x, 0)]
    const g = toTileGeometry({ type: 'MultiPolygon', coordinates: [[square(0)], [square(100)]] }, bounds)!
    expect(g.geometry).toHaveLength(2)
    for (const r of g.geometry as [number, number][][]) expect(ringArea(r)).toBe(100)
  })

  it('cuts a line leaving and re-entering the tile into parts, and drops one that snaps to a point', () => {
    const g = toTileGeometry({ type: 'LineString', coordinates: [at(0, 10), at(5000, 10), at(5000, 20), at(0, 20)] }, bounds)!
    expect(g).toEqual({ type: 2, geometry: [[[0, 10], [4160, 10]], [[4160, 20], [0, 20]]] })
    expect(toTileGeometry({ type: 'LineString', coordinates: [at(10, 10), at(10.2, 10.2)] }, bounds)).toBeUndefined()
  })

  it('ignores what MVT cannot hold in one feature', () => {
    expect(toTileGeometry({ type: 'GeometryCollection', geometries: [] }, bounds)).toBeUndefined()
  })
})
