/**
 * The published style (issue #22) as another MapLibre app uses it: a bare page with nothing of ours but
 * MapLibre and the style's URL (with a personal access token, as QGIS is given it) draws our grids, with
 * the map's 红黄绿 fill, households, hazard sites (sprite icons) and shelters.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { projectRoot } from '../../core/config.ts'
import { gridFill } from '../../core/map-style/colors.ts'
import { gridRiskColour } from '../../core/rules/risk.ts'
import { chromiumPath, collectErrors, launch, screenshot } from '../helpers/browser.ts'
import { loginAs } from '../helpers/session.ts'

const exe = chromiumPath()
const maplibre = path.join(projectRoot, 'node_modules', 'maplibre-gl', 'dist')

describe.skipIf(!exe)('the published style in a bare MapLibre page', () => {
  let server: RunningServer
  let browser: Browser
  let secret: string
  let userId = 0
  /** Where most households are, at zoom 14. */
  let center: [number, number]
  let hazardAt: [number, number]
  let shelterAt: [number, number]

  beforeAll(async () => {
    server = await startServer({ port: 0, databaseUrl: inject('embeddedUrl'), seedScale: false, quiet: true, proxy: { publicOrigin: null, trust: { kind: 'none' } } })
    const [t] = await server.db.sql`SELECT substr(g.code, 1, 9) || '000' AS code FROM households h JOIN grids g ON g.id = h.grid_id
                                    GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`
    const [h] = await server.db.sql`SELECT ST_X(ST_Centroid(ST_Collect(h.geom))) AS lon, ST_Y(ST_Centroid(ST_Collect(h.geom))) AS lat
                                    FROM households h JOIN grids g ON g.id = h.grid_id WHERE g.code LIKE ${(t.code as string).slice(0, 9) + '%'}`
    center = [h.lon, h.lat]
    const [site] = await server.db.sql`SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat FROM hazard_sites WHERE status = 'active' ORDER BY id LIMIT 1`
    hazardAt = [site.lon, site.lat]
    const [shelter] = await server.db.sql`SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat FROM shelters ORDER BY id LIMIT 1`
    shelterAt = [shelter.lon, shelter.lat]
    const staff = await loginAs(server, 'township', t.code)
    userId = staff.userId
    const r = await staff.send('POST', '/api/tokens', { name: '浏览器样式' })
    secret = (await r.json()).token
    browser = await launch(exe!)
  })
  afterAll(async () => {
    if (server) await server.db.sql`DELETE FROM access_tokens WHERE user_id = ${userId}`.catch(() => {})
    await browser?.close()
    await server?.close()
  })

  it('draws our layers from the style alone, token in its URL, no cookie', async () => {
    // 127.0.0.1, the address the style's absolute URLs name (the socket's): the page and the tiles share an origin.
    const origin = `http://127.0.0.1:${server.port}`
    const ctx = await browser.newContext({ viewport: { width: 1000, height: 700 } })
    const page = await ctx.newPage()
    const errors = collectErrors(page)
    // A page of no app of ours: MapLibre's own files and a few lines, served by the test (the API has no /bare/).
    const files: Record<string, string> = { 'maplibre-gl.css': 'text/css', 'maplibre-gl.mjs': 'text/javascript', 'maplibre-gl-shared.mjs': 'text/javascript', 'maplibre-gl-worker.mjs': 'text/javascript' }
    const styleUrl = `${origin}/styles/gridwatch.json?access_token=${secret}`
    await page.route(`${origin}/bare/**`, (route) => {
      const name = new URL(route.request().url()).pathname.slice('/bare/'.length)
      if (name === 'index.html') {
        return route.fulfill({
          contentType: 'text/html',
          body: `<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="maplibre-gl.css">
<style>html,body,#map{margin:0;height:100%}</style></head><body><div id="map"></div>
<script type="module">
import * as maplibregl from './maplibre-gl.mjs'
window.bare = new maplibregl.Map({ container: 'map', style: ${JSON.stringify(styleUrl)}, center: ${JSON.stringify(center)}, zoom: 14, attributionControl: false, fadeDuration: 0 })
</script></body></html>`,
        })
      }
      if (!files[name]) return route.fulfill({ status: 404, body: '' })
      return route.fulfill({ contentType: files[name], body: fs.readFileSync(path.join(maplibre, name)) })
    })
    await page.goto(`${origin}/bare/index.html`)
    await page.waitForFunction(() => {
      const map = (window as unknown as { bare?: import('maplibre-gl').Map }).bare
      return Boolean(map?.loaded() && map.areTilesLoaded() && map.isStyleLoaded())
    }, null, { timeout: 90_000 })
    await screenshot(page, 'published-style.png')

    const seen = await page.evaluate(() => {
      const map = (window as unknown as { bare: import('maplibre-gl').Map }).bare
      const count = (id: string) => map.queryRenderedFeatures({ layers: [id] }).length
      const grids = map.queryRenderedFeatures({ layers: ['grids-fill'] }).map((f) => {
        const c = f.layer.paint?.['fill-color' as never] as unknown as { r: number; g: number; b: number }
        return { red: Number(f.properties.red_share), yellow: Number(f.properties.yellow_share), rgb: [c.r, c.g, c.b].map((v) => Math.round(v * 255)) }
      })
      return {
        layers: Object.fromEntries(['grids-fill', 'grids-line', 'households', 'admin-line'].map((id) => [id, count(id)])),
        grids,
        images: ['hazard-大型', 'hazard-小型', 'shelter'].map((n) => map.hasImage(n)),
      }
    })
    for (const [id, n] of Object.entries(seen.layers)) expect(n, id).toBeGreaterThan(0)
    // Each grid painted in the map's colour for its shares, as core/rules/risk.ts says.
    expect(seen.grids.length).toBeGreaterThan(0)
    const hex = (rgb: number[]) => `#${rgb.map((v) => v.toString(16).padStart(2, '0')).join('')}`
    for (const g of seen.grids) expect(hex(g.rgb), JSON.stringify(g)).toBe(gridFill[gridRiskColour(g)])
    // The sprite loaded: its icons are the map's images, by name.
    expect(seen.images).toEqual([true, true, true])

    // Hazard sites and shelters are drawn with the sprite's icons where they are.
    for (const [layer, place] of [['hazards', hazardAt], ['shelters', shelterAt]] as const) {
      await page.evaluate((c) => (window as unknown as { bare: import('maplibre-gl').Map }).bare.jumpTo({ center: c, zoom: 13 }), place)
      await page.waitForFunction(() => {
        const map = (window as unknown as { bare: import('maplibre-gl').Map }).bare
        return map.loaded() && map.areTilesLoaded()
      }, null, { timeout: 60_000 })
      const n = await page.evaluate((id) => (window as unknown as { bare: import('maplibre-gl').Map }).bare.queryRenderedFeatures({ layers: [id] }).length, layer)
      expect(n, layer).toBeGreaterThan(0)
      await screenshot(page, `published-style-${layer}.png`)
    }
    expect(errors).toEqual([])
    await ctx.close()
  })
})
