import { describe, expect, it } from 'vitest'
import { inOutline, placesOf } from './place.ts'
import type { Today } from './types.ts'

const square = (x: number, y: number, d: number) => [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]

describe('places a report may be put at', () => {
  const outline: GeoJSON.MultiPolygon = { type: 'MultiPolygon', coordinates: [[square(103, 27, 1), square(103.4, 27.4, 0.2)], [square(105, 27, 0.5)]] }
  it('knows a point in the outline, not in its hole, in its second part', () => {
    expect(inOutline(outline, 103.1, 27.1)).toBe(true)
    expect(inOutline(outline, 103.5, 27.5)).toBe(false)
    expect(inOutline(outline, 105.2, 27.2)).toBe(true)
    expect(inOutline(outline, 104.5, 27.2)).toBe(false)
  })
  it('offers the phone first, the centre, the sites inside the grid only, the households', () => {
    const today = {
      grid: { outline, bbox: [103, 27, 105.5, 28], center: [103.2, 27.2] },
      hazards: [{ id: 1, name: 'in', lon: 103.1, lat: 27.1 }, { id: 2, name: 'out', lon: 104.5, lat: 27.1 }],
      households: [{ id: 9, householder: 'h', lon: 103.3, lat: 27.3 }],
    } as unknown as Today
    expect(placesOf(today, { lng: 103.01, lat: 27.01, accuracy: 12.4 }).map((p) => [p.key, p.accuracy ?? p.hazardSiteId ?? p.lng])).toEqual([
      ['phone', 12], ['center', 103.2], ['hazard-1', 1], ['household-9', 103.3],
    ])
    expect(placesOf({ ...today, grid: { ...today.grid, center: undefined } }, null)[0]).toMatchObject({ key: 'center', lng: 104.25, lat: 27.5 })
    // A point tapped on the map comes before the phone's position: the worker chose it.
    expect(placesOf(today, { lng: 103.01, lat: 27.01, accuracy: 12 }, { lng: 103.4, lat: 27.6 }).slice(0, 2).map((p) => [p.key, p.lng]))
      .toEqual([['tapped', 103.4], ['phone', 103.01]])
  })
})
