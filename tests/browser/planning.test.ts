/**
 * The planners' panel in a browser: a planner opens 规划分析, runs one
 * analysis for a township (its table and totals match the API, its result is
 * on the map as a GeoJSON source), downloads one export with the count
 * the server announced, and prints the map's current view with the layers shown;
 * a township sees an import's full report by row, paged and as CSV.
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
  /** A page of the chosen township, logged in as `username`, with the planning panel open (or not yet). */
  async function openPlanning(username: string, open = true) {
    const page = await browser.newPage({ viewport: { width: 1600, height: 900 }, acceptDownloads: true })
    const errors = collectErrors(page)
    await page.goto(`${server.url}/?unit=${town}`)
    await page.getByTestId('login-form').waitFor()
    await page.fill('input[name=username]', username)
    await page.fill('input[name=password]', TEST_PASSWORD)
    await page.keyboard.press('Enter')
    await waitForMap(page)
    if (open) {
      await page.getByTestId('planning-open').click()
      await page.getByTestId('planning-panel').waitFor()
    }
    return { page, errors }
  }

  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  it('runs a hexagon analysis: the resolution chosen from a list, one row per H3 cell, the hexagons on the map', async () => {
    const api = await login(server, 'bplanner', TEST_PASSWORD)
    const truth = await (await api.get(`/api/analysis/hex_worker_load?unit=${town}&res=8&limit=10`)).json()
    expect(truth.rows.length).toBeGreaterThan(0)
    const { page, errors } = await openPlanning('bplanner')
    await page.getByTestId('planning-analysis').selectOption('hex_worker_load')
    await page.locator('select', { has: page.locator('option[value="8"]') }).selectOption('8')
    await page.getByTestId('planning-param-limit').fill('10')
    await page.getByTestId('planning-run').click()
    await page.getByTestId('planning-table').waitFor()
    expect(await page.locator('[data-testid=planning-table] tbody tr').count()).toBe(Math.min(200, truth.rows.length))
    expect(await page.getByTestId('planning-table').innerText()).toContain(truth.rows[0].h3_index)
    const onMap = () => page.evaluate(async () => {
      const src = window.__gridwatch?.map?.getSource('analysis') as unknown as { getData?: () => Promise<{ features?: unknown[] }> } | undefined
      return (await src?.getData?.())?.features?.length ?? -1
    })
    await expect.poll(onMap, { timeout: 20_000 }).toBe(truth.geojson.features.length)
    await screenshot(page, 'planning-hexagons-1600x900.png')
    expect(errors).toEqual([])
  })

  it('runs an analysis for the chosen area, shows table, totals and map layer, and downloads an export', async () => {
    const api = await login(server, 'bplanner', TEST_PASSWORD)
    const truth = await (await api.get(`/api/analysis/worker_load?unit=${town}&limit=10`)).json()
    const { page, errors } = await openPlanning('bplanner')
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
    expect(await page.getByTestId('planning-export-status').innerText()).toContain(String(truth.totals.grids))
    await screenshot(page, 'planning-panel-1600x900.png')
    expect(errors).toEqual([])
  })

  it('an import\'s full report: every bad row by number, a page at a time, and the whole list as CSV; a dry run\'s rows too', async () => {
    await createAccount(server.db.sql, { username: 'btown', displayName: '浏览器乡镇', role: 'township', unitCode: town, password: TEST_PASSWORD }, cliActor('test'))
      .catch(() => undefined)
    const { page, errors } = await openPlanning('btown')
    // 120 households at (0, 0): in no grid, each an error of its own row (rows 2–121 of the sheet).
    const bad = ['户主,人口,风险等级,经度,纬度', ...Array.from({ length: 120 }, (_, i) => `测试户${i},3,红,0,0`)].join('\n')
    await page.getByTestId('import-file').setInputFiles({ name: '台账.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) })
    await page.getByTestId('import-dry-run').click()
    const report = page.getByTestId('import-report')
    await report.waitFor()
    expect(await report.innerText()).toContain('120')
    expect(await page.getByTestId('import-report-page').innerText()).toBe('第 1 / 3 页')
    expect(await report.locator('tbody tr').count()).toBe(50)
    await page.getByTestId('import-report-next').click()
    await page.getByTestId('import-report-next').click()
    expect(await page.getByTestId('import-report-page').innerText()).toBe('第 3 / 3 页')
    expect(await report.locator('tbody tr').count()).toBe(20)
    expect(await report.locator('tbody tr').last().locator('td').first().innerText()).toBe('121')
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('import-report-csv').click()])
    expect(download.suggestedFilename()).toBe('台账-errors.csv')
    const lines = (await readFile((await download.path())!)).toString('utf8').replace(/^\uFEFF/, '').trim().split('\r\n')
    expect(lines.length).toBe(121)
    expect(lines.slice(1).map((l) => Number(l.split(',')[0]))).toEqual(Array.from({ length: 120 }, (_, i) => i + 2))
    expect(lines[1]).toMatch(/^2,"第 2 行 坐标/)
    // A good file: the dry run's report lists each row with what it would do.
    const [g] = await server.db.sql`SELECT ST_X(label_point) AS lon, ST_Y(label_point) AS lat FROM grids
      WHERE kind = 'basic' AND code LIKE ${town.slice(0, 9) + '%'} AND ST_Contains(geom, label_point) ORDER BY code LIMIT 1`
    const good = ['户主,人口,风险等级,经度,纬度', `张三,3,红,${g.lon},${g.lat}`, `李四,2,绿,${g.lon},${g.lat}`].join('\n')
    await page.getByTestId('import-file').setInputFiles({ name: '新台账.csv', mimeType: 'text/csv', buffer: Buffer.from(good) })
    await page.getByTestId('import-dry-run').click()
    await expect.poll(() => report.innerText()).toContain('共 2 行')
    expect(await report.locator('tbody tr').count()).toBe(2)
    expect(await report.locator('tbody tr').first().innerText()).toContain('新增')
    await screenshot(page, 'planning-import-report.png')
    // The refused file's 400 is the browser's one console line; nothing else.
    expect(errors.filter((e) => !e.includes('status of 400'))).toEqual([])
  })

  it('offers a planner no import, and exports the raw layers of the chosen area with the count the server announced', async () => {
    const api = await login(server, 'bplanner', TEST_PASSWORD)
    const { page, errors } = await openPlanning('bplanner')
    // A planner changes nothing: no import is offered (the server would refuse it).
    expect(await page.getByTestId('planning-import').count()).toBe(0)
    expect(await page.getByTestId('import-file').count()).toBe(0)
    const section = page.getByTestId('planning-layers')
    for (const [layer, fmt] of [['households', 'csv'], ['shelters', 'geojson']] as const) {
      const head = await api.get(`/api/export/${layer}.${fmt}?unit=${town}`)
      const total = Number(head.headers.get('x-feature-count'))
      await head.body?.cancel()
      expect(total).toBeGreaterThan(0)
      await page.getByTestId('planning-layer').selectOption(layer)
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`planning-layer-export-${fmt}`).click()])
      expect(download.suggestedFilename()).toBe(`${layer}-${town}.${fmt}`)
      const text = (await readFile((await download.path())!)).toString('utf8').replace(/^\uFEFF/, '')
      if (fmt === 'csv') expect(text.trim().split('\n').length - 1).toBe(total)
      else expect(JSON.parse(text).features.length).toBe(total)
      // The count is said beside the buttons that started it.
      await expect.poll(() => section.getByTestId('planning-layer-status').innerText()).toContain(String(total))
    }
    // Every layer the API exports by area, in every format.
    expect(await page.getByTestId('planning-layer').locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)))
      .toEqual(['households', 'grids', 'hazard_sites', 'shelters', 'routes'])
    for (const f of ['csv', 'xlsx', 'geojson', 'gpkg', 'shp.zip']) expect(await page.getByTestId(`planning-layer-export-${f}`).count()).toBe(1)
    // In CGCS2000: the file says so in its name (and GeoJSON, WGS84 by its standard, is not offered).
    await page.getByTestId('planning-layer').selectOption('shelters')
    await page.getByTestId('planning-crs').selectOption('EPSG:4490')
    expect(await page.getByTestId('planning-layer-export-geojson').isDisabled()).toBe(true)
    const [cgcs] = await Promise.all([page.waitForEvent('download'), page.getByTestId('planning-layer-export-csv').click()])
    expect(cgcs.suggestedFilename()).toBe(`shelters-${town}-EPSG4490.csv`)
    expect((await readFile((await cgcs.path())!)).toString('utf8').replace(/^\uFEFF/, '').split('\n')[0]).toContain('lon,lat')
    await screenshot(page, 'planning-layers-1600x900.png')
    expect(errors).toEqual([])
  })

  it('a refusal is said beside the control that caused it, in the server\'s words', async () => {
    await createAccount(server.db.sql, { username: 'btown', displayName: '浏览器乡镇', role: 'township', unitCode: town, password: TEST_PASSWORD }, cliActor('test'))
      .catch(() => undefined)
    const [other] = await server.db.sql`SELECT code FROM admin_units WHERE level = 'township' AND code <> ${town} ORDER BY code LIMIT 1`
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 }, acceptDownloads: true })
    const errors = collectErrors(page)
    // The officer looks at a neighbouring township: reading is allowed, exporting it is not.
    await page.goto(`${server.url}/?unit=${other.code}`)
    await page.getByTestId('login-form').waitFor()
    await page.fill('input[name=username]', 'btown')
    await page.fill('input[name=password]', TEST_PASSWORD)
    await page.keyboard.press('Enter')
    await waitForMap(page)
    await page.getByTestId('planning-open').click()
    // A township officer may import (households and hazard sites of their own area).
    await page.getByTestId('import-file').waitFor()
    await page.getByTestId('planning-layer-export-csv').click()
    const refusal = page.locator('[data-testid=planning-layers] [role=alert]')
    await expect.poll(() => refusal.innerText()).toContain(`超出您的管辖范围（${town}）`)
    await page.getByTestId('planning-print').click()
    await expect.poll(() => page.locator('[data-testid=planning-print-section] [role=alert]').innerText()).toContain('超出您的管辖范围')
    // Each message stays with its own control, and nothing says it at the top of the panel.
    expect(await page.locator('[data-testid=planning-analysis-section] [role=alert]').count()).toBe(0)
    await screenshot(page, 'planning-refusal-1366x768.png')
    expect(errors.filter((e) => !e.includes('status of 403'))).toEqual([])
    await page.close()
  })

  it('prints the current view: the map\'s box and the layer groups shown go to /api/print, the file comes back', { timeout: 300_000 }, async () => {
    const { page, errors } = await openPlanning('bplanner', false)
    // The planner hides hazard sites and moves the map somewhere of the test's choosing.
    await page.getByTestId('layer-hazards').uncheck()
    const [h] = await server.db.sql`SELECT ST_X(geom) AS x, ST_Y(geom) AS y FROM households ORDER BY id LIMIT 1`
    await page.evaluate(([x, y]) => window.__gridwatch!.map!.jumpTo({ center: [x, y], zoom: 14.2 }), [h.x as number, h.y as number])
    const view = await page.evaluate(() => window.__gridwatch!.map!.getBounds().toArray().flat())
    await page.getByTestId('planning-open').click()
    await page.getByTestId('planning-panel').waitFor()
    const [request] = await Promise.all([page.waitForRequest((r) => r.url().endsWith('/api/print') && r.method() === 'POST'), page.getByTestId('planning-print').click()])
    const body = request.postDataJSON()
    expect(body.unit).toBe(town)
    for (const [i, v] of view.entries()) expect(Math.abs(body.bbox[i] - v)).toBeLessThan(1e-6)
    expect(body.layers).not.toContain('hazards')
    expect(body.layers).toContain('households')
    expect(body.lang).toBe('zh')
    const download = await page.waitForEvent('download', { timeout: 240_000 })
    expect(download.suggestedFilename()).toBe(`map-${town}.pdf`)
    const pdf = await readFile((await download.path())!)
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-')
    expect(errors).toEqual([])
  })
})
