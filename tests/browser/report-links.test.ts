/**
 * What a report starts, on the command map (issue #20): the township officer
 * proposes a hazard site from a report of a crack (its type guessed from the
 * note) and the record shows it waiting for the county, which confirms it;
 * the officer starts a transfer of the report's grid from a report of people
 * in danger, previewed first, and the record lists the order; a grid worker
 * is offered neither; a refusal is the server's words; a city-level admin
 * changes the time limits.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { ensureWebBuild, webDist } from '../../scripts/web-build.ts'
import { zh } from '../../web/src/i18n/zh.ts'
import { chromiumPath, launch, openPage, screenshot, waitForMap } from '../helpers/browser.ts'
import { latinOnPage } from '../helpers/screen-scan.ts'
import { loginAs, type Client } from '../helpers/session.ts'

const exe = chromiumPath()

describe.skipIf(!exe)('what a report starts, on the command map', () => {
  let server: RunningServer
  let browser: Browser
  let township: string
  let grid: { code: string; name: string; lng: number; lat: number }
  let officer: Client
  let county: Client
  let worker: Client
  let admin: Client

  const file = async (type: string, note: string) => {
    const r = await worker.send('POST', '/api/reports', { lng: grid.lng, lat: grid.lat, type, urgency: 'urgent', note })
    expect(r.status, await r.clone().text()).toBe(201)
    return ((await r.json()) as { id: number }).id
  }
  const clear = async () => {
    await server.db.sql`DELETE FROM evac_orders WHERE trigger_kind = 'report'
      AND (trigger_ref ->> 'reportId')::int IN (SELECT id FROM reports WHERE grid_code LIKE ${`${township.slice(0, 9)}%`})`
    const sites = await server.db.sql<{ id: number }[]>`SELECT id FROM hazard_sites WHERE proposed_from IS NOT NULL AND admin_code LIKE ${`${township.slice(0, 9)}%`}`
    await server.db.sql`DELETE FROM reports WHERE grid_code LIKE ${`${township.slice(0, 9)}%`}`
    await server.db.sql`DELETE FROM hazard_sites WHERE id = ANY(${sites.map((s) => s.id)}::int[])`
  }

  beforeAll(async () => {
    await ensureWebBuild({ quiet: true })
    server = await startServer({ port: 0, databaseUrl: inject('embeddedUrl'), seedScale: false, quiet: true, webDist, reportSweepEveryMs: 3600_000 })
    browser = await launch(exe!)
    const [p] = await server.db.sql`
      SELECT t.code AS township, g.code, g.name, ST_X(ST_PointOnSurface(g.geom)) AS lng, ST_Y(ST_PointOnSurface(g.geom)) AS lat
      FROM admin_units c JOIN admin_units t ON t.parent_id = c.id JOIN admin_units v ON v.parent_id = t.id
      JOIN grids g ON g.village_id = v.id AND g.kind = 'basic'
      WHERE c.level = 'county' AND EXISTS (SELECT 1 FROM households h WHERE h.grid_id = g.id)
      ORDER BY c.code, t.code, v.code, g.code LIMIT 1`
    township = p.township as string
    grid = { code: p.code as string, name: p.name as string, lng: Number(p.lng), lat: Number(p.lat) }
    officer = await loginAs(server, 'township', township)
    county = await loginAs(server, 'commander', `${township.slice(0, 6)}000000`)
    worker = await loginAs(server, 'grid_worker', grid.code)
    admin = await loginAs(server, 'admin', `${township.slice(0, 4)}00000000`)
    await clear()
  })
  afterAll(async () => {
    if (server) {
      await clear()
      await server.db.sql`UPDATE report_config SET value = NULL WHERE key = 'rules'`
    }
    await browser?.close()
    await server?.close()
  })

  async function openRecord(who: Client, id: number) {
    const { page, errors } = await openPage(browser, who.cookie, `${server.url}/?unit=${township}&report=${id}`, { width: 1366, height: 768 })
    await waitForMap(page, 120_000)
    await page.getByTestId('report-record').waitFor()
    return { page, errors }
  }

  it('proposes a hazard site from a report of a crack; the county confirms it; the offer goes live when another proposes', async () => {
    const id = await file('geohazard', '屋后山体出现裂缝，约二十米长')
    const worker$ = await openRecord(worker, id)
    expect(await worker$.page.getByTestId('report-link-actions').count()).toBe(0)
    await worker$.page.close()

    const { page, errors } = await openRecord(officer, id)
    await page.getByTestId('report-link-proposeSite').click()
    const form = page.getByTestId('report-site-form')
    // The type the note names, the site's name from the grid.
    expect(await form.locator('select[name=type]').inputValue()).toBe('地裂缝')
    expect(await form.locator('input[name=name]').getAttribute('placeholder')).toBe(`${grid.name}地裂缝隐患点`)
    await screenshot(page, 'report-site-form-1366.png')
    expect(await latinOnPage(page, 'site form')).toEqual([])
    await form.locator('button[type=submit]').click()
    await expect.poll(() => page.getByTestId('report-site').getAttribute('data-status')).toBe('proposed')
    expect(await page.getByTestId('report-site').textContent()).toBe(`${grid.name}地裂缝隐患点（${zh.reports.siteStatus.proposed}）`)
    expect(await page.getByTestId('report-steps').textContent()).toContain(zh.reports.steps.propose_site)
    expect(await page.getByTestId('report-link-proposeSite').count()).toBe(0)
    expect(await latinOnPage(page, 'record with its proposed site')).toEqual([])
    // The township does not confirm its own proposal.
    expect(await page.getByTestId('report-link-confirmSite').count()).toBe(0)
    const [s] = await server.db.sql`SELECT status, type FROM hazard_sites WHERE proposed_from = ${id}`
    expect(s).toMatchObject({ status: 'proposed', type: '地裂缝' })
    expect(errors).toEqual([])
    await page.close()

    const c = await openRecord(county, id)
    // The link opens the site's record: waiting for the county, in words.
    await c.page.getByTestId('report-site').click()
    await expect.poll(() => c.page.getByTestId('record-title').textContent()).toBe(`${grid.name}地裂缝隐患点`)
    expect(await c.page.getByTestId('record-panel').textContent()).toContain(zh.record.statusProposed)
    await screenshot(c.page, 'report-site-record-1366.png')
    await c.page.getByTestId('report-link-confirmSite').click()
    await expect.poll(() => c.page.getByTestId('report-site').getAttribute('data-status')).toBe('active')
    expect(await c.page.getByTestId('report-site').textContent()).toContain(zh.reports.siteStatus.active)
    expect((await server.db.sql`SELECT status FROM hazard_sites WHERE proposed_from = ${id}`)[0].status).toBe('active')
    expect(c.errors).toEqual([])
    await c.page.close()

    // Proposed meanwhile by someone else: the record follows on the live feed, the offer goes.
    const other = await file('geohazard', '后山有落石')
    const o = await openRecord(officer, other)
    await o.page.getByTestId('report-link-proposeSite').waitFor()
    const r = await officer.send('POST', `/api/reports/${other}/propose-site`, { type: '崩塌' })
    expect(r.status).toBe(201)
    await expect.poll(() => o.page.getByTestId('report-site').getAttribute('data-status')).toBe('proposed')
    expect(await o.page.getByTestId('report-link-proposeSite').count()).toBe(0)
    expect(o.errors).toEqual([])
    await o.page.close()
  }, 300_000)

  it('starts a transfer of the report’s grid, previewed first; the record lists the order and the order leads back', async () => {
    const id = await file('house_danger', '房屋墙体开裂，住户仍在屋内')
    const { page, errors } = await openRecord(officer, id)
    await page.getByTestId('report-link-transfer').click()
    const form = page.getByTestId('report-transfer-form')
    expect(await form.textContent()).toContain(`${grid.name}全部住户`)
    expect(await page.getByTestId('report-transfer-issue').isDisabled()).toBe(true)
    await page.getByTestId('report-transfer-preview-button').click()
    await page.getByTestId('report-transfer-preview').waitFor()
    expect(await page.getByTestId('report-transfer-preview').textContent()).toMatch(/^涉及 [1-9]/)
    await screenshot(page, 'report-transfer-form-1366.png')
    await page.getByTestId('report-transfer-issue').click()
    await page.getByTestId('report-orders').waitFor()
    const [o] = await server.db.sql`SELECT id, title FROM evac_orders WHERE trigger_kind = 'report' AND (trigger_ref ->> 'reportId')::int = ${id}`
    expect(await page.getByTestId('report-orders').textContent()).toBe(`${o.title}（第 ${o.id} 号，${zh.reports.orderStatus.active}）`)
    expect(await page.getByTestId('report-steps').textContent()).toContain(zh.reports.steps.transfer)
    expect(await latinOnPage(page, 'record with its order')).toEqual([])
    expect(await page.getByTestId('report-link-transfer').count()).toBe(0)
    expect(errors).toEqual([])
    await page.close()

    // The order leads back to its report.
    const e = await openPage(browser, officer.cookie, `${server.url}/?unit=${township}&order=${o.id}`, { width: 1366, height: 768 })
    await waitForMap(e.page, 120_000)
    await e.page.getByTestId('evac-detail').waitFor()
    expect(await e.page.getByTestId('evac-detail').textContent()).toContain(zh.evac.triggers.report)
    await e.page.getByTestId('evac-from-report').click()
    await e.page.getByTestId('report-record').waitFor()
    expect(await e.page.getByTestId('report-title').textContent()).toBe('房屋险情')
    expect(await e.page.getByTestId('report-orders').textContent()).toContain(String(o.title))
    expect(e.errors).toEqual([])
    await e.page.close()

    // A second report of the same grid: everyone there is already moving; the preview says so in words.
    const again = await file('flash_flood', '河水上涨')
    const p2 = await openRecord(officer, again)
    await p2.page.getByTestId('report-link-transfer').click()
    await p2.page.getByTestId('report-transfer-preview-button').click()
    await p2.page.getByTestId('report-link-error').waitFor()
    expect(await p2.page.getByTestId('report-link-error').textContent()).toMatch(/^所选 \d+ 户已在其他转移指令中/)
    expect(await p2.page.getByTestId('report-transfer-issue').isDisabled()).toBe(true)
    expect(p2.errors.filter((e) => !/status of 409/.test(e))).toEqual([])
    await p2.page.close()
  }, 300_000)

  it('a city-level admin changes the time limits', async () => {
    const { page, errors } = await openPage(browser, admin.cookie, `${server.url}/?unit=${township}`, { width: 1366, height: 768 })
    await waitForMap(page, 120_000)
    if (!(await page.getByTestId('reports-panel').count())) await page.getByTestId('reports-open').click()
    await page.getByTestId('report-rules-open').click()
    const input = page.getByTestId('rules-ackMinutes-critical')
    expect(await input.inputValue()).toBe('15')
    await input.fill('10')
    await page.getByTestId('report-rules-form').locator('button[type=submit]').click()
    await expect.poll(() => page.getByTestId('report-rules-message').textContent()).toBe(zh.reports.rules.saved)
    const [c] = await server.db.sql`SELECT value -> 'ackMinutes' ->> 'critical' AS critical FROM report_config WHERE key = 'rules'`
    expect(c.critical).toBe('10')
    // Handling faster than acknowledging: refused, in words.
    await page.getByTestId('rules-handleMinutes-critical').fill('5')
    await page.getByTestId('report-rules-form').locator('button[type=submit]').click()
    await expect.poll(() => page.getByTestId('report-rules-message').textContent()).toContain('处置时限不能短于受理时限')
    await screenshot(page, 'report-rules-1366.png')
    expect(await latinOnPage(page, 'time limits')).toEqual([])
    expect(errors.filter((e) => !/status of 400/.test(e))).toEqual([])
    await page.close()
    // A township officer is not offered it.
    const o = await openPage(browser, officer.cookie, `${server.url}/?unit=${township}`, { width: 1366, height: 768 })
    await waitForMap(o.page, 120_000)
    if (!(await o.page.getByTestId('reports-panel').count())) await o.page.getByTestId('reports-open').click()
    await o.page.getByTestId('reports-panel').waitFor()
    expect(await o.page.getByTestId('report-rules-open').count()).toBe(0)
    await o.page.close()
  }, 300_000)
})
