import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inject } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { ensureWebBuild, webDist } from '../../scripts/web-build.ts'
import { en } from '../../web/src/i18n/en.ts'
import { zh } from '../../web/src/i18n/zh.ts'
import { chromiumPath, launch, openPage, screenshot, waitForIdle, waitForMap } from '../helpers/browser.ts'
import { loginAs, type Client } from '../helpers/session.ts'

const exe = chromiumPath()

/** The number a stat cell shows, digits only (the UI groups thousands). */
const shown = async (page: Page, stat: string) =>
  Number((await page.locator(`[data-testid=unit-panel] [data-stat=${stat}] .stat-value`).first().innerText()).replace(/[^0-9]/g, ''))

describe.skipIf(!exe)('command map in Chromium', () => {
  let server: RunningServer
  let browser: Browser
  // A city-wide commander: the whole map, names included.
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

  const open = (path = '/', viewport = { width: 1920, height: 1080 }) => openPage(browser, me.cookie, server.url + path, viewport)

  it('loads in Chinese with no console errors and draws our data', async () => {
    const { page, errors } = await open()
    await waitForMap(page)
    await waitForIdle(page)
    expect(await page.getByTestId('app-title').innerText()).toBe(zh.appTitle)
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('zh-CN')
    // Features of our own tiles are on screen: aggregates at this zoom, and county outlines.
    const drawn = await page.evaluate(() => {
      const map = window.__gridwatch!.map!
      return {
        aggregates: map.queryRenderedFeatures({ layers: ['household-agg-total'] }).length,
        labels: map.queryRenderedFeatures({ layers: ['admin-label'] }).length,
      }
    })
    expect(drawn.aggregates).toBeGreaterThan(0)
    expect(drawn.labels).toBeGreaterThan(0)
    const firstDraw = await page.evaluate(() => window.__gridwatch!.firstDrawMs!)
    console.log(`page open → first drawn map: ${firstDraw.toFixed(0)} ms`)
    await screenshot(page, 'command-map-1920x1080.png')
    expect(errors).toEqual([])
    await page.close()
  })

  it('drills down county → township; the panel shows the SQL roll-ups', async () => {
    const { page, errors } = await open('/', { width: 1366, height: 768 })
    await waitForMap(page)
    const [county] = await server.db.sql`
      SELECT a.code, a.name, count(h.id)::int AS households, count(*) FILTER (WHERE h.risk_level = 'red')::int AS red
      FROM admin_units a JOIN admin_units v ON v.level = 'village' AND v.code LIKE substr(a.code, 1, 6) || '%'
      JOIN grids g ON g.village_id = v.id JOIN households h ON h.grid_id = g.id
      WHERE a.level = 'county' GROUP BY a.code, a.name ORDER BY households DESC LIMIT 1`
    await page.getByTestId('drill-county').selectOption(county.code)
    await expect.poll(() => page.getByTestId('unit-name').innerText()).toBe(county.name)
    expect(await shown(page, 'households')).toBe(county.households)
    expect(await shown(page, 'red')).toBe(county.red)
    expect(new URL(page.url()).searchParams.get('unit')).toBe(county.code)

    const [township] = await server.db.sql`
      SELECT t.code, t.name, count(h.id)::int AS households, coalesce(sum(h.members), 0)::int AS people
      FROM admin_units t JOIN admin_units v ON v.level = 'village' AND v.parent_id = t.id
      JOIN grids g ON g.village_id = v.id JOIN households h ON h.grid_id = g.id
      WHERE t.level = 'township' AND t.code LIKE ${county.code.slice(0, 6) + '%'}
      GROUP BY t.code, t.name ORDER BY t.code LIMIT 1`
    await page.getByTestId('drill-township').selectOption(township.code)
    await expect.poll(() => page.getByTestId('unit-name').innerText()).toBe(township.name)
    expect(await shown(page, 'households')).toBe(township.households)
    expect(await shown(page, 'people')).toBe(township.people)
    // The map flew there: the township's label point is inside the view.
    await waitForIdle(page)
    const [p] = await server.db.sql`SELECT ST_X(label_point) AS lon, ST_Y(label_point) AS lat FROM admin_units WHERE code = ${township.code}`
    const inView = await page.evaluate(([lon, lat]) => window.__gridwatch!.map!.getBounds().contains([lon, lat]), [p.lon, p.lat])
    expect(inView).toBe(true)
    await screenshot(page, 'command-map-township-1366x768.png')
    expect(errors).toEqual([])
    await page.close()
  })

  it('a click on a household opens its ledger with the overdue rule', async () => {
    const [h] = await server.db.sql`
      SELECT h.id, h.householder, h.risk_level, h.members, ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat,
             h.last_visit_at < now() - make_interval(days => CASE h.risk_level WHEN 'red' THEN 1 WHEN 'yellow' THEN 7 ELSE 30 END) AS overdue
      FROM households h WHERE h.risk_level = 'red' ORDER BY h.id LIMIT 1`
    const { page, errors } = await open('/', { width: 1366, height: 768 })
    await waitForMap(page)
    await page.evaluate(([lon, lat]) => window.__gridwatch!.map!.jumpTo({ center: [lon, lat], zoom: 16.5 }), [h.lon, h.lat])
    await waitForIdle(page)
    const px = await page.evaluate(([lon, lat]) => window.__gridwatch!.map!.project([lon, lat]), [h.lon, h.lat])
    await page.mouse.click(px.x, px.y)
    const panel = page.getByTestId('record-panel')
    await expect.poll(() => panel.getAttribute('data-kind')).toBe('household')
    await expect.poll(() => page.getByTestId('record-title').innerText()).toBe(h.householder)
    expect(await page.getByTestId('record-risk').innerText()).toBe(zh.risk.red)
    expect(await page.getByTestId('record-members').innerText()).toContain(String(h.members))
    expect(await page.getByTestId('record-visit').innerText()).toContain(h.overdue ? zh.record.overdue : zh.record.onTime)
    expect(new URL(page.url()).searchParams.get('record')).toBe(`household:${h.id}`)
    await screenshot(page, 'command-map-household-1366x768.png')
    expect(errors).toEqual([])
    await page.close()
  })

  it('switches to English and keeps the choice', async () => {
    const { page } = await open()
    await page.getByTestId('lang-switch').click()
    expect(await page.getByTestId('app-title').innerText()).toBe(en.appTitle)
    await page.reload()
    expect(await page.getByTestId('app-title').innerText()).toBe(en.appTitle)
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en')
    await page.getByTestId('lang-switch').click()
    expect(await page.getByTestId('app-title').innerText()).toBe(zh.appTitle)
    await page.close()
  })

  // Issue #17: at z10 the grids carry only their id and red/yellow shares; the 红黄绿 fill must still be there,
  // and the transfers' source asks only for tiles inside the data bounds, as the others do.
  it('draws a county at z10 with the grids coloured by risk, and asks for no evac tile outside the data', async () => {
    const { page, errors } = await open('/', { width: 1600, height: 900 })
    await waitForMap(page)
    await waitForIdle(page)
    const asked: string[] = []
    page.on('request', (r) => {
      const m = /\/tiles\/(\w+)\/10\/(\d+)\/(\d+)\.mvt/.exec(r.url())
      if (m) asked.push(m[1])
    })
    const [county] = await server.db.sql`
      SELECT ST_X(a.label_point) AS lon, ST_Y(a.label_point) AS lat FROM admin_units a
      JOIN admin_units v ON v.level = 'village' AND v.code LIKE substr(a.code, 1, 6) || '%' JOIN grids g ON g.village_id = v.id
      WHERE a.level = 'county' GROUP BY a.id ORDER BY count(g.id) DESC LIMIT 1`
    await page.evaluate(([lon, lat]) => window.__gridwatch!.map!.jumpTo({ center: [lon, lat], zoom: 10 }), [county.lon, county.lat])
    await waitForIdle(page)
    const seen = await page.evaluate(() => {
      const map = window.__gridwatch!.map!
      const fills = map.queryRenderedFeatures({ layers: ['grids-fill'] })
      const bounds = (id: string) => (map.getSource(id) as unknown as { bounds?: number[] }).bounds
      return {
        grids: fills.length,
        shared: fills.filter((f) => typeof f.properties.red_share === 'number' && typeof f.properties.yellow_share === 'number').length,
        evacBounds: bounds('evac'),
        gridBounds: bounds('grids'),
      }
    })
    expect(seen.grids).toBeGreaterThan(0)
    expect(seen.shared).toBe(seen.grids)
    expect(seen.evacBounds).toEqual(seen.gridBounds)
    const count = (s: string) => asked.filter((a) => a === s).length
    expect(count('grids')).toBeGreaterThan(0)
    expect(count('evac')).toBeLessThanOrEqual(count('grids'))
    await screenshot(page, 'command-map-county-z10-1600x900.png')
    expect(errors).toEqual([])
    await page.close()
  })

  it('shows the server message for an unknown area or record, and the map still draws', async () => {
    const { page } = await open('/?unit=999999999999&record=household:99999999')
    await waitForMap(page)
    const banner = page.getByTestId('error-banner')
    await expect.poll(() => banner.innerText()).toContain('999999999999')
    await expect.poll(() => page.getByTestId('record-panel').innerText()).toContain('99999999')
    // A malformed address is ignored rather than sent to the server.
    await page.goto(server.url + '/?unit=12&record=nothing:1')
    await waitForMap(page)
    expect(await page.getByTestId('error-banner').count()).toBe(0)
    expect(await page.getByTestId('record-panel').count()).toBe(0)
    await page.close()
  })
})
