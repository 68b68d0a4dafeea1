import { cellToBoundary, latLngToCell } from 'h3-js'
import { describe, expect, it } from 'vitest'
import { decodeRing, encodeRing, type HexagonAnswer } from '../../../core/contracts/hexagons.ts'
import { hexagonFeatures, hexagonResAtZoom } from './hexagons.ts'

describe('hexagon view', () => {
  it('takes one resolution per zoom band, finer as the map comes closer', () => {
    const zooms = [5, 7.9, 8, 9.4, 9.5, 10.4, 10.5, 11.9]
    expect(zooms.map(hexagonResAtZoom)).toEqual([5, 5, 6, 6, 7, 7, 8, 8])
  })

  it('encodes an outline as whole steps after its first vertex, and decodes it back', () => {
    const pts: [number, number][] = [[103.71234, 27.61234], [103.71634, 27.61034], [103.71, 27.6]]
    const ring = encodeRing(pts)
    expect(ring).toEqual([103.71234, 27.61234, 400, -200, -634, -1034])
    expect(decodeRing(ring)).toEqual(pts)
    expect(decodeRing([])).toEqual([])
  })

  it('turns the columns into closed polygons with their counts and red / yellow shares', () => {
    const cell = latLngToCell(27.6, 103.7, 7)
    const ring = encodeRing(cellToBoundary(cell, true).slice(0, -1))
    const a: HexagonAnswer = {
      unit: '530602000000', res: 7, at: '2026-06-01T00:00:00Z', cells: [cell], rings: [ring],
      counts: { households: [3], red: [1], yellow: [1], green: [1], vulnerable: [2], threatened: [5], rain3h: [null], reports: [0], transfer: [0], transferSafe: [0] },
    }
    const [f] = hexagonFeatures(a).features
    const coords = (f.geometry as GeoJSON.Polygon).coordinates[0]
    expect(coords).toHaveLength(ring.length / 2 + 1)
    // Each vertex within a step (1e-5°, ≈ 1 m) of h3-js's own, with no drift along the ring.
    cellToBoundary(cell, true).slice(0, -1).forEach(([lon, lat], k) => {
      expect(Math.abs(coords[k][0] - lon)).toBeLessThanOrEqual(0.6e-5)
      expect(Math.abs(coords[k][1] - lat)).toBeLessThanOrEqual(0.6e-5)
    })
    expect(coords.at(-1)).toEqual(coords[0])
    expect(f.properties).toMatchObject({ cell, households: 3, red_share: 0.333, yellow_share: 0.333, rain3h: null, threatened: 5 })
  })
})
