/**
 * Where a print render's browser may load from: this server on loopback, and
 * the basemap the operator configured (its tiles are drawn on the sheet).
 * Nothing from the request decides it. Every other request fails in the
 * browser's network stack: a second wall behind the fixed origin it is sent to.
 */
import type { Basemap } from '../../core/basemap.ts'

/** The origins of the configured basemap's tile templates or PMTiles archive. */
export function basemapOrigins(basemap: Basemap | null | undefined): string[] {
  if (!basemap) return []
  const urls = 'tiles' in basemap ? basemap.tiles : [basemap.url.replace(/^pmtiles:\/\//, '')]
  return [...new Set(urls.map((u) => new URL(u.replace(/[{}]/g, '')).origin))]
}

/**
 * Chromium flags that let its pages reach `origins` only: everything goes to
 * a proxy that is not there (a closed loopback port: refused at once), but
 * for the origins named, and loopback loses its usual pass (`<-loopback>`),
 * so another port of this machine is refused too. Checked in the network
 * stack, for every request of every page and worker, at no cost per request
 * (a Playwright route pauses each of a render's hundreds of tile requests for
 * a round trip to this busy process: renders took twice as long).
 */
export function walledArgs(origins: readonly string[]): string[] {
  for (const o of origins) {
    if (!/^https?:\/\/([a-z0-9.-]+|\[[0-9a-f:.]+\])(:[0-9]{1,5})?$/.test(o) || new URL(o).origin !== o) throw new Error(`not an origin: ${o}`)
  }
  return ['--proxy-server=http://127.0.0.1:9', `--proxy-bypass-list=${['<-loopback>', ...origins].join(';')}`]
}
