/**
 * Patrol tracks on the command map (issue #19): township staff open a grid's
 * record and see which of its grid workers walked that day; one tap draws
 * the worker's track on the map (and fits it), another takes it off. A
 * planner, outside the worker's chain, is not offered the section. The unit
 * panel's 今日外业 shows the day's field work grid by grid.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { ensureWebBuild, webDist } from '../../scripts/web-build.ts'
import { zh } from '../../web/src/i18n/zh.ts'
import { chromiumPath, launch, openPage, screenshot, waitForMap } from '../helpers/browser.ts'
import { loginAs, type Client } from '../helpers/session.ts'

const exe = chromiumPath()

describe.skipIf(!exe)('patrol tracks on the command map', () => {
  let server: RunningServer
  let browser: Browser
  let grid: { id: number; code: string; lon: number; lat: number }
  let worker: Client

  beforeAll(async () => {
    await ensureWebBuild({ quiet: true })
    server = await startServer({ port: 0, databaseUrl: inject('embeddedUrl'), seedScale: false, quiet: true, webDist })
    browser = await launch(exe!)
    const [g] = await server.db.sql`SELECT id, code, ST_X(ST_PointOnSurface(geom)) AS lon, ST_Y(ST_PointOnSurface(geom)) AS lat
                                    FROM grids g WHERE kind = 'basic'
                                      -- A grid no other suite has had an account of: its field work row is this test's alone
                                      -- (the suites share a database; another's phone in this grid made it neither quiet nor alone).
                                      AND NOT EXISTS (SELECT 1 FROM users u WHERE u.unit_code = g.code)
                                    ORDER BY code DESC LIMIT 1`
    grid = g as typeof grid
    worker = await loginAs(server, 'grid_worker', grid.code)
    // Six positions, walking north-east across the grid's middle, within the last hour and within today as Beijing
    // counts it (the record shows a day's patrols): a suite runs at every hour, just after midnight too.
    const now = Date.now()
    const dayStart = Math.floor((now + 8 * 3600_000) / 86_400_000) * 86_400_000 - 8 * 3600_000
    const start = Math.max(now - 40 * 60_000, dayStart + 1000)
    const step = Math.min(60_000, Math.max(1000, (now - start) / 6))
    for (let i = 0; i < 6; i++) {
      await server.db.sql`INSERT INTO field_tracks (user_id, unit_code, at, geom)
        VALUES (${worker.userId}, ${grid.code}, ${new Date(start + i * step)},
                ST_SetSRID(ST_MakePoint(${grid.lon + i * 0.0004}, ${grid.lat + i * 0.0003}), 4326))`
    }
  })
  afterAll(async () => {
    if (server && worker) await server.db.sql`DELETE FROM field_tracks WHERE user_id = ${worker.userId}`
    await browser?.close()
    await server?.close()
  })

  it('a township officer sees who walked the grid today and draws a track on the map', async () => {
    const officer = await loginAs(server, 'township', `${grid.code.slice(0, 9)}000`)
    const { page, errors } = await openPage(browser, officer.cookie, `${server.url}/?record=grid:${grid.id}`, { width: 1366, height: 768 })
    await waitForMap(page, 120_000)
    const section = page.getByTestId('patrols')
    await section.waitFor({ timeout: 60_000 })
    const row = section.locator('.patrol-workers li', { hasText: '6 个位置' })
    await expect.poll(() => row.count()).toBe(1)
    /** Features of the track on the map: -1 before there is a track source at all. */
    const drawn = () => page.evaluate(() => {
      const src = window.__gridwatch?.map?.getSource('patrol-track') as { serialize(): { data: GeoJSON.FeatureCollection } } | undefined
      return src ? src.serialize().data.features.length : -1
    })
    expect(await drawn()).toBe(-1)
    await page.getByTestId(`patrol-show-${worker.userId}`).click()
    await expect.poll(drawn).toBeGreaterThan(0)
    // The map moved to the track: its middle is within the view.
    await expect.poll(() => page.evaluate(([lon, lat]) => window.__gridwatch!.map!.getBounds().contains([lon, lat]), [grid.lon + 0.001, grid.lat + 0.00075])).toBe(true)
    await expect.poll(() => page.getByTestId(`patrol-show-${worker.userId}`).textContent()).toBe(zh.patrol.hide)
    await screenshot(page, 'patrol-track-1366.png')
    await page.getByTestId(`patrol-show-${worker.userId}`).click()
    await expect.poll(drawn).toBe(0)
    expect(errors).toEqual([])
    await page.context().close()
  })

  it('a township officer reads the day\'s field work grid by grid, a grid whose phones went quiet marked', async () => {
    const officer = await loginAs(server, 'township', `${grid.code.slice(0, 9)}000`)
    const { page, errors } = await openPage(browser, officer.cookie, `${server.url}/`, { width: 1366, height: 768 })
    await waitForMap(page, 120_000)
    await page.getByTestId('field-work').locator('summary').click()
    const row = page.locator(`[data-testid=field-work] tr[data-code="${grid.code}"]`)
    await row.waitFor({ timeout: 60_000 })
    // The worker walked (the track above) but their phone has sent nothing else: on patrol 1, quiet.
    expect(await row.locator('td').nth(4).innerText()).toBe('1')
    expect(await row.getAttribute('class')).toBe('quiet')
    expect(await row.locator('td').nth(5).innerText()).toBe(zh.fieldWork.never)
    await screenshot(page, 'field-work-1366.png')
    expect(errors).toEqual([])
    await page.context().close()
  })

  it('a planner is not offered the patrols of a grid', async () => {
    const planner = await loginAs(server, 'planner', '530600000000')
    const { page } = await openPage(browser, planner.cookie, `${server.url}/?record=grid:${grid.id}`, { width: 1366, height: 768 })
    await waitForMap(page, 120_000)
    await page.getByTestId('record-title').waitFor({ timeout: 60_000 })
    expect(await page.getByTestId('patrols').count()).toBe(0)
    await page.context().close()
  })
})
