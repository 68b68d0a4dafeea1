import type { Browser, Page } from 'playwright-core'
import { PNG } from 'pngjs'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import type { HexagonAnswer } from '../../core/contracts/hexagons.ts'
import { gridRiskColour, riskShare } from '../../core/rules/risk.ts'
import { ensureWebBuild, webDist } from '../../scripts/web-build.ts'
import { chromiumPath, launch, openPage, screenshot, waitForIdle, waitForMap } from '../helpers/browser.ts'
import { loginAs, type Client } from '../helpers/session.ts'
import { clearStorms, recentStormHistory } from '../helpers/wall.ts'

const exe = chromiumPath()
const COUNTY = '530626'
const UNIT = COUNTY + '000000'

/** The hexagons MapLibre has drawn: their cells and the properties the colour reads. */
const drawnHexagons = (page: Page) => page.evaluate(() => {
  const map = window.__gridwatch!.map!
  if (!map.getLayer('hexagons-fill')) return []
  return map.queryRenderedFeatures({ layers: ['hexagons-fill'] })
    .map((f) => f.properties as { cell: string; households: number; red: number; yellow: number; red_share: number; yellow_share: number })
})

/** The wall's hexagon fill opacity at one household (strong at rest, dim while a storm is on). */
const leastOpacity = (page: Page) => page.evaluate(() => (window.__gridwatch!.map!.getPaintProperty('hexagons-fill', 'fill-opacity') as unknown[])[4] as number)

/** Share of the box's pixels (fractions of the screenshot) brighter than the wall's dark ground. */
function litShare(png: PNG, [x0, y0, x1, y1]: number[]) {
  let lit = 0, all = 0
  for (let y = Math.floor(y0 * png.height); y < y1 * png.height; y++) {
    for (let x = Math.floor(x0 * png.width); x < x1 * png.width; x++) {
      const i = (y * png.width + x) * 4
      all++
      if (png.data[i] + png.data[i + 1] + png.data[i + 2] > 120) lit++
    }
  }
  return lit / all
}

/** The hexagon view (H3) drawn by MapLibre: on the command map when switched on, and on the wall at rest. */
describe.skipIf(!exe)('hexagons in Chromium', () => {
  let server: RunningServer
  let browser: Browser
  let commander: Client

  beforeAll(async () => {
    await ensureWebBuild({ quiet: true })
    server = await startServer({ port: 0, databaseUrl: inject('embeddedUrl'), seedScale: false, quiet: true, webDist, reportSweepEveryMs: 3600_000 })
    browser = await launch(exe!)
    commander = await loginAs(server, 'commander', UNIT)
  })
  afterAll(async () => {
    if (server) await clearStorms(server.db.sql)
    await browser?.close()
    await server?.close()
  })

  const open = (path: string, viewport = { width: 1600, height: 900 }) => openPage(browser, commander.cookie, `${server.url}${path}`, viewport)

  it('the command map draws the hexagons of the county when switched on in the layer list, coloured by the risk rule', async () => {
    const { page, errors } = await open(`/?unit=${UNIT}`)
    await waitForMap(page)
    await waitForIdle(page)
    expect(await drawnHexagons(page)).toEqual([])
    const box = page.getByTestId('layer-hexagons')
    if (!(await box.isVisible())) await page.getByTestId('layers-fold').click()
    const asked = page.waitForResponse((r) => r.url().includes('/api/hexagons?'))
    await box.check()
    const answer = (await (await asked).json()) as HexagonAnswer
    expect(answer.unit).toBe(UNIT)
    await page.waitForFunction(() => (window.__gridwatch!.map!.queryRenderedFeatures({ layers: ['hexagons-fill'] }).length ?? 0) > 0, null, { timeout: 30_000 })
    await waitForIdle(page)
    const drawn = await drawnHexagons(page)
    const cells = new Set(drawn.map((d) => d.cell))
    // Most of the county's cells with households are on screen (the map fits the county).
    const withHouseholds = answer.cells.filter((_, i) => answer.counts.households[i] > 0)
    expect(cells.size).toBeGreaterThan(withHouseholds.length * 0.8)
    for (const d of drawn) {
      const i = answer.cells.indexOf(d.cell)
      expect(d.households).toBe(answer.counts.households[i])
      expect(d.red_share).toBe(riskShare(answer.counts.red[i], answer.counts.households[i]))
    }
    // Both sides of the rule are there to see (the test county has red and green cells at this resolution).
    const colours = new Set(drawn.map((d) => gridRiskColour({ red: d.red_share, yellow: d.yellow_share })))
    expect(colours.size).toBeGreaterThan(1)
    const fold = page.getByTestId('legend').getByRole('button')
    if ((await fold.getAttribute('aria-expanded')) !== 'true') await fold.click()
    await page.getByTestId('legend-hexagons').waitFor()
    await screenshot(page, 'map-hexagons.png')
    // Switched off: gone.
    await box.uncheck()
    await page.waitForFunction(() => window.__gridwatch!.map!.queryRenderedFeatures({ layers: ['hexagons-fill'] }).length === 0, null, { timeout: 10_000 })
    expect(errors).toEqual([])
    await page.close()
  })

  it('switched on while the map is still loading tiles, the hexagons are drawn all the same', async () => {
    const { page } = await open(`/?unit=${UNIT}`)
    await waitForMap(page)
    await waitForIdle(page)
    // Hold every tile from now on and zoom in: the map is busy (MapLibre's isStyleLoaded() is false) when the
    // switch comes, long after its style was loaded: a layer waiting for 'style.load' again never came.
    let release!: () => void
    const held = new Promise<void>((r) => { release = r })
    let holding = 0
    await page.route('**/tiles/**', async (route) => { holding++; await held; await route.continue().catch(() => {}) })
    await page.evaluate(() => { const m = window.__gridwatch!.map!; m.jumpTo({ zoom: Math.floor(m.getZoom()) + 1 }) })
    await expect.poll(() => holding).toBeGreaterThan(0)
    expect(await page.evaluate(() => window.__gridwatch!.map!.isStyleLoaded())).toBe(false)
    const box = page.getByTestId('layer-hexagons')
    if (!(await box.isVisible())) await page.getByTestId('layers-fold').click()
    await box.check()
    await page.waitForFunction(() => !!window.__gridwatch!.map!.getLayer('hexagons-fill'), null, { timeout: 15_000 })
    release()
    await page.close()
  })

  it('the wall at rest shows its area in hexagons, not a dark map', async () => {
    const { page, errors } = await open(`/screen?unit=${UNIT}`, { width: 1920, height: 1080 })
    await page.waitForFunction(() => {
      const map = window.__gridwatch?.map
      return !!map?.getLayer('hexagons-fill') && map.queryRenderedFeatures({ layers: ['hexagons-fill'] }).length > 0
    }, null, { timeout: 60_000 })
    await waitForIdle(page)
    // The wall's camera flies to the county: let it land.
    await page.waitForTimeout(2000)
    await waitForIdle(page)
    expect((await drawnHexagons(page)).length).toBeGreaterThan(10)
    await screenshot(page, 'wall-hexagons-rest.png')
    const map = await page.locator('.wall-map').boundingBox()
    const png = PNG.sync.read(await page.screenshot())
    const [w, h] = [png.width, png.height]
    const lit = litShare(png, [map!.x / w, map!.y / h, (map!.x + map!.width) / w, (map!.y + map!.height) / h])
    // Before: admin lines and a few faint icons on navy, some 3 % of the map lit.
    expect(lit).toBeGreaterThan(0.15)
    expect(await page.getByTestId('wall-rain-as-of').innerText()).toContain('六边形')
    expect(await leastOpacity(page)).toBe(0.5)
    expect(errors).toEqual([])
    await page.close()
  })

  it('during a storm (replayed) the hexagons stay under what the moment shows', async () => {
    const storm = await recentStormHistory(server.db.sql, COUNTY)
    const from = Date.parse(storm.hours[0].hour), to = Date.parse(storm.hours.at(-1)!.hour) + 3600_000
    const { page, errors } = await open(`/screen?unit=${UNIT}&replay&speed=3600`, { width: 1920, height: 1080 })
    await page.getByTestId('wall-replay').waitFor({ timeout: 60_000 })
    await page.getByRole('button', { name: '暂停' }).click()
    // The thick of it, as the wall's own test picks: transfers under way, sites past their critical rain.
    const at = from + Math.round((to - from) * 0.33 / 60_000) * 60_000
    await page.getByRole('slider').fill(String(at))
    await page.waitForFunction(() => {
      const map = window.__gridwatch?.map
      return !!map?.getLayer('hexagons-fill') && map.queryRenderedFeatures({ layers: ['hexagons-fill'] }).length > 0
        && map.queryRenderedFeatures({ layers: ['village-signal', 'village-transfer', 'sites-alert'] }).length > 0
    }, null, { timeout: 60_000 })
    await page.waitForTimeout(2500)
    await waitForIdle(page)
    await screenshot(page, 'wall-hexagons-storm.png')
    // Households being moved at that moment: the cells step back behind the storm's marks.
    expect(await leastOpacity(page)).toBe(0.18)
    expect(errors).toEqual([])
    await page.close()
  })
})
