/**
 * What a first-time user hit on the command map (issue #17), at the two
 * screen sizes tried: the map goes to the area just chosen in the left panel
 * (not the one chosen before), and at 1366×768 the record panel is wide
 * enough to read, phone numbers stay whole, and the legend explains the
 * transfer-status dots.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { ensureWebBuild, webDist } from '../../scripts/web-build.ts'
import { evacColor } from '../../web/src/map/colors.ts'
import { zh } from '../../web/src/i18n/zh.ts'
import { chromiumPath, launch, openPage, screenshot, waitForIdle, waitForMap } from '../helpers/browser.ts'
import { loginAs, type Client } from '../helpers/session.ts'

const exe = chromiumPath()
type BBox = [number, number, number, number]
interface Unit { code: string; name: string; bbox: BBox; children: { code: string }[] }

const sizes = [{ width: 1920, height: 1080 }, { width: 1366, height: 768 }]

describe.skipIf(!exe)('first use of the command map in Chromium', () => {
  let server: RunningServer
  let browser: Browser
  let me: Client

  beforeAll(async () => {
    await ensureWebBuild({ quiet: true })
    server = await startServer({ port: 0, databaseUrl: inject('embeddedUrl'), seedScale: false, quiet: true, webDist })
    browser = await launch(exe!)
    me = await loginAs(server, 'commander', '530600000000')
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  const unit = async (code: string): Promise<Unit> => (await me.get(`/api/units/${code}`)).json()

  /**
   * How far the map is from showing `bbox` as a fit would: the pixel distance
   * between the map's centre and the centre a fit to the box gives, and the
   * difference of zoom. The app fits to the box inside the side panels, so the
   * fit is asked for with the padding the app leaves for them (MapView's
   * panelPadding); that the box is all in view is checked too.
   */
  const offFit = (page: Page, bbox: BBox) =>
    page.evaluate(([w, s, e, n]) => {
      const map = window.__gridwatch!.map!
      const fit = map.cameraForBounds([w, s, e, n], { padding: { top: 70, bottom: 30, left: 370, right: 40 }, maxZoom: 14 })!
      const at = map.project(map.getCenter())
      const want = map.project(fit.center!)
      const b = map.getBounds()
      return {
        px: Math.round(Math.hypot(at.x - want.x, at.y - want.y)),
        dz: Math.abs(map.getZoom() - fit.zoom!),
        whole: b.contains([w, s]) && b.contains([e, n]),
        moving: map.isMoving(),
      }
    }, bbox)

  /** 'fits' once the map has come to rest on the fit to `bbox`, else how far off it is. */
  const fits = async (page: Page, bbox: BBox) => {
    const o = await offFit(page, bbox)
    return o.px < 4 && o.dz < 0.05 && o.whole && !o.moving ? 'fits' : JSON.stringify(o)
  }

  for (const size of sizes) {
    it(`each choice in the left panel flies to that area, at ${size.width}×${size.height}`, async () => {
      const city = await unit('530600000000')
      const county = await unit(city.children.find((c) => c.code.startsWith('530626'))?.code ?? city.children[0].code)
      const township = await unit(county.children[0].code)
      const village = await unit(township.children[township.children.length - 1].code)
      const { page, errors } = await openPage(browser, me.cookie, server.url + '/', size)
      await waitForMap(page, 120_000)
      for (const [level, u] of [['county', county], ['township', township], ['village', village]] as const) {
        await page.getByTestId(`drill-${level}`).selectOption(u.code)
        await expect.poll(() => page.getByTestId('unit-name').innerText()).toBe(u.name)
        await expect.poll(() => fits(page, u.bbox), { timeout: 20_000, message: `${level} ${u.name}` }).toBe('fits')
      }
      // Back up by the panel's "↑ parent" link: the map follows again.
      await page.locator('[data-testid=unit-panel] .unit-title button.link').click()
      await expect.poll(() => page.getByTestId('unit-name').innerText()).toBe(township.name)
      await expect.poll(() => fits(page, township.bbox), { timeout: 20_000 }).toBe('fits')
      await waitForIdle(page)
      await screenshot(page, `first-use-drill-${size.width}x${size.height}.png`)
      expect(errors).toEqual([])
      await page.close()
    })
  }

  it('with a record open, choosing an area still flies to the area (not back to the record)', async () => {
    const city = await unit('530600000000')
    const county = await unit(city.children.find((c) => c.code.startsWith('530626'))?.code ?? city.children[0].code)
    const township = await unit(county.children[county.children.length - 1].code)
    const [h] = await server.db.sql`SELECT id FROM households WHERE grid_id IN (SELECT id FROM grids WHERE code LIKE ${county.children[0].code.slice(0, 9) + '%'}) ORDER BY id LIMIT 1`
    const { page, errors } = await openPage(browser, me.cookie, server.url + `/?record=household:${h.id}`, { width: 1366, height: 768 })
    await waitForMap(page, 120_000)
    await page.getByTestId('record-title').waitFor()
    await page.getByTestId('drill-county').selectOption(county.code)
    await expect.poll(() => page.getByTestId('unit-name').innerText()).toBe(county.name)
    await expect.poll(() => fits(page, county.bbox), { timeout: 20_000, message: county.name }).toBe('fits')
    await page.getByTestId('drill-township').selectOption(township.code)
    await expect.poll(() => page.getByTestId('unit-name').innerText()).toBe(township.name)
    await expect.poll(() => fits(page, township.bbox), { timeout: 20_000, message: township.name }).toBe('fits')
    // The record stays open beside it.
    expect(await page.getByTestId('record-panel').count()).toBe(1)
    expect(errors).toEqual([])
    await page.close()
  })

  it('a refused transfer step is said on that household\'s row, and the row then shows where it stands', async () => {
    const [v] = await server.db.sql`SELECT a.code FROM admin_units a WHERE a.level = 'village'
      AND EXISTS (SELECT 1 FROM grids g JOIN households h ON h.grid_id = g.id WHERE g.village_id = a.id) ORDER BY a.code LIMIT 1`
    const issued = await me.send('POST', '/api/evacuation/orders', { stage: 'everyone', trigger: { kind: 'manual' }, units: [v.code] })
    expect(issued.status).toBe(201)
    const { order } = await issued.json()
    try {
      const { page, errors } = await openPage(browser, me.cookie, server.url + `/?unit=${v.code}&order=${order.id}`, { width: 1366, height: 768 })
      await waitForMap(page, 120_000)
      await page.getByTestId('evac-households').waitFor()
      const id = Number((await page.locator('[data-testid^=evac-next-]').first().getAttribute('data-testid'))!.replace('evac-next-', ''))
      // Someone else moves the household on meanwhile (straight in the database: no live event reaches this page).
      await server.db.sql`UPDATE evac_households SET status = 'notified' WHERE order_id = ${order.id} AND household_id = ${id}`
      await page.getByTestId(`evac-next-${id}`).click()
      const said = page.getByTestId(`evac-household-error-${id}`)
      await expect.poll(() => said.innerText()).toContain('已通知')
      await expect.poll(() => page.getByTestId(`evac-household-${id}`).innerText()).toContain(zh.evac.statuses.notified)
      await screenshot(page, 'first-use-evac-refusal-1366x768.png')
      expect(errors.filter((e) => !e.includes('status of 409'))).toEqual([])
      await page.close()
    } finally {
      await server.db.sql`DELETE FROM evac_orders WHERE id = ${order.id}`
    }
  })

  it('at 1366×768 a household ledger is wide and tall enough to read, phone numbers stay whole, the legend explains the transfer dots', async () => {
    // A household whose ledger names a cadre with a phone: two numbers on the panel.
    const candidates = await server.db.sql`SELECT id FROM households WHERE phone IS NOT NULL ORDER BY id LIMIT 50`
    let id = 0
    for (const c of candidates) {
      const r = await (await me.get(`/api/households/${c.id}`)).json()
      if (r.cadre?.phone) { id = c.id as number; break }
    }
    expect(id).toBeGreaterThan(0)
    const { page, errors } = await openPage(browser, me.cookie, server.url + `/?record=household:${id}`, { width: 1366, height: 768 })
    await waitForMap(page, 120_000)
    await page.getByTestId('record-title').waitFor()
    const box = (await page.getByTestId('record-panel').boundingBox())!
    expect(box.width).toBeGreaterThanOrEqual(320)
    // Not squeezed under the layer list: most of the column's height is the ledger's.
    expect(box.height).toBeGreaterThanOrEqual(380)
    // Each phone number on the panel lies on one line.
    const phones = await page.evaluate(() => {
      const walker = document.createTreeWalker(document.querySelector('[data-testid=record-panel]')!, NodeFilter.SHOW_TEXT)
      const found: { phone: string; lines: number }[] = []
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const m of node.textContent!.matchAll(/(?<![0-9*])1[3-9][0-9][0-9*]{4}[0-9]{4}(?![0-9*])/g)) {
          const range = document.createRange()
          range.setStart(node, m.index!)
          range.setEnd(node, m.index! + m[0].length)
          found.push({ phone: m[0], lines: new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size })
        }
      }
      return found
    })
    expect(phones.length).toBeGreaterThanOrEqual(2)
    for (const p of phones) expect(p, `${p.phone} broken over ${p.lines} lines`).toMatchObject({ lines: 1 })
    await screenshot(page, 'first-use-household-1366x768.png')

    // The legend (folded on a laptop) names every transfer status in the colour the map draws it.
    await page.getByTestId('legend').locator('button.fold').click()
    for (const [status, colour] of Object.entries(evacColor)) {
      const row = page.getByTestId(`legend-evac-${status}`)
      expect(await row.innerText()).toContain(zh.evac.statuses[status as keyof typeof evacColor])
      const shown = await row.locator('.dot').evaluate((el) => getComputedStyle(el).backgroundColor)
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16))
      expect(shown).toBe(`rgb(${r}, ${g}, ${b})`)
    }
    // …and only while the transfer layer is shown.
    await page.getByTestId('layers-fold').click()
    await page.getByTestId('layer-evacuation').uncheck()
    expect(await page.getByTestId('legend-evac').count()).toBe(0)
    await screenshot(page, 'first-use-legend-1366x768.png')
    expect(errors).toEqual([])
    await page.close()
  })
})
