import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { ensureWebBuild, webDist } from '../../scripts/web-build.ts'
import { chromiumPath, launch, openPage, screenshot, waitForMap } from '../helpers/browser.ts'
import { loginAs, type Client } from '../helpers/session.ts'

const exe = chromiumPath()

/**
 * A commander issues a transfer order from the panel and moves a household
 * along; a second browser (the command wall's viewer) sees the count change
 * through the live feed, with no reload. The printable cadre lists follow.
 */
describe.skipIf(!exe)('evacuation in two browsers', () => {
  let server: RunningServer
  let browser: Browser
  let town: string
  let commander: Client, viewer: Client

  const open = (who: Client, path: string) => openPage(browser, who.cookie, server.url + path)

  beforeAll(async () => {
    await ensureWebBuild({ quiet: true })
    server = await startServer({ port: 0, databaseUrl: inject('embeddedUrl'), seedScale: false, quiet: true, webDist })
    browser = await launch(exe!)
    await server.db.sql`DELETE FROM evac_orders`
    const [t] = await server.db.sql`
      SELECT left(z.admin_code, 9) || '000' AS code FROM hazard_sites z WHERE z.status = 'active' AND z.threatened_households > 0
      GROUP BY 1 ORDER BY sum(z.threatened_households) DESC LIMIT 1`
    town = t.code as string
    commander = await loginAs(server, 'commander', town.slice(0, 6) + '000000')
    viewer = await loginAs(server, 'viewer', town.slice(0, 6) + '000000')
  })
  afterAll(async () => {
    if (server) await server.db.sql`DELETE FROM evac_orders`
    await browser?.close()
    await server?.close()
  })

  it('issues an order, and a change made in one browser shows in the other at once', async () => {
    const { page, errors } = await open(commander, `/?unit=${town}`)
    await waitForMap(page)
    await page.getByTestId('evac-toggle').click()
    await page.getByTestId('evac-new').click()
    await page.getByTestId('evac-preview-button').click()
    await page.getByTestId('evac-preview').waitFor()
    const expected = await server.db.sql`
      SELECT count(DISTINCT t.household_id)::int AS n FROM hazard_threats t JOIN hazard_sites z ON z.id = t.hazard_id
      JOIN households h ON h.id = t.household_id JOIN grids g ON g.id = h.grid_id
      WHERE z.admin_code LIKE ${town.slice(0, 9) + '%'} AND z.status = 'active' AND g.code LIKE ${town.slice(0, 9) + '%'}`
    expect(await page.getByTestId('evac-preview').textContent()).toContain(String(expected[0].n))
    expect(await server.db.sql`SELECT id FROM evac_orders`).toEqual([]) // a preview writes nothing
    await page.getByTestId('evac-issue-button').click()
    await page.getByTestId('evac-detail').waitFor()
    const [order] = await server.db.sql`SELECT id FROM evac_orders`
    expect(page.url()).toContain(`order=${order.id}`)
    const count = async (p: typeof page, s: string) => Number(((await p.getByTestId(`evac-count-${s}`).textContent()) ?? '').replace(/[^0-9]/g, ''))
    expect(await count(page, 'not_notified')).toBe(expected[0].n)

    // The wall: a viewer with the order in its address, no buttons to change anything.
    const wall = await open(viewer, `/?unit=${town}&order=${order.id}`)
    await waitForMap(wall.page)
    await wall.page.getByTestId('evac-detail').waitFor()
    await wall.page.waitForFunction(() => document.querySelector('[data-testid=feed-state]')?.className.includes('live'))
    expect(await count(wall.page, 'notified')).toBe(0)
    expect(await wall.page.locator('[data-testid^=evac-next-]').count()).toBe(0)

    const [h] = await server.db.sql`SELECT household_id AS id FROM evac_households WHERE order_id = ${order.id} ORDER BY grid_code, household_id LIMIT 1`
    const before = Date.now()
    await page.getByTestId(`evac-next-${h.id}`).click()
    await wall.page.waitForFunction(() => /[1-9]/.test(document.querySelector('[data-testid=evac-count-notified]')?.textContent ?? ''), null, { timeout: 5000 })
    const seenAfter = Date.now() - before
    expect(await count(wall.page, 'notified')).toBe(1)
    expect(await count(wall.page, 'not_notified')).toBe(expected[0].n - 1)
    const [row] = await server.db.sql`SELECT status, updated_by FROM evac_households WHERE order_id = ${order.id} AND household_id = ${h.id}`
    expect(row.status).toBe('notified')
    console.log(`status change seen by the second browser after ${seenAfter} ms`)
    await screenshot(page, 'evacuation-commander.png')
    await screenshot(wall.page, 'evacuation-wall.png')
    expect(errors).toEqual([])
    expect(wall.errors).toEqual([])
    await wall.page.close()
    await page.close()
  })

  it('prints one transfer list per answerable cadre', async () => {
    const [order] = await server.db.sql`SELECT id FROM evac_orders`
    const { page, errors } = await open(commander, `/cards?order=${order.id}`)
    await page.getByTestId('cards-page').waitFor()
    const [{ n }] = await server.db.sql`SELECT count(DISTINCT coalesce(cadre_id, 0))::int AS n FROM evac_households WHERE order_id = ${order.id}`
    expect(await page.getByTestId('card-sheet').count()).toBe(n)
    const [{ hh }] = await server.db.sql`SELECT count(*)::int AS hh FROM evac_households WHERE order_id = ${order.id}`
    expect(await page.locator('[data-testid=card-sheet] tbody tr').count()).toBe(hh)
    await page.emulateMedia({ media: 'print' })
    await screenshot(page, 'evacuation-cards.png')
    expect(errors).toEqual([])
    const bad = await open(commander, '/cards?order=abc')
    await bad.page.waitForSelector('.cards-page.error')
    await bad.page.close()
    await page.close()
  })
})
