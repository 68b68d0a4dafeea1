import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { ensureWebBuild, webDist } from '../../scripts/web-build.ts'
import { chromiumPath, launch, openPage, screenshot, waitForIdle, waitForMap } from '../helpers/browser.ts'
import { loginAs, type Client } from '../helpers/session.ts'

const exe = chromiumPath()

/** In the page: whether household `id`'s dot on the evac layer is drawn, with `status` in every tile that holds it. */
function evacDotStatusIn([id, status]: readonly [number, string]): boolean {
  const map = window.__gridwatch!.map!
  const dots = map.queryRenderedFeatures({ layers: ['evac-households'] }).filter((f) => f.properties.id === id)
  return dots.length > 0 && dots.every((f) => f.properties.status === status)
}
/** The status household `id`'s dot is drawn with (null: not drawn). */
const evacDotStatus = (page: Page, id: number) => page.evaluate((hid) => {
  const f = window.__gridwatch!.map!.queryRenderedFeatures({ layers: ['evac-households'] }).find((x) => x.properties.id === hid)
  return f ? (f.properties.status as string) : null
}, id)

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

    const [h] = await server.db.sql`
      SELECT e.household_id AS id, ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat FROM evac_households e JOIN households h ON h.id = e.household_id
      WHERE e.order_id = ${order.id} ORDER BY e.grid_code, e.household_id LIMIT 1`
    // The wall's map close to the household: its transfer dot is drawn from the evac tiles.
    await wall.page.evaluate(([lon, lat]) => window.__gridwatch!.map!.jumpTo({ center: [lon, lat], zoom: 15 }), [h.lon as number, h.lat as number])
    await wall.page.waitForFunction(evacDotStatusIn, [h.id as number, 'not_notified'] as const, { timeout: 30_000 })
      .catch(async () => expect(await evacDotStatus(wall.page, h.id as number), 'the evac dot before the change').toBe('not_notified'))
    await waitForIdle(wall.page) // every tile of the view loaded before the change: none may bring the new status by chance
    const before = Date.now()
    await page.getByTestId(`evac-next-${h.id}`).click()
    // A ceiling for a busy test machine; the ≤ 1 s target is measured by npm run bench:evac.
    await wall.page.waitForFunction(() => /[1-9]/.test(document.querySelector('[data-testid=evac-count-notified]')?.textContent ?? ''), null, { timeout: 10_000 })
    const seenAfter = Date.now() - before
    // The map too: the evac tiles are asked for again and the dot is drawn with its new status.
    await wall.page.waitForFunction(evacDotStatusIn, [h.id as number, 'notified'] as const, { timeout: 10_000 })
      .catch(async () => expect(await evacDotStatus(wall.page, h.id as number), 'the evac dot after the change').toBe('notified'))
    // Tiles also expire (max-age 10 s) and MapLibre fetches expired ones again, which alone would pass the check above
    // given time: the live feed's reload is the source asked for with a new version.
    expect(await wall.page.evaluate(() => (window.__gridwatch!.map!.getSource('evac') as unknown as { tiles: string[] }).tiles[0])).toMatch(/[?&]v=[1-9]/)
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
  }, 240_000) // two browsers on two shared cores: minutes when the machine is busy

  it('a commander with no place in the address opens on their county; the panel fits a 1366 px screen; a refusal reads as the server says it', async () => {
    const county = town.slice(0, 6) + '000000'
    const { page, errors } = await openPage(browser, commander.cookie, server.url + '/', { width: 1366, height: 768 })
    await waitForMap(page)
    await expect.poll(() => new URL(page.url()).searchParams.get('unit')).toBe(county)
    const [c] = await server.db.sql`SELECT name FROM admin_units WHERE code = ${county}`
    await expect.poll(() => page.getByTestId('unit-name').innerText()).toBe(c.name)
    await page.getByTestId('evac-toggle').click()
    const [order] = await server.db.sql`SELECT id FROM evac_orders ORDER BY id LIMIT 1`
    await page.getByTestId(`evac-order-${order.id}`).click()
    await page.getByTestId('evac-detail').waitFor()
    // Nothing of the panel reaches past its own box (an auto grid column grew to its widest row before).
    const overflow = await page.getByTestId('evac-panel').evaluate((p) => {
      const right = p.getBoundingClientRect().right
      return { scroll: p.scrollWidth - p.clientWidth, past: [...p.querySelectorAll('*')].filter((e) => e.getBoundingClientRect().right > right + 1).length }
    })
    expect(overflow).toEqual({ scroll: 0, past: 0 })
    expect((await page.getByTestId('evac-panel').boundingBox())!.x + (await page.getByTestId('evac-panel').boundingBox())!.width).toBeLessThanOrEqual(1366)
    // The town's threatened households are all under the open order: a preview is refused with the server's own words.
    await page.goto(server.url + `/?unit=${town}`)
    await waitForMap(page)
    await page.getByTestId('evac-toggle').click()
    await page.getByTestId('evac-new').click()
    const answer = page.waitForResponse((r) => r.url().endsWith('/api/evacuation/orders') && r.request().method() === 'POST')
    await page.getByTestId('evac-preview-button').click()
    const body = await (await answer).json()
    expect(body.error.code).toBe('already_in_transfer')
    await expect.poll(() => page.getByTestId('evac-form-error').innerText()).toBe(body.error.zh)
    await screenshot(page, 'evacuation-refused-1366.png')
    // The browser logs the refused request itself; nothing else may go wrong.
    expect(errors.filter((e) => !e.includes('status of 409'))).toEqual([])
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

  it('a commander draws an area on the map, previews it and issues an order for exactly the households inside', async () => {
    await server.db.sql`DELETE FROM evac_orders`
    // A grid of the town with households: the area is drawn around them.
    const [grid] = await server.db.sql`
      SELECT g.code, min(ST_X(h.geom)) AS w, min(ST_Y(h.geom)) AS s, max(ST_X(h.geom)) AS e, max(ST_Y(h.geom)) AS n
      FROM grids g JOIN households h ON h.grid_id = g.id WHERE g.code LIKE ${town.slice(0, 9) + '%'} AND g.kind = 'basic'
      GROUP BY g.code HAVING count(*) >= 10 ORDER BY count(*) DESC LIMIT 1`
    const { page, errors } = await open(commander, `/?unit=${(grid.code as string).slice(0, 12)}`)
    await waitForMap(page)
    // The map flies to the village once its record has come: let that flight end before drawing.
    await page.locator('.unit-title h1').waitFor()
    await page.waitForTimeout(300)
    await waitForIdle(page)
    await page.getByTestId('evac-toggle').click()
    await page.getByTestId('evac-new').click()
    await page.getByTestId('evac-target-area').click()
    await expect.poll(() => page.evaluate(() => !!window.__gridwatchAreaDraw), { timeout: 15_000 }).toBe(true)
    await expect(page.getByTestId('evac-preview-button').isDisabled()).resolves.toBe(true) // nothing drawn yet
    // Frame the grid's households, then click a pentagon's corners around their middle, and the first again to close it.
    await page.evaluate(([w, s, e, n]) => window.__gridwatch!.map!.fitBounds([w, s, e, n], { padding: { top: 120, bottom: 120, left: 420, right: 420 }, duration: 0 }),
      [grid.w, grid.s, grid.e, grid.n].map(Number))
    await waitForIdle(page)
    const [cx, cy] = [(Number(grid.w) + Number(grid.e)) / 2, (Number(grid.s) + Number(grid.n)) / 2]
    const [rx, ry] = [(Number(grid.e) - Number(grid.w)) * 0.4, (Number(grid.n) - Number(grid.s)) * 0.4]
    const corners = [0, 1, 2, 3, 4].map((k) => [cx + rx * Math.sin((2 * Math.PI * k) / 5), cy + ry * Math.cos((2 * Math.PI * k) / 5)])
    const pixels = await page.evaluate((cs) => cs.map((c) => window.__gridwatch!.map!.project(c as [number, number])), corners)
    const centre = () => page.evaluate(() => window.__gridwatch!.map!.getCenter().toArray())
    const centreBefore = await centre()
    const box = (await page.getByTestId('map').boundingBox())!
    for (const p of [...pixels, pixels[0]]) {
      await page.mouse.click(box.x + p.x, box.y + p.y)
      await page.waitForTimeout(150)
    }
    await page.getByTestId('evac-redraw').waitFor()
    expect(await centre()).toEqual(centreBefore) // the map held still while the corners were clicked
    expect(page.url()).not.toContain('record=') // clicks while drawing draw; they open no record
    const drawn = await page.evaluate(() => window.__gridwatchAreaDraw!.draw.getSnapshot().map((f) => f.geometry))
    expect(drawn).toHaveLength(1)
    const ring = (drawn[0] as GeoJSON.Polygon).coordinates[0]
    expect(ring).toHaveLength(6)
    // A corner where each click was (within a pixel at this zoom; terra-draw may turn the ring the other way round).
    const perPixel = await page.evaluate(() => { const m = window.__gridwatch!.map!; return m.unproject([1, 0]).lng - m.unproject([0, 0]).lng })
    for (const c of corners) {
      const nearest = Math.min(...ring.slice(0, 5).map((p) => Math.max(Math.abs(p[0] - c[0]), Math.abs(p[1] - c[1]))))
      expect(nearest).toBeLessThan(perPixel * 1.5)
    }

    const inside = async (geom: unknown) => (await server.db.sql`
      SELECT h.id FROM households h WHERE ST_Intersects(h.geom, ST_SetSRID(ST_GeomFromGeoJSON(${JSON.stringify(geom)}), 4326)) ORDER BY h.id`).map((r) => r.id as number)
    const expected = await inside(drawn[0])
    expect(expected.length).toBeGreaterThan(0)
    await page.getByTestId('evac-preview-button').click()
    await page.getByTestId('evac-preview').waitFor()
    expect(await page.getByTestId('evac-preview').textContent()).toContain(`${expected.length} 户`)
    await screenshot(page, 'evacuation-draw-preview.png')
    expect(await server.db.sql`SELECT id FROM evac_orders`).toEqual([])
    await page.getByTestId('evac-issue-button').click()
    await page.getByTestId('evac-detail').waitFor()
    const [order] = await server.db.sql`SELECT id, ST_AsGeoJSON(area) AS area, scope FROM evac_orders`
    const got = (await server.db.sql`SELECT household_id AS id FROM evac_households WHERE order_id = ${order.id} ORDER BY household_id`).map((r) => r.id as number)
    expect(got).toEqual(expected)
    expect(await inside(JSON.parse(order.area as string))).toEqual(expected) // the order keeps the area drawn
    await page.evaluate(() => new Promise((r) => setTimeout(r, 300)))
    expect(await page.evaluate(() => !!window.__gridwatchAreaDraw)).toBe(false) // the drawing left the map with the form
    expect(errors).toEqual([])
    await page.close()
  }, 240_000)
})
