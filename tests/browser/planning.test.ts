/**
 * The planners' panel in a browser: a planner opens 规划分析, runs one
 * analysis for a township (its table and totals match the API, its result is
 * on the map as a GeoJSON source), and downloads one export with the count
 * the server announced.
 */
import { readFile } from 'node:fs/promises'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { cliActor, createAccount } from '../../api/auth/accounts.ts'
import { startServer, type RunningServer } from '../../api/server.ts'
import { ensureWebBuild, webDist } from '../../scripts/web-build.ts'
import { chromiumPath, collectErrors, launch, screenshot, waitForMap } from '../helpers/browser.ts'
import { login, TEST_PASSWORD } from '../helpers/session.ts'

const exe = chromiumPath()

describe.skipIf(!exe)('planning panel', () => {
  let server: RunningServer
  let browser: Browser
  let town: string

  beforeAll(async () => {
    await ensureWebBuild({ quiet: true })
    server = await startServer({ port: 0, databaseUrl: inject('embeddedUrl'), seedScale: false, quiet: true, webDist })
    await createAccount(server.db.sql, { username: 'bplanner', displayName: '浏览器规划', role: 'planner', unitCode: '530600000000', password: TEST_PASSWORD }, cliActor('test'))
      .catch(() => undefined)
    const [t] = await server.db.sql`SELECT code FROM admin_units WHERE level = 'township' ORDER BY code LIMIT 1`
    town = t.code as string
    browser = await launch(exe!)
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  it('runs an analysis for the chosen area, shows table, totals and map layer, and downloads an export', async () => {
    const api = await login(server, 'bplanner', TEST_PASSWORD)
    const truth = await (await api.get(`/api/analysis/worker_load?unit=${town}&limit=10`)).json()
    const page = await browser.newPage({ viewport: { width: 1600, height: 900 }, acceptDownloads: true })
    const errors = collectErrors(page)
    await page.goto(`${server.url}/?unit=${town}`)
    await page.getByTestId('login-form').waitFor()
    await page.fill('input[name=username]', 'bplanner')
    await page.fill('input[name=password]', TEST_PASSWORD)
    await page.keyboard.press('Enter')
    await waitForMap(page)
    await page.getByTestId('planning-open').click()
    await page.getByTestId('planning-panel').waitFor()
    await page.getByTestId('planning-analysis').selectOption('worker_load')
    await page.getByTestId('planning-param-limit').fill('10')
    await page.getByTestId('planning-run').click()
    await page.getByTestId('planning-table').waitFor()
    const rows = await page.locator('[data-testid=planning-table] tbody tr').count()
    expect(rows).toBe(Math.min(200, truth.rows.length))
    expect(await page.getByTestId('planning-totals').innerText()).toContain(String(truth.totals.over_grids))
    // On the map: the analysis source holds every feature of the answer.
    // getData() is a promise: page.evaluate awaits it (waitForFunction would take the promise itself as truthy).
    const onMap = () => page.evaluate(async () => {
      const src = window.__gridwatch?.map?.getSource('analysis') as unknown as { getData?: () => Promise<{ features?: unknown[] }> } | undefined
      return (await src?.getData?.())?.features?.length ?? -1
    })
    await expect.poll(onMap, { timeout: 20_000 }).toBe(truth.geojson.features.length)
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('planning-export-csv').click()])
    expect(download.suggestedFilename()).toBe(`worker_load-${town}.csv`)
    const text = (await readFile((await download.path())!)).toString('utf8').replace(/^\uFEFF/, '')
    expect(text.trim().split('\n').length - 1).toBe(truth.totals.grids)
    expect(await page.getByTestId('planning-status').innerText()).toContain(String(truth.totals.grids))
    await screenshot(page, 'planning-panel-1600x900.png')
    expect(errors).toEqual([])
  })
})
