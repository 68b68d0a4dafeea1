import { describe, expect, it } from 'vitest'
import { corsHeaders, parseCorsOrigins } from './cors.ts'

describe('the origins that may read across origins', () => {
  it('takes origins separated by commas or spaces, lower-cased', () => {
    expect(parseCorsOrigins('https://Portal.example.cn, http://10.0.0.5:8088  https://gis.example.cn')).toEqual(
      ['https://portal.example.cn', 'http://10.0.0.5:8088', 'https://gis.example.cn'])
    expect(parseCorsOrigins(undefined)).toEqual([])
    expect(parseCorsOrigins('  ')).toEqual([])
  })
  it('refuses what is not an origin: a path, a wildcard, no scheme, another scheme', () => {
    for (const bad of ['https://portal.example.cn/', 'https://portal.example.cn/map', '*', 'portal.example.cn', 'ftp://x.cn', 'https://a.cn:123456', 'null']) {
      expect(() => parseCorsOrigins(bad), bad).toThrow(/GRIDWATCH_CORS_ORIGINS/)
    }
  })
  it('answers a listed origin with itself and credentials, any other with Vary alone, and nothing when none is listed', () => {
    const list = parseCorsOrigins('https://portal.example.cn')
    expect(corsHeaders(list, 'https://PORTAL.example.cn')).toMatchObject({
      'Access-Control-Allow-Origin': 'https://PORTAL.example.cn', 'Access-Control-Allow-Credentials': 'true', Vary: 'Origin',
    })
    expect(corsHeaders(list, 'https://evil.example.com')).toEqual({ Vary: 'Origin' })
    expect(corsHeaders(list, 'https://portal.example.cn.evil.com')).toEqual({ Vary: 'Origin' })
    expect(corsHeaders(list, undefined)).toEqual({ Vary: 'Origin' })
    expect(corsHeaders([], 'https://portal.example.cn')).toEqual({})
  })
})
