import { describe, expect, it } from 'vitest'
import { parseBbox } from './params.ts'
import { bboxToLonLat, crsUris, geometryIn, parseCrs } from './crs.ts'

describe('coordinate systems of the OGC API (Part 2)', () => {
  it('knows CRS84, EPSG:4326, EPSG:4490 and EPSG:3857 by URI or short name; anything else is a 400', () => {
    expect(crsUris).toEqual(['http://www.opengis.net/def/crs/OGC/1.3/CRS84', 'http://www.opengis.net/def/crs/EPSG/0/4326',
      'http://www.opengis.net/def/crs/EPSG/0/4490', 'http://www.opengis.net/def/crs/EPSG/0/3857'])
    expect(parseCrs('crs', 'http://www.opengis.net/def/crs/EPSG/0/4490').id).toBe('EPSG:4490')
    expect(parseCrs('crs', 'epsg:4490').id).toBe('EPSG:4490')
    expect(parseCrs('crs', '[http://www.opengis.net/def/crs/EPSG/0/3857]').id).toBe('EPSG:3857')
    for (const bad of ['EPSG:4214', 'http://www.opengis.net/def/crs/EPSG/0/999999', '', 'x']) {
      expect(() => parseCrs('crs', bad), bad).toThrow(expect.objectContaining({ status: 400, code: 'bad_parameter' }))
    }
  })
  it('writes latitude first in EPSG:4326 and EPSG:4490 (the same numbers: CGCS2000 agrees with WGS84 within a metre here)', () => {
    const g = '{"type":"Polygon","coordinates":[[[103.7,27.3],[103.8,27.3],[103.8,27.4],[103.7,27.3]]]}'
    for (const id of ['EPSG:4326', 'EPSG:4490']) {
      expect(JSON.parse(geometryIn(g, parseCrs('crs', id))).coordinates[0][1]).toEqual([27.3, 103.8])
    }
    expect(geometryIn(g, parseCrs('crs', 'CRS84'))).toBe(g)
  })
  it('writes Web Mercator metres to the centimetre', () => {
    const p = JSON.parse(geometryIn('{"type":"Point","coordinates":[103.7,27.3]}', parseCrs('crs', 'EPSG:3857'))).coordinates
    // 103.7° E = 11543831.2 m; 27.3° N = 3161003.04 m (the spherical formula).
    expect(p[0]).toBeCloseTo(11543831.2, 1)
    expect(p[1]).toBeCloseTo(3161003.04, 1)
    expect(Number.isInteger(Math.round(p[0] * 100))).toBe(true)
  })
  it('reads a box in each CRS as lon/lat w,s,e,n, checked there', () => {
    expect(bboxToLonLat('103.5,27.1,104,27.6', parseCrs('bbox-crs', 'CRS84'), parseBbox)).toEqual([103.5, 27.1, 104, 27.6])
    expect(bboxToLonLat('27.1,103.5,27.6,104', parseCrs('bbox-crs', 'EPSG:4490'), parseBbox)).toEqual([103.5, 27.1, 104, 27.6])
    const m = bboxToLonLat('11543831.2,3161003.04,11654000,3225000', parseCrs('bbox-crs', 'EPSG:3857'), parseBbox)
    expect(m[0]).toBeCloseTo(103.7, 5)
    expect(m[1]).toBeCloseTo(27.3, 3)
    // Latitude first: 103.5 as a latitude is out of range.
    expect(() => bboxToLonLat('103.5,27.1,104,27.6', parseCrs('bbox-crs', 'EPSG:4326'), parseBbox)).toThrow(expect.objectContaining({ status: 400 }))
    expect(() => bboxToLonLat('0,0,30000000,1', parseCrs('bbox-crs', 'EPSG:3857'), parseBbox)).toThrow(expect.objectContaining({ status: 400 }))
    expect(() => bboxToLonLat('a,b,c,d', parseCrs('bbox-crs', 'EPSG:3857'), parseBbox)).toThrow(expect.objectContaining({ status: 400 }))
  })
})
