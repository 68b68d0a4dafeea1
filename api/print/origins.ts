/**
 * Where a print render's browser may load from: this server on loopback, and
 * the basemap the operator configured (its tiles are drawn on the sheet).
 * Nothing from the request decides it; the page's requests to anywhere else
 * are refused (a second wall behind the fixed origin it is sent to).
 */
import type { Basemap } from '../basemap.ts'

/** The origins of the configured basemap's tile templates or PMTiles archive. */
export function basemapOrigins(basemap: Basemap | null | undefined): string[] {
  if (!basemap) return []
  const urls = 'tiles' in basemap ? basemap.tiles : [basemap.url.replace(/^pmtiles:\/\//, '')]
  return [...new Set(urls.map((u) => new URL(u.replace(/[{}]/g, '')).origin))]
}

/** Whether the render's page may fetch `url`: an allowed origin, or data the page made itself (data:, blob:). */
export function mayLoad(url: string, origins: readonly string[]): boolean {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return false
  }
  if (u.protocol === 'data:' || u.protocol === 'blob:') return true
  return (u.protocol === 'http:' || u.protocol === 'https:') && origins.includes(u.origin)
}
