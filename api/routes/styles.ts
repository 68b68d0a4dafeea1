import { Hono } from 'hono'
import { HttpError } from '../../core/errors.ts'
import { ACCESS_TOKEN_PATTERN } from '../auth/token-store.ts'
import { publicOrigin, socketOrigin, type ProxySettings } from '../proxy.ts'
import { publishedStyle, SPRITE } from '../styles/published.ts'
import { sprite } from '../styles/sprite.ts'

/**
 * Published MapLibre styles and their sprite (api/styles/), read with a session or a personal access
 * token (auth/token-auth.ts), for QGIS's vector-tile connection and other MapLibre apps.
 */
export function styleRoutes(bounds: () => [number, number, number, number], proxy: ProxySettings) {
  const app = new Hono()

  app.get('/styles/:file', (c) => {
    const file = c.req.param('file')
    const m = /^([a-z0-9-]{1,40})\.json$/.exec(file)
    if (!m) throw new HttpError(404, 'not_found', `没有这个样式文件：${file}（应为 /styles/{名称}.json）`, `no such style file: ${file} (expected /styles/{name}.json)`)
    // Absolute URLs (QGIS drops the port of a root-relative sprite URL): our configured origin, else the
    // address the connection reached, as the OGC API does; never the Host header.
    const origin = publicOrigin(c, proxy) ?? socketOrigin(c) ?? ''
    // QGIS fetches the style and its sprite with no header of the connection's: a token it was given in
    // the style's URL must ride on into the sprite and tile URLs. Only a well-formed one, the caller's own.
    const given = c.req.query('access_token')
    const token = given && ACCESS_TOKEN_PATTERN.test(given) ? given : undefined
    const style = publishedStyle(m[1], { origin, token, bounds: bounds() })
    // A style that holds a token is kept by nobody; one without is the same for every reader of this origin.
    c.header('Cache-Control', token ? 'private, no-store' : 'private, max-age=60')
    return c.json(style)
  })

  app.get('/styles/sprites/:file', (c) => {
    const file = c.req.param('file')
    const m = /^([a-z0-9-]{1,40})(@2x)?\.(json|png)$/.exec(file)
    if (!m || m[1] !== SPRITE) {
      throw new HttpError(404, 'unknown_sprite', `没有这个图标集文件：${file}（应为 ${SPRITE}.json、${SPRITE}.png 或其 @2x）`, `no such sprite file: ${file} (expected ${SPRITE}.json, ${SPRITE}.png or their @2x)`)
    }
    const s = sprite(m[2] ? 2 : 1)
    c.header('Cache-Control', 'private, max-age=3600')
    if (m[3] === 'json') return c.json(s.index)
    return c.body(new Uint8Array(s.png), 200, { 'Content-Type': 'image/png' })
  })
  return app
}
