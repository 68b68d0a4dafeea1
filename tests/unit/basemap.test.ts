import { describe, expect, it } from 'vitest'
import { basemapFromEnv } from '../../core/basemap.ts'

describe('basemap setting', () => {
  it('is offline when nothing is set', () => {
    expect(basemapFromEnv({})).toBeNull()
    expect(basemapFromEnv({ GRIDWATCH_BASEMAP: '  ', TIANDITU_KEY: '' })).toBeNull()
  })

  it('takes an XYZ template, with its attribution or its host', () => {
    expect(basemapFromEnv({ GRIDWATCH_BASEMAP: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png' })).toEqual({
      tiles: ['https://tile.openstreetmap.org/{z}/{x}/{y}.png'], attribution: 'tile.openstreetmap.org', tileSize: 256,
    })
    expect(basemapFromEnv({ GRIDWATCH_BASEMAP: 'http://10.0.0.5/t/{z}/{x}/{y}.png', GRIDWATCH_BASEMAP_ATTRIBUTION: '内网底图' })?.attribution).toBe('内网底图')
  })

  it('makes four Tianditu hosts from a key', () => {
    const b = basemapFromEnv({ TIANDITU_KEY: '0123456789abcdef0123456789ABCDEF' }) as { tiles: string[] }
    expect(b.tiles).toHaveLength(4)
    expect(b.tiles[2]).toContain('t2.tianditu.gov.cn')
    expect(b.tiles[0]).toContain('tk=0123456789abcdef0123456789ABCDEF')
  })

  it('refuses a template without {z}/{x}/{y}, a non-http URL or a malformed key, saying why', () => {
    expect(() => basemapFromEnv({ GRIDWATCH_BASEMAP: 'https://tile.example/{z}/{x}.png' })).toThrow(/\{z\} \{x\} \{y\}/)
    expect(() => basemapFromEnv({ GRIDWATCH_BASEMAP: 'file:///tiles/{z}/{x}/{y}.png' })).toThrow(/http/)
    expect(() => basemapFromEnv({ TIANDITU_KEY: 'abc' })).toThrow(/32/)
  })
})

describe('PMTiles basemap', () => {
  it('takes a pmtiles:// archive URL', () => {
    expect(basemapFromEnv({ GRIDWATCH_BASEMAP: 'pmtiles://https://maps.example.cn/zhaotong.pmtiles' })).toEqual({
      url: 'pmtiles://https://maps.example.cn/zhaotong.pmtiles', attribution: 'maps.example.cn', tileSize: 256,
    })
  })
  it('refuses a pmtiles:// URL that is not an http(s) .pmtiles file', () => {
    expect(() => basemapFromEnv({ GRIDWATCH_BASEMAP: 'pmtiles://zhaotong.pmtiles' })).toThrow(/pmtiles:\/\/http/)
    expect(() => basemapFromEnv({ GRIDWATCH_BASEMAP: 'pmtiles://https://maps.example.cn/zhaotong.mbtiles' })).toThrow(/pmtiles/)
  })
})
