import { describe, expect, it } from 'vitest'
import { basemapFromEnv } from '../../core/basemap.ts'
import { basemapOrigins, walledArgs } from '../../api/print/origins.ts'

describe('where a print render may load from', () => {
  const own = 'http://127.0.0.1:43123'

  it('the browser is let through to the origins named only, loopback losing its usual pass', () => {
    expect(walledArgs([own])).toEqual(['--proxy-server=http://127.0.0.1:9', `--proxy-bypass-list=<-loopback>;${own}`])
    expect(walledArgs([own, 'https://t0.tianditu.gov.cn'])[1]).toBe(`--proxy-bypass-list=<-loopback>;${own};https://t0.tianditu.gov.cn`)
  })

  it('refuses anything but a plain origin, which could widen the list', () => {
    for (const bad of ['127.0.0.1:43123', 'http://127.0.0.1:43123/', 'http://a.cn;*', 'http://a.cn,b.cn', 'http://*', 'file:///etc', 'http://a.cn/x', 'http://a .cn']) {
      expect(() => walledArgs([own, bad]), bad).toThrow()
    }
  })

  it('the configured basemap’s hosts: an XYZ template, a PMTiles archive, Tianditu’s four', () => {
    expect(basemapOrigins(null)).toEqual([])
    const xyz = basemapFromEnv({ GRIDWATCH_BASEMAP: 'https://tiles.example.cn:8443/{z}/{x}/{y}.png' })
    expect(basemapOrigins(xyz)).toEqual(['https://tiles.example.cn:8443'])
    const pm = basemapFromEnv({ GRIDWATCH_BASEMAP: 'pmtiles://http://10.0.0.5/maps/zt.pmtiles' })
    expect(basemapOrigins(pm)).toEqual(['http://10.0.0.5'])
    const tdt = basemapFromEnv({ TIANDITU_KEY: '0123456789abcdef0123456789abcdef' })
    expect(basemapOrigins(tdt)).toEqual([0, 1, 2, 3].map((n) => `https://t${n}.tianditu.gov.cn`))
    // Each is accepted by the wall.
    expect(() => walledArgs([own, ...basemapOrigins(xyz), ...basemapOrigins(pm), ...basemapOrigins(tdt)])).not.toThrow()
  })
})
