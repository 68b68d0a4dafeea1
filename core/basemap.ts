/**
 * The optional online basemap under our own layers. Offline is the default
 * (many command rooms have no internet): the map then draws on its plain
 * background with our admin outlines and labels. GRIDWATCH_BASEMAP is an XYZ
 * raster template ({z}/{x}/{y}, e.g. OpenStreetMap or an intranet tile
 * server) or a raster PMTiles archive (pmtiles://https://…/file.pmtiles, read
 * by HTTP range requests); TIANDITU_KEY selects Tianditu's vector map.
 */
export type Basemap =
  | { tiles: string[]; attribution: string; tileSize: number }
  | { url: string; attribution: string; tileSize: number }

export function basemapFromEnv(env: Record<string, string | undefined>): Basemap | null {
  const url = env.GRIDWATCH_BASEMAP?.trim()
  const tk = env.TIANDITU_KEY?.trim()
  if (url?.startsWith('pmtiles://')) {
    const archive = url.slice('pmtiles://'.length)
    if (!/^https?:\/\/.+\.pmtiles$/.test(archive)) {
      throw new Error(`GRIDWATCH_BASEMAP 的 PMTiles 地址须为 pmtiles://http(s)://….pmtiles / a PMTiles basemap is pmtiles://http(s)://….pmtiles; got "${url}"`)
    }
    return { url, attribution: env.GRIDWATCH_BASEMAP_ATTRIBUTION ?? new URL(archive).host, tileSize: 256 }
  }
  if (url) {
    if (!/^https?:\/\//.test(url) || !['{z}', '{x}', '{y}'].every((p) => url.includes(p))) {
      throw new Error(`GRIDWATCH_BASEMAP 须为含 {z} {x} {y} 的 http(s) 瓦片地址 / must be an http(s) XYZ template with {z}, {x}, {y}; got "${url}"`)
    }
    return { tiles: [url], attribution: env.GRIDWATCH_BASEMAP_ATTRIBUTION ?? new URL(url.replace(/[{}]/g, '')).host, tileSize: 256 }
  }
  if (tk) {
    if (!/^[0-9a-f]{32}$/i.test(tk)) throw new Error('TIANDITU_KEY 须为 32 位十六进制 / must be 32 hex digits')
    // Tianditu's Web Mercator vector map (vec_w); its label layer is drawn by our own labels.
    const tiles = [0, 1, 2, 3].map((n) => `https://t${n}.tianditu.gov.cn/DataServer?T=vec_w&x={x}&y={y}&l={z}&tk=${tk}`)
    return { tiles, attribution: '天地图 © 国家地理信息公共服务平台', tileSize: 256 }
  }
  return null
}
