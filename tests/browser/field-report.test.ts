import type { Browser, BrowserContext, Page } from 'playwright-core'
import { PNG } from 'pngjs'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { ensureWebBuild, webDist } from '../../scripts/web-build.ts'
import { chromiumPath, collectErrors, launch, screenshot } from '../helpers/browser.ts'
import { loginAs, TEST_PASSWORD, type Client } from '../helpers/session.ts'

const exe = chromiumPath()

/**
 * 上报 from the field app (issues #19, #20) on a 390×844 phone: a grid worker
 * with no signal reports a crack at the place the phone is, with a photo; the
 * report waits in the outbox, is filed once when the signal is back with the
 * phone's time, and its state shows in the worker's list, as the township
 * moves it on.
 */
describe.skipIf(!exe)('reporting a problem from the phone', () => {
  let server: RunningServer
  let browser: Browser
  let ctx: BrowserContext
  let page: Page
  let errors: string[]
  let worker: Client, town: Client
  let grid: { code: string; lng: number; lat: number }

  beforeAll(async () => {
    await ensureWebBuild({ quiet: true })
    server = await startServer({ port: 0, databaseUrl: inject('embeddedUrl'), seedScale: false, quiet: true, webDist })
    browser = await launch(exe!)
    const sql = server.db.sql
    await sql`DELETE FROM reports`
    ;[grid] = await sql<{ code: string; lng: number; lat: number }[]>`
      SELECT code, ST_X(p) AS lng, ST_Y(p) AS lat FROM (
        SELECT code, ST_PointOnSurface(geom) AS p FROM grids g WHERE kind = 'basic' AND (SELECT count(*) FROM households h WHERE h.grid_id = g.id) >= 3
        ORDER BY code LIMIT 1) x`
    worker = await loginAs(server, 'grid_worker', grid.code)
    town = await loginAs(server, 'township', `${grid.code.slice(0, 9)}000`)
    // The phone lets the app know where it is: inside the worker's grid.
    ctx = await browser.newContext({
      viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2,
      geolocation: { longitude: grid.lng, latitude: grid.lat, accuracy: 15 }, permissions: ['geolocation'],
    })
    page = await ctx.newPage()
    errors = collectErrors(page)
  })
  afterAll(async () => {
    if (server) await server.db.sql`DELETE FROM reports`
    await ctx?.close()
    await browser?.close()
    await server?.close()
  })

  const waiting = async () => Number(await page.getByTestId('outbox-line').getAttribute('data-waiting'))

  it('files a report made offline once the signal is back, at the phone\'s time, and shows its state', async () => {
    await page.goto(`${server.url}/m/`)
    await page.locator('input[name=username]').fill(worker.username)
    await page.locator('input[name=password]').fill(TEST_PASSWORD)
    await page.getByRole('button', { name: '登录' }).tap()
    await page.getByTestId('data-age').waitFor()
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined))
    // Opened once with a signal: the types and the (empty) list are kept on the phone.
    await page.getByTestId('tab-report').tap()
    await page.getByTestId('report-form').waitFor()
    await page.getByTestId('reports-age').waitFor()
    expect(await page.getByTestId('my-reports').innerText()).toMatch(/还没有上报过问题/)
    // The phone's position is the place, found at once.
    await expect.poll(() => page.getByTestId('report-place').inputValue()).toBe('phone')
    expect(await page.getByTestId('report-place').locator('option:checked').innerText()).toMatch(/我的位置（误差约 15 米）/)

    await ctx.setOffline(true)
    const t0 = Date.now()
    // Nothing chosen: told what is missing, nothing queued.
    await page.getByTestId('report-submit').tap()
    expect(await page.getByRole('alert').innerText()).toMatch(/请先选择问题类型/)
    expect(await waiting()).toBe(0)
    await page.getByTestId('report-type-geohazard').tap()
    await page.getByTestId('report-urgency-urgent').tap()
    await page.getByTestId('report-note').fill('屋后山坡出现长约5米的裂缝')
    const png = new PNG({ width: 2000, height: 1500 })
    for (let i = 0; i < png.data.length; i += 4) { png.data[i] = (i / 4) % 251; png.data[i + 3] = 255 }
    await page.getByTestId('report-photo-input').setInputFiles({ name: 'crack.png', mimeType: 'image/png', buffer: PNG.sync.write(png) })
    await expect.poll(() => page.getByTestId('report-photos').count(), { timeout: 30_000 }).toBe(1)
    expect(await page.getByTestId('report-photos').innerText()).toMatch(/已附 1 张照片/)
    await screenshot(page, 'field-report-form.png')
    await page.getByTestId('report-submit').tap()
    await page.getByTestId('report-saved').waitFor()
    expect(await page.getByTestId('report-saved').innerText()).toBe('已保存，联网后自动上报')
    await expect.poll(waiting).toBe(1)
    expect(await page.getByTestId('report-waiting').innerText()).toMatch(/地质灾害险情[\s\S]*紧急[\s\S]*待发送/)
    // The form is empty again, for the next one.
    expect(await page.getByTestId('report-note').inputValue()).toBe('')
    await page.getByTestId('report-waiting').scrollIntoViewIfNeeded()
    await screenshot(page, 'field-report-offline.png')
    const small = await page.evaluate(() => [...document.querySelectorAll('body *')].filter((e) => {
      const own = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent!.trim())
      return own && parseFloat(getComputedStyle(e).fontSize) < 16
    }).map((e) => e.outerHTML.slice(0, 80)))
    expect(small).toEqual([])
    const sql = server.db.sql
    expect((await sql`SELECT count(*)::int AS n FROM reports`)[0].n).toBe(0)
    await new Promise((r) => setTimeout(r, 1500)) // the signal comes back a little later: arrival after the phone's time

    await ctx.setOffline(false)
    await page.evaluate(() => window.dispatchEvent(new Event('online')))
    await expect.poll(waiting, { timeout: 30_000 }).toBe(0)
    const rows = await sql`
      SELECT r.id, r.client_id, r.type, r.urgency, r.level, r.state, r.note, r.grid_code, r.reported_at, r.received_at, ST_X(r.geom) AS lng, ST_Y(r.geom) AS lat
      FROM reports r`
    expect(rows).toHaveLength(1)
    const [r] = rows
    expect(r).toMatchObject({ type: 'geohazard', urgency: 'urgent', level: 'township', state: 'reported', note: '屋后山坡出现长约5米的裂缝', grid_code: grid.code })
    expect(r.lng).toBeCloseTo(grid.lng, 5)
    expect(r.lat).toBeCloseTo(grid.lat, 5)
    // When it was made on the phone, not when it arrived.
    const made = (r.reported_at as Date).getTime()
    expect(made).toBeGreaterThanOrEqual(t0 - 1000)
    expect((r.received_at as Date).getTime()).toBeGreaterThan(made + 1000)
    const [act] = await sql`SELECT id, kind, outcome, phone_at FROM field_actions WHERE user_id = ${worker.userId} AND kind = 'report'`
    expect(act).toMatchObject({ id: r.client_id, outcome: 'applied' })
    expect((act.phone_at as Date).getTime()).toBe(made)
    const [photo] = await sql`SELECT mime, width, height FROM field_photos WHERE target = ${`report:${r.id}`}`
    expect(photo).toMatchObject({ mime: 'image/jpeg', width: 1600, height: 1200 })
    // The outbox sent again (the answer lost on the way): still one report.
    const again = await page.evaluate(async (a) => {
      const me = await (await fetch('/api/auth/me')).json()
      const res = await fetch('/api/field/sync', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrfToken },
        body: JSON.stringify({ actions: [{ id: a.id, at: a.at, kind: 'report', type: 'geohazard', urgency: 'urgent', lng: a.lng, lat: a.lat }] }) })
      return (await res.json()).results[0]
    }, { id: r.client_id as string, at: new Date(made).toISOString(), lng: r.lng as number, lat: r.lat as number })
    expect(again).toMatchObject({ outcome: 'applied', replay: true, result: { report: r.id } })
    expect((await sql`SELECT count(*)::int AS n FROM reports`)[0].n).toBe(1)

    // Filed: in the list with its state in words.
    const item = page.getByTestId(`report-${r.id}`)
    await item.waitFor({ timeout: 30_000 })
    expect(await item.innerText()).toMatch(/地质灾害险情[\s\S]*已上报[\s\S]*乡镇处理/)
    expect(await page.getByTestId('report-waiting').count()).toBe(0)
    // The township acknowledges it; the list says so next time it is looked at with a signal.
    expect((await town.send('POST', `/api/reports/${r.id}/acknowledge`, {})).status).toBe(200)
    await page.getByTestId('tab-today').tap()
    await page.getByTestId('tab-report').tap()
    await expect.poll(() => item.getAttribute('data-state'), { timeout: 15_000 }).toBe('acknowledged')
    expect(await item.innerText()).toMatch(/已受理/)
    await item.scrollIntoViewIfNeeded()
    await screenshot(page, 'field-report-list.png')
    // Another worker's phone does not list it.
    const other = await loginAs(server, 'grid_worker', grid.code)
    expect((await (await other.get('/api/reports?mine=true&state=all')).json()).reports).toEqual([])
    expect(errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|Failed to load resource/.test(e))).toEqual([])
  }, 180_000)

  it('puts a report at a point tapped on the grid\'s map', async () => {
    // The page of the first test, logged in, its report sent.
    // A household with a long name (other suites rename households too): the place list names it in full.
    await server.db.sql`UPDATE households SET householder = '欧阳明远（外出务工，由其母亲代为看管房屋和承包地）'
                        WHERE id = (SELECT min(h.id) FROM households h JOIN grids g ON g.id = h.grid_id WHERE g.code = ${grid.code})`
    await page.reload()
    await page.getByTestId('tab-report').tap()
    await page.getByTestId('report-map-toggle').tap()
    const map = page.getByTestId('grid-map-pick')
    await map.waitFor()
    // Nothing is wider than the phone, not even a place list holding a long name (a wider page is shrunk to fit by the
    // phone, and a tap then lands off the place the page drew).
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0)
    // Tap a household's dot: the place is where that household is, within a dot's width.
    // The dot nearest the map's middle: a tap by the map's edge, near a button, is moved onto that button's side by
    // the phone's touch adjustment (as for a finger), and lands a few pixels off the dot.
    const hid = await map.evaluate((svg) => {
      const m = svg.getBoundingClientRect()
      const d = (c: Element) => { const r = c.getBoundingClientRect(); return Math.hypot(r.x + r.width / 2 - m.x - m.width / 2, r.y + r.height / 2 - m.y - m.height / 2) }
      const dots = [...svg.querySelectorAll('circle[data-household]')].sort((a, b) => d(a) - d(b))
      return Number(dots[0].getAttribute('data-household'))
    })
    const dot = map.locator(`circle[data-household="${hid}"]`)
    const box = (await dot.boundingBox())!
    const tap = { x: box.x + box.width / 2, y: box.y + box.height / 2 }
    await page.touchscreen.tap(tap.x, tap.y)
    const cross = map.getByTestId('grid-map-picked')
    await cross.waitFor()
    // The place, drawn back on the household's dot (screen → lon/lat → screen), within a pixel or two. Read against the dot as
    // it is now, not against the tap: the phone may have refetched its grid meanwhile (other suites write to the same
    // database), and a new shelter or site widens the view, moving every mark on it.
    const c = (await cross.boundingBox())!
    const now = (await map.locator(`circle[data-household="${hid}"]`).boundingBox())!
    expect(Math.abs(c.x + c.width / 2 - (now.x + now.width / 2))).toBeLessThan(2)
    expect(Math.abs(c.y + c.height / 2 - (now.y + now.height / 2))).toBeLessThan(2)
    const picked = { lng: Number(await cross.getAttribute('data-lng')), lat: Number(await cross.getAttribute('data-lat')) }
    await expect.poll(() => page.getByTestId('report-place').inputValue()).toBe('tapped')
    expect(await page.getByTestId('report-place').locator('option:checked').innerText()).toBe('地图上点选的位置')
    await screenshot(page, 'field-report-tapped.png')
    await page.getByTestId('report-type-road_cut').tap()
    await page.getByTestId('report-submit').tap()
    await expect.poll(() => page.getByTestId('report-saved').count()).toBe(1)
    const sql = server.db.sql
    await expect.poll(async () => (await sql`SELECT count(*)::int AS n FROM reports WHERE type = 'road_cut'`)[0].n, { timeout: 30_000 }).toBe(1)
    // The report is where the page put the cross, and that is by the household's dot (the map's scale varies with the grid: a
    // few metres to tens of metres a pixel).
    const [r] = await sql`SELECT ST_X(r.geom) AS lng, ST_Y(r.geom) AS lat, ST_Distance(r.geom::geography, h.geom::geography) AS metres
                          FROM reports r, households h WHERE r.type = 'road_cut' AND h.id = ${hid}`
    expect(r.lng).toBeCloseTo(picked.lng, 6)
    expect(r.lat).toBeCloseTo(picked.lat, 6)
    expect(r.metres as number).toBeLessThan(300)
  }, 120_000)
})
