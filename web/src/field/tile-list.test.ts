import { describe, expect, it } from 'vitest'
import { basemapUrl, drawZoom, MAX_TILES, tileBox, tilesCovering, tilesToKeep, widen, type Bbox } from './tile-list.ts'

// A 3 × 3 km grid near Zhaotong (27.3° N): 3 km is 0.0303° of longitude and 0.0269° of latitude there.
const grid: Bbox = [103.70, 27.30, 103.7303, 27.3269]

describe('the tiles a phone keeps for its grid', () => {
  it('covers the grid and its margin at z12–16, and nothing far outside it', () => {
    const { urls, zooms } = tilesToKeep(grid, null)
    expect(zooms).toEqual([12, 13, 14, 15, 16])
    // Two vector layers, no basemap configured (the offline default).
    expect(urls.every((u) => /^\/tiles\/(grids|households)\/1[2-6]\/\d+\/\d+\.mvt$/.test(u))).toBe(true)
    expect(new Set(urls).size).toBe(urls.length)
    // A few km: about a hundred tiles a layer, not thousands.
    expect(urls.length).toBeGreaterThan(2 * 60)
    expect(urls.length).toBeLessThan(2 * 140)
    // Every kept z16 tile touches the grid widened by the margin (300 m, say 0.004°); the corner tiles of the grid are in.
    const box = widen(grid, 300)
    for (const u of urls.filter((x) => x.includes('/16/'))) {
      const [, , , , x, y] = u.split(/[/.]/)
      const [w, s, e, n] = tileBox({ z: 16, x: Number(x), y: Number(y) })
      expect(w <= box[2] && e >= box[0] && s <= box[3] && n >= box[1]).toBe(true)
    }
    for (const [lon, lat] of [[grid[0], grid[1]], [grid[2], grid[3]]]) {
      const [t] = tilesCovering([lon, lat, lon, lat], 16)
      expect(urls).toContain(`/tiles/grids/16/${t.x}/${t.y}.mvt`)
    }
  })

  it('adds the configured basemap\'s raster tiles, one host per tile, and skips what is not http(s)', () => {
    const templates = ['https://a.tile.example/{z}/{x}/{y}.png', 'https://b.tile.example/{z}/{x}/{y}.png']
    const { urls } = tilesToKeep(grid, { tiles: templates })
    const raster = urls.filter((u) => u.startsWith('https://'))
    expect(raster.length).toBe(urls.filter((u) => u.startsWith('/tiles/grids/')).length)
    expect(basemapUrl(templates, { z: 16, x: 3, y: 4 })).toBe('https://b.tile.example/16/3/4.png')
    expect(tilesToKeep(grid, { tiles: ['javascript:alert(1)//{z}{x}{y}'] }).urls.some((u) => !u.startsWith('/tiles/'))).toBe(false)
    // A PMTiles archive is not kept tile by tile.
    expect(tilesToKeep(grid, { url: 'pmtiles://https://x.example/a.pmtiles' }).urls.every((u) => u.startsWith('/tiles/'))).toBe(true)
  })

  it('drops the closest zooms whole when a grid is too large, keeping the overview', () => {
    const huge: Bbox = [103.5, 27.1, 103.9, 27.5]
    const { urls, zooms } = tilesToKeep(huge, null)
    expect(urls.length).toBeLessThanOrEqual(MAX_TILES)
    expect(zooms[0]).toBe(12)
    expect(zooms).not.toContain(16)
    for (const z of zooms) expect(urls.filter((u) => u.includes(`/${z}/`)).length).toBe(2 * tilesCovering(widen(huge, 300), z).length)
  })

  it('draws a 3 km grid on a phone-wide map at z14 or z15', () => {
    expect([14, 15]).toContain(drawZoom(widen(grid, 300), 340))
    expect(drawZoom([103, 27, 104, 28], 340)).toBe(12)
  })
})
