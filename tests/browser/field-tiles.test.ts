import { randomUUID } from 'node:crypto'
import type { Browser, BrowserContext, Page, Request } from 'playwright-core'
import { PNG } from 'pngjs'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { ensureWebBuild, webDist } from '../../scripts/web-build.ts'
import { tilesToKeep, widen, MARGIN_M, type Bbox } from '../../web/src/field/tile-list.ts'
import { chromiumPath, collectErrors, launch, screenshot } from '../helpers/browser.ts'
import { loginAs, TEST_PASSWORD, type Client } from '../helpers/session.ts'

const exe = chromiumPath()

/**
 * The field app's map tiles and photo thumbnails on a phone (issue #19): after
 * a first load with a signal the service worker keeps the grid's tiles (z12–16
 * of its box and margin, nothing else); with no signal the map tab draws the
 * neighbouring grids and their households from those tiles, every tile answered
 * by the service worker. A visit's photo shows as a thumbnail on the list and
 * the household's sheet, offline too.
 */
describe.skipIf(!exe)('the field app\'s kept map tiles and photo thumbnails', () => {
  let server: RunningServer
  let browser: Browser
  let ctx: BrowserContext
  let page: Page
  let errors: string[]
  let worker: Client
  let grid: { id: number; code: string; bbox: Bbox }
  let household: number, photoId: number
  let neighbours: string[]
  const tileRequests: string[] = []

  beforeAll(async () => {
    await ensureWebBuild({ quiet: true })
    server = await startServer({ port: 0, databaseUrl: inject('embeddedUrl'), seedScale: false, quiet: true, webDist })
    browser = await launch(exe!)
    const sql = server.db.sql
    // A grid with households and other grids around it (from the end of the list: field-app.test.ts takes the first).
    const [g] = await sql<{ id: number; code: string; bbox: Bbox }[]>`
      SELECT g.id, g.code, json_build_array(ST_XMin(g.geom), ST_YMin(g.geom), ST_XMax(g.geom), ST_YMax(g.geom)) AS bbox
      FROM grids g WHERE g.kind = 'basic' AND (SELECT count(*) FROM households h WHERE h.grid_id = g.id) >= 3
        AND (SELECT count(*) FROM grids o WHERE o.kind = 'basic' AND o.id <> g.id AND ST_Intersects(o.geom, ST_Expand(g.geom, 0.002))) >= 2
      ORDER BY g.code DESC LIMIT 1`
    grid = g
    const box = widen(grid.bbox, MARGIN_M)
    neighbours = (await sql<{ code: string }[]>`
      SELECT code FROM grids WHERE kind = 'basic' AND code <> ${grid.code} AND ST_Intersects(geom, ST_MakeEnvelope(${box[0]}, ${box[1]}, ${box[2]}, ${box[3]}, 4326))`)
      .map((r) => r.code)
    household = (await sql`SELECT min(id)::int AS id FROM households WHERE grid_id = ${grid.id}`)[0].id as number
    worker = await loginAs(server, 'grid_worker', grid.code)
    // A visit with a photo and its thumbnail, made earlier on another phone.
    const photo = new PNG({ width: 800, height: 600 })
    for (let i = 0; i < photo.data.length; i += 4) { photo.data[i] = 200; photo.data[i + 3] = 255 }
    const thumb = new PNG({ width: 240, height: 180 })
    for (let i = 0; i < thumb.data.length; i += 4) { thumb.data[i + 2] = 220; thumb.data[i + 3] = 255 }
    const r = await worker.send('POST', '/api/field/sync', { actions: [{
      id: randomUUID(), at: new Date().toISOString(), kind: 'visit', household, note: '房后有裂缝',
      photo: PNG.sync.write(photo).toString('base64'), thumb: PNG.sync.write(thumb).toString('base64'),
    }] })
    const answer = (await r.json()).results[0]
    expect(answer.outcome, JSON.stringify(answer)).toBe('applied')
    photoId = answer.result.photoId
    ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 })
    // Every tile asked for, by the page or by its service worker.
    ctx.on('request', (q: Request) => { if (q.url().includes('/tiles/')) tileRequests.push(new URL(q.url()).pathname) })
    page = await ctx.newPage()
    errors = collectErrors(page)
  })
  afterAll(async () => {
    await ctx?.close()
    await browser?.close()
    await server?.close()
  })

  it('keeps the grid\'s tiles z12–16 after a first load, and draws the map from them with no signal', async () => {
    await page.goto(`${server.url}/m/`)
    await page.locator('input[name=username]').fill(worker.username)
    await page.locator('input[name=password]').fill(TEST_PASSWORD)
    await page.getByRole('button', { name: '登录' }).tap()
    await page.getByTestId(`household-${household}`).waitFor()
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined))
    // Exactly the tiles of the grid's box and margin at z12–16 (no basemap configured: our vector tiles only).
    const want = tilesToKeep(grid.bbox, null).urls
    expect(want.length).toBeGreaterThan(20)
    const kept = async () => page.evaluate(async () => (await (await caches.open('gridwatch-field-tiles-v1')).keys()).map((k) => new URL(k.url).pathname))
    await expect.poll(async () => (await kept()).length, { timeout: 120_000 }).toBe(want.length)
    expect(new Set(await kept())).toEqual(new Set(want))

    // The thumbnail on the list, loaded (the service worker keeps it once seen).
    const small = page.getByTestId('photo-thumb-small').locator(`img[data-photo="${photoId}"]`)
    await small.scrollIntoViewIfNeeded()
    await expect.poll(() => small.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth), { timeout: 30_000 }).toBe(240)
    await page.getByTestId(`household-${household}`).tap()
    const big = page.getByTestId('photo-thumbs').locator(`img[data-photo="${photoId}"]`)
    await expect.poll(() => big.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth), { timeout: 30_000 }).toBe(240)
    await screenshot(page, 'field-household-thumb-390.png')

    // All the app's code (the map's too) is inside its page (vite.config.ts fieldApp), kept before the signal goes.
    await expect.poll(() => page.evaluate(async () => {
      const kept = await (await caches.open('gridwatch-field-v1')).match('/m/')
      const fetched = performance.getEntriesByType('resource').map((r) => new URL(r.name).pathname).filter((p) => p.startsWith('/assets/'))
      return fetched.length === 0 && !!kept && (await kept.text()).includes('<script type="module"')
    }), { timeout: 30_000 }).toBe(true)

    // No signal; the app opened again from the phone.
    await ctx.setOffline(true)
    tileRequests.length = 0
    const fromPage: { url: string; sw: boolean; status: number }[] = []
    page.on('response', (r) => { if (r.url().includes('/tiles/')) fromPage.push({ url: new URL(r.url()).pathname, sw: r.fromServiceWorker(), status: r.status() }) })
    await page.reload()
    await page.getByTestId(`household-${household}`).waitFor()
    await small.scrollIntoViewIfNeeded()
    await expect.poll(() => small.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth), { timeout: 30_000 }).toBe(240)
    await page.getByTestId('tab-map').tap()
    await page.getByTestId('grid-map').waitFor({ timeout: 60_000 })
    // The grids around this one, from the kept vector tiles: real neighbours, not this grid.
    await expect.poll(() => page.getByTestId('tile-grid').count(), { timeout: 30_000 }).toBeGreaterThan(0)
    const drawn = [...new Set(await page.getByTestId('tile-grid').evaluateAll((els) => els.map((e) => e.getAttribute('data-code')!)))]
    expect(drawn).not.toContain(grid.code)
    expect(drawn.some((c) => neighbours.includes(c))).toBe(true)
    expect(drawn.every((c) => /^[0-9]{15}$/.test(c))).toBe(true)
    // Every tile the map asked for came from the service worker, and only tiles kept for this grid were asked for.
    expect(fromPage.length).toBeGreaterThan(0)
    expect(fromPage.every((r) => r.sw && r.status === 200)).toBe(true)
    const kept2 = new Set(want)
    expect(tileRequests.filter((u) => !kept2.has(u))).toEqual([])
    expect(fromPage.filter((r) => !kept2.has(r.url))).toEqual([])
    await screenshot(page, 'field-map-tiles-390.png')
    await page.setViewportSize({ width: 360, height: 640 })
    await screenshot(page, 'field-map-tiles-360.png')
    // As the other field tests: the session check before logging in (401) and what no signal refuses.
    expect(errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|Failed to load resource/.test(e))).toEqual([])
  })
})
