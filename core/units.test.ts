import { describe, expect, it } from 'vitest'
import { ancestorCodes, CITY_CODE, commonUnit, isUnitCode, scopeLevel, scopePrefix, inScope } from './units.ts'

describe('scopes are code prefixes', () => {
  it('reads the level from the code', () => {
    expect(scopeLevel('530600000000')).toBe('city')
    expect(scopeLevel('530602000000')).toBe('county')
    expect(scopeLevel('530602101000')).toBe('township')
    expect(scopeLevel('530602101201')).toBe('village')
    expect(scopeLevel('530602101201003')).toBe('grid')
    expect(scopePrefix('530602101000')).toBe('530602101')
  })

  it('puts a place inside its ancestors and nowhere else', () => {
    const grid = '530602101201003'
    const micro = '53060210120100302'
    for (const scope of ['530600000000', '530602000000', '530602101000', '530602101201', grid]) {
      expect(inScope(scope, grid), scope).toBe(true)
      expect(inScope(scope, micro), scope).toBe(true)
    }
    for (const scope of ['530621000000', '530602102000', '530602101202', '530602101201004']) expect(inScope(scope, grid), scope).toBe(false)
    // A township's staff do not reach up to their county, nor a grid worker to their village.
    expect(inScope('530602101000', '530602000000')).toBe(false)
    expect(inScope(grid, '530602101201')).toBe(false)
    // Township 101 is not a prefix match for township 1010… (codes are fixed-width).
    expect(inScope('530602101000', '530602102101')).toBe(false)
  })
})

describe('codes up and across', () => {
  it('names the chain of units above a code, the city first', () => {
    expect(ancestorCodes(CITY_CODE)).toEqual([CITY_CODE])
    expect(ancestorCodes('530602000000')).toEqual([CITY_CODE, '530602000000'])
    expect(ancestorCodes('530602101000')).toEqual([CITY_CODE, '530602000000', '530602101000'])
    expect(ancestorCodes('530602101201')).toEqual([CITY_CODE, '530602000000', '530602101000', '530602101201'])
  })

  it('takes a 12-digit code as a unit code and nothing else', () => {
    for (const ok of ['530602101201', CITY_CODE]) expect(isUnitCode(ok), ok).toBe(true)
    for (const bad of [null, '', '53060210120', '5306021012011', '53060210120a', '530602101201003']) expect(isUnitCode(bad), String(bad)).toBe(false)
  })

  it('finds the smallest admin unit holding grids', () => {
    expect(commonUnit(['530602100201001', '530602100201009'])).toBe('530602100201')
    expect(commonUnit(['530602100201001', '530602100202001'])).toBe('530602100000')
    expect(commonUnit(['530602100201001', '530602101201001'])).toBe('530602000000')
    expect(commonUnit(['530602100201001', '530621100201001'])).toBe('530600000000')
  })
})
