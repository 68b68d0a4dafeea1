import { describe, expect, it } from 'vitest'
import { basemapFromEnv } from '../../api/basemap.ts'
import { basemapOrigins, mayLoad } from '../../api/print/origins.ts'

describe('where a print render may load from', () => {
  const own = 'http://127.0.0.1:43123'

  it('its own loopback origin, and nothing else it is not given', () => {
    expect(mayLoad(`${own}/print?unit=530600000000`, [own])).toBe(true)
    expect(mayLoad(`${own}/tiles/households/14/1/2.mvt`, [own])).toBe(true)
    for (const url of [
      'http://127.0.0.1:43124/print', 'http://localhost:43123/print', 'https://127.0.0.1:43123/print', 'http://[::1]:43123/print',
      'http://169.254.169.254/latest/meta-data/', 'http://evil.example/print', 'ws://127.0.0.1:43123/', 'file:///etc/passwd', 'ftp://127.0.0.1:43123/', 'not a url',
    ]) expect(mayLoad(url, [own]), url).toBe(false)
  })

  it('data the page made itself', () => {
    expect(mayLoad('data:image/png;base64,iVBORw0KGgo=', [own])).toBe(true)
    expect(mayLoad(`blob:${own}/6e0c6e0c-0000-4000-8000-000000000000`, [own])).toBe(true)
  })

  it('the configured basemap’s hosts: an XYZ template, a PMTiles archive, Tianditu’s four', () => {
    expect(basemapOrigins(null)).toEqual([])
    const xyz = basemapFromEnv({ GRIDWATCH_BASEMAP: 'https://tiles.example.cn:8443/{z}/{x}/{y}.png' })
    expect(basemapOrigins(xyz)).toEqual(['https://tiles.example.cn:8443'])
    expect(mayLoad('https://tiles.example.cn:8443/3/4/5.png', [own, ...basemapOrigins(xyz)])).toBe(true)
    expect(mayLoad('https://tiles.example.cn/3/4/5.png', [own, ...basemapOrigins(xyz)])).toBe(false)
    const pm = basemapFromEnv({ GRIDWATCH_BASEMAP: 'pmtiles://http://10.0.0.5/maps/zt.pmtiles' })
    expect(basemapOrigins(pm)).toEqual(['http://10.0.0.5'])
    const tdt = basemapFromEnv({ TIANDITU_KEY: '0123456789abcdef0123456789abcdef' })
    expect(basemapOrigins(tdt)).toEqual([0, 1, 2, 3].map((n) => `https://t${n}.tianditu.gov.cn`))
  })
})
