import type { Browser, BrowserContext, Page } from 'playwright-core'
import { PNG } from 'pngjs'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { ensureWebBuild, webDist } from '../../scripts/web-build.ts'
import { chromiumPath, collectErrors, launch, screenshot } from '../helpers/browser.ts'
import { resetRain } from '../helpers/rain.ts'
import { loginAs, TEST_PASSWORD, type Client } from '../helpers/session.ts'

const exe = chromiumPath()

/**
 * The field app (issue #19) on a phone: a grid worker logs in at /m, loses the
 * signal, ticks items, records visits (one with a photo), moves transfer
 * statuses, reloads with no signal (the app still opens with its outbox), gets
 * the signal back: the server holds each action once, in order, at the phone's
 * times; a status changed meanwhile comes back as a conflict the worker sees
 * and resolves; another grid is out of reach.
 */
describe.skipIf(!exe)('the field app on a phone', () => {
  let server: RunningServer
  let browser: Browser
  let ctx: BrowserContext
  let page: Page
  let errors: string[]
  let worker: Client, town: Client
  let grid: { id: number; code: string }, otherGrid: { id: number; code: string }
  let task: number, order: number
  let h: number[], otherHousehold: number

  beforeAll(async () => {
    await ensureWebBuild({ quiet: true })
    server = await startServer({ port: 0, databaseUrl: inject('embeddedUrl'), seedScale: false, quiet: true, webDist })
    browser = await launch(exe!)
    const sql = server.db.sql
    await resetRain(sql)
    await sql`DELETE FROM evac_orders`
    const city = await loginAs(server, 'commander', '530600000000')
    const [t] = await sql`SELECT code FROM admin_units WHERE level = 'township' ORDER BY code LIMIT 1`
    const hour = Math.floor(Date.now() / 3600_000) * 3600_000 - 3600_000
    const at = (x: number) => new Date(hour + x * 3600_000).toISOString()
    const f = await city.send('POST', '/api/rain/forecasts', [{ area: t.code, leadHours: 6, periodStart: at(3), periodEnd: at(9), mm: 90, issuedAt: at(0) }])
    expect(f.status, await f.clone().text()).toBe(200)
    const grids = await sql<{ id: number; code: string; task: number }[]>`
      SELECT g.id, g.code, min(t.id)::int AS task FROM grids g JOIN tasks t ON t.unit_code = g.code
      WHERE g.kind = 'basic' AND g.code LIKE ${(t.code as string).slice(0, 9) + '%'} AND (SELECT count(*) FROM households h WHERE h.grid_id = g.id) >= 4
      GROUP BY g.id, g.code ORDER BY g.code LIMIT 2`
    ;[grid, otherGrid] = grids
    task = grids[0].task
    h = (await sql`SELECT id FROM households WHERE grid_id = ${grid.id} ORDER BY id LIMIT 3`).map((r) => r.id as number)
    ;[{ id: otherHousehold }] = (await sql`SELECT min(id)::int AS id FROM households WHERE grid_id = ${otherGrid.id}`) as unknown as { id: number }[]
    town = await loginAs(server, 'township', t.code as string)
    const o = await town.send('POST', '/api/evacuation/orders', { stage: 'everyone', trigger: { kind: 'manual' }, grids: [grid.id, otherGrid.id] })
    expect(o.status, await o.clone().text()).toBe(201)
    order = (await o.json()).order.id
    worker = await loginAs(server, 'grid_worker', grid.code)
    ctx = await browser.newContext({ viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 })
    page = await ctx.newPage()
    errors = collectErrors(page)
  })
  afterAll(async () => {
    if (server) {
      await server.db.sql`DELETE FROM evac_orders`
      await resetRain(server.db.sql)
    }
    await ctx?.close()
    await browser?.close()
    await server?.close()
  })

  const waiting = async () => Number(await page.getByTestId('outbox-line').getAttribute('data-waiting'))

  it('works offline and sends everything once, in order, at the phone\'s times', async () => {
    await page.goto(`${server.url}/m/`)
    await page.locator('input[name=username]').fill(worker.username)
    await page.locator('input[name=password]').fill(TEST_PASSWORD)
    await page.getByRole('button', { name: '登录' }).tap()
    await page.getByTestId(`task-${task}`).waitFor()
    // The shell is kept on the phone before the signal goes.
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined))
    await page.waitForFunction(async () => (await caches.keys()).length > 0 && (await (await caches.open((await caches.keys())[0])).keys()).length >= 3)
    await screenshot(page, 'field-today.png')

    // Small text is not allowed: everything written on screen is 16 px or more.
    const small = await page.evaluate(() => [...document.querySelectorAll('body *')].filter((e) => {
      const own = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent!.trim())
      return own && parseFloat(getComputedStyle(e).fontSize) < 16
    }).map((e) => e.outerHTML.slice(0, 80)))
    expect(small).toEqual([])
    // Another grid's households are not on this phone, nor to be had from the server.
    expect(await page.getByTestId(`household-${otherHousehold}`).count()).toBe(0)
    expect(await page.evaluate((g) => fetch(`/api/field/today?grid=${g}`).then((r) => r.status), otherGrid.code)).toBe(403)

    await ctx.setOffline(true)
    const t0 = Date.now()
    // Tick item 1 with a note, item 2.
    await page.getByTestId(`task-${task}`).tap()
    await page.getByTestId('item-1').tap()
    await page.getByTestId('item-note-1').tap()
    await page.getByTestId('item-note').fill('排水沟已清理')
    await page.getByTestId('item-note-save').tap()
    await page.getByTestId('item-2').tap()
    await expect.poll(() => page.getByTestId('item-1').getAttribute('aria-checked')).toBe('true')
    await screenshot(page, 'field-task.png')
    await page.getByText(/返回/).tap()
    // A visit with a photo, taken large and shrunk on the phone.
    await page.getByTestId(`household-${h[0]}`).tap()
    await page.getByTestId('visit-note').fill('老人在家，已讲明转移路线')
    const png = new PNG({ width: 2400, height: 1200 })
    for (let i = 0; i < png.data.length; i += 4) png.data[i] = (i / 4) % 255
    await page.getByTestId('photo-input').setInputFiles({ name: 'crack.png', mimeType: 'image/png', buffer: PNG.sync.write(png) })
    await expect.poll(() => page.locator('.fa-photo').innerText(), { timeout: 30_000 }).toMatch(/已附照片/)
    await page.getByTestId('visit-record').tap()
    await page.getByText(/返回/).tap()
    // Transfer: h0 notified then moving; h2 notified (which the township will have done meanwhile).
    await page.getByTestId(`evac-next-${h[0]}`).tap()
    await expect.poll(() => page.getByTestId(`evac-${h[0]}`).getAttribute('data-status')).toBe('notified')
    await page.getByTestId(`evac-next-${h[0]}`).tap()
    await page.getByTestId(`evac-next-${h[2]}`).tap()
    await expect.poll(waiting, { timeout: 10_000 }).toBe(7)
    expect(await page.getByTestId('outbox-line').innerText()).toMatch(/离线 · 7 条待发送/)
    await screenshot(page, 'field-offline.png')

    // Reload with no signal: the app opens from the phone, with its outbox and what it did.
    await page.reload()
    await page.getByTestId('outbox-line').waitFor()
    expect(await waiting()).toBe(7)
    expect(await page.getByTestId(`evac-${h[0]}`).getAttribute('data-status')).toBe('moving')

    // Meanwhile, at the township: h2 notified by someone else.
    const r = await town.send('PATCH', `/api/evacuation/orders/${order}/households/${h[2]}`, { status: 'notified', from: 'not_notified' })
    expect(r.status).toBe(200)

    await ctx.setOffline(false)
    await page.evaluate(() => window.dispatchEvent(new Event('online')))
    await expect.poll(waiting, { timeout: 30_000 }).toBe(0)
    const sql = server.db.sql
    const acts = await sql`SELECT id, kind, phone_at, done_at, received_at, outcome FROM field_actions WHERE user_id = ${worker.userId} ORDER BY received_at, phone_at`
    expect(acts.map((a) => a.kind)).toEqual(['task.item', 'task.item', 'task.item', 'visit', 'evac.status', 'evac.status', 'evac.status'])
    expect(acts.map((a) => a.outcome)).toEqual(['applied', 'applied', 'applied', 'applied', 'applied', 'applied', 'conflict'])
    for (const a of acts) {
      expect((a.done_at as Date).getTime()).toBe((a.phone_at as Date).getTime())
      expect((a.phone_at as Date).getTime()).toBeGreaterThanOrEqual(t0 - 1000)
      expect((a.received_at as Date).getTime()).toBeGreaterThan((a.phone_at as Date).getTime())
    }
    // Each once, in order, at the phone's time.
    const [visit] = await sql`SELECT count(*)::int AS n, max(visited_at) AS at FROM visits WHERE household_id = ${h[0]} AND visited_at >= ${new Date(t0 - 1000)}`
    expect(visit.n).toBe(1)
    expect((visit.at as Date).getTime()).toBe((acts[3].phone_at as Date).getTime())
    // The worker's two steps, in order; the third (h2) was the township's, which the phone's conflicting one did not repeat.
    const log = await sql`SELECT household_id, to_status, at FROM evac_status_log WHERE order_id = ${order} AND actor_id = ${worker.userId} ORDER BY id`
    expect(log.map((l) => [l.household_id, l.to_status])).toEqual([[h[0], 'notified'], [h[0], 'moving']])
    expect((await sql`SELECT count(*)::int AS n FROM evac_status_log WHERE order_id = ${order} AND household_id = ${h[2]}`)[0].n).toBe(1)
    expect((log[0].at as Date).getTime()).toBe((acts[4].phone_at as Date).getTime())
    const [t] = await sql`SELECT items, status FROM tasks WHERE id = ${task}`
    expect((t.items as { done: boolean; note?: string }[]).slice(0, 2)).toMatchObject([{ done: true, note: '排水沟已清理' }, { done: true }])
    const [photo] = await sql`SELECT mime, width, height FROM field_photos WHERE target = ${`household:${h[0]}`}`
    expect(photo).toMatchObject({ mime: 'image/jpeg', width: 1600, height: 800 })

    // The conflict is told: the worker keeps the township's status.
    await page.getByTestId(`conflict-${h[2]}`).waitFor()
    expect(await page.getByTestId(`conflict-${h[2]}`).innerText()).toMatch(/已被他人改为“已通知”/)
    await screenshot(page, 'field-conflict.png')
    await page.getByTestId('conflict-keep').tap()
    await expect.poll(() => page.getByTestId(`conflict-${h[2]}`).count()).toBe(0)
    await expect.poll(() => page.getByTestId(`evac-${h[2]}`).getAttribute('data-status')).toBe('notified')

    // The small map: no map library, drawn from the grid on the phone.
    await page.getByTestId('tab-map').tap()
    await page.getByTestId('grid-map').waitFor()
    await screenshot(page, 'field-map.png')
    await page.getByTestId('tab-report').tap()
    await page.getByTestId('report-form').waitFor()
    expect(errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|Failed to load resource/.test(e))).toEqual([])
  }, 180_000)

  it('lists the households to visit overdue first, then the nearest first where the phone is, with the distance', async () => {
    type H = { id: number; overdue: boolean; lon: number; lat: number }
    const today = (await (await worker.get('/api/field/today')).json()) as { households: H[] }
    const overdue = today.households.filter((x) => x.overdue).map((x) => `household-${x.id}`)
    const onTime = today.households.filter((x) => !x.overdue)
    expect(onTime.length, 'a household visited on time').toBeGreaterThan(0)
    // Standing at the one the server lists last: the phone puts it first after the overdue.
    const here = onTime.at(-1)!
    const near = await browser.newContext({
      viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2,
      geolocation: { longitude: here.lon, latitude: here.lat }, permissions: ['geolocation'],
    })
    try {
      const [name, value] = worker.cookie.split('=')
      await near.addCookies([{ name, value, url: server.url }])
      const p = await near.newPage()
      await p.goto(`${server.url}/m/`)
      await p.getByTestId(`household-${here.id}`).waitFor()
      await expect.poll(() => p.getByTestId(`household-${here.id}`).innerText()).toMatch(/约 0 米/)
      const order = await p.locator('button[data-testid^=household-]').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')))
      expect(order.slice(0, overdue.length).sort()).toEqual([...overdue].sort())
      expect(order[overdue.length]).toBe(`household-${here.id}`)
      await screenshot(p, 'field-nearest-first.png')
    } finally {
      await near.close()
    }
  })
})
