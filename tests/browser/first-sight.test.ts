/**
 * What the command map does to be seen soon after a login (issue #17, "fast to first sight"): the screen's
 * code and MapLibre's worker are fetched while the login form is shown, a county commander's first map is
 * made at the county (no city view loaded first, no flight to wait for), and the bundle's hashed files are
 * kept by the browser. Order and place, never time: the figures are bench/page.md's (npm run bench:page).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { ensureWebBuild, webDist } from '../../scripts/web-build.ts'
import { chromiumPath, collectErrors, launch, waitForMap } from '../helpers/browser.ts'
import { loginAs, TEST_PASSWORD, type Client } from '../helpers/session.ts'

const exe = chromiumPath()

/** Every request a context makes, in the order the browser sent them. */
function requests(ctx: BrowserContext): string[] {
  const seen: string[] = []
  ctx.on('request', (r) => seen.push(new URL(r.url()).pathname))
  return seen
}

describe.skipIf(!exe)('the command map, first sight', () => {
  let server: RunningServer
  let browser: Browser
  let commander: Client
  let county: { code: string; bbox: [number, number, number, number] }

  beforeAll(async () => {
    await ensureWebBuild({ quiet: true })
    server = await startServer({ port: 0, databaseUrl: inject('embeddedUrl'), seedScale: false, quiet: true, webDist })
    browser = await launch(exe!)
    const [c] = await server.db.sql<{ code: string }[]>`SELECT code FROM admin_units WHERE level = 'county'
      AND EXISTS (SELECT 1 FROM admin_units t WHERE t.parent_id = admin_units.id) ORDER BY code LIMIT 1`
    commander = await loginAs(server, 'commander', c.code)
    const unit = await (await commander.get(`/api/units/${c.code}`)).json() as { bbox: [number, number, number, number] }
    county = { code: c.code, bbox: unit.bbox }
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  async function loginPage(): Promise<{ page: Page; sent: string[]; errors: string[] }> {
    const ctx = await browser.newContext({ viewport: { width: 1600, height: 900 } })
    const sent = requests(ctx)
    const page = await ctx.newPage()
    page.once('close', () => void ctx.close().catch(() => {}))
    const errors = collectErrors(page)
    await page.goto(server.url + '/')
    await page.getByTestId('login-form').waitFor()
    return { page, sent, errors }
  }

  it('fetches the map screen\'s code and starts MapLibre\'s worker while the login form is shown', async () => {
    const { page, sent, errors } = await loginPage()
    // Nobody is logged in: the form stays, and the map's code, MapLibre and its worker arrive all the same.
    const js = () => sent.filter((p) => p.endsWith('.js')).map((p) => p.split('/').pop()!)
    await expect.poll(js, { timeout: 60_000 }).toEqual(expect.arrayContaining([
      expect.stringMatching(/^App-/), expect.stringMatching(/^maplibre-[\w-]{8}\.js$/), expect.stringMatching(/^maplibre-gl-worker-/),
    ]))
    expect(await page.getByTestId('login-form').isVisible()).toBe(true)
    // No data before the login: not a tile, not a TileJSON.
    expect(sent.filter((p) => p.startsWith('/tiles/'))).toEqual([])
    expect(errors.filter((e) => !/status of 401/.test(e))).toEqual([])
    await page.close()
  })

  it('shows the map screen as soon as the login is answered, with no loading step: its code came while the form was shown', async () => {
    const { page, sent, errors } = await loginPage()
    await expect.poll(() => sent.some((p) => /\/App-[\w-]+\.js$/.test(p)), { timeout: 60_000 }).toBe(true)
    await page.waitForLoadState('networkidle')
    // Whether the screen's "loading" placeholder is ever put on the page from here on.
    await page.evaluate(() => {
      const w = window as unknown as { loadingShown: boolean }
      w.loadingShown = false
      new MutationObserver(() => {
        if (document.querySelector('[data-testid=page-loading]')) w.loadingShown = true
      }).observe(document.body, { childList: true, subtree: true })
    })
    await page.locator('input[name=username]').fill(commander.username)
    await page.locator('input[name=password]').fill(TEST_PASSWORD)
    await page.locator('[data-testid=login-form] button[type=submit]').click()
    await waitForMap(page, 120_000)
    // Through lazy() alone the screen suspended for a moment even with its code in, and React holds a boundary's
    // content back 300 ms once its fallback is up: the map was made 300 ms after the login was answered.
    expect(await page.evaluate(() => (window as unknown as { loadingShown: boolean }).loadingShown)).toBe(false)
    expect(errors.filter((e) => !/status of 401/.test(e))).toEqual([])
    await page.close()
  })

  it('sets up the map\'s WebGL while the login form is shown, and the map after the login uses it', async () => {
    const { page, errors } = await loginPage()
    // Each WebGL context the page makes, in order (software GL takes 250–350 ms to set one up).
    await page.context().addInitScript(() => {
      const w = window as unknown as { contexts: HTMLCanvasElement[] }
      w.contexts = []
      const get = HTMLCanvasElement.prototype.getContext as (this: HTMLCanvasElement, id: string, o?: unknown) => unknown
      HTMLCanvasElement.prototype.getContext = function (this: HTMLCanvasElement, id: string, o?: unknown) {
        const c = get.call(this, id, o)
        if (c && /webgl/.test(id) && !w.contexts.includes(this)) w.contexts.push(this)
        return c
      } as typeof HTMLCanvasElement.prototype.getContext
      // And each shader program it links, when (the first paint after the login linked ~15: 0.4–1.2 s on software GL).
      const l = window as unknown as { links: number[] }
      l.links = []
      for (const C of [WebGLRenderingContext, WebGL2RenderingContext]) {
        const link = C.prototype.linkProgram
        C.prototype.linkProgram = function (this: WebGLRenderingContext, p: WebGLProgram) {
          l.links.push(performance.now())
          return link.call(this, p)
        }
      }
    })
    await page.reload()
    await page.getByTestId('login-form').waitFor()
    await expect.poll(() => page.evaluate(() => (window as unknown as { contexts: unknown[] }).contexts.length), { timeout: 60_000 }).toBe(1)
    // The programs are linked while the form is shown: a dozen and more, then no more while nothing happens.
    await expect.poll(() => page.evaluate(() => (window as unknown as { links: number[] }).links.length), { timeout: 60_000 }).toBeGreaterThan(10)
    await page.waitForTimeout(1000)
    const submitted = await page.evaluate(() => performance.now())
    await page.locator('input[name=username]').fill(commander.username)
    await page.locator('input[name=password]').fill(TEST_PASSWORD)
    await page.locator('[data-testid=login-form] button[type=submit]').click()
    await waitForMap(page, 120_000)
    expect(await page.evaluate((after) => {
      const contexts = (window as unknown as { contexts: HTMLCanvasElement[] }).contexts
      return {
        made: contexts.length, same: contexts[0] === window.__gridwatch!.map!.getCanvas(), shown: contexts[0].isConnected && contexts[0].closest('[data-testid=map]') !== null,
        linkedAfterLogin: (window as unknown as { links: number[] }).links.filter((t) => t > after && t < window.__gridwatch!.firstDrawMs!).length,
      }
    }, submitted)).toEqual({ made: 1, same: true, shown: true, linkedAfterLogin: expect.any(Number) })
    // Between the login and the first draw at most one program is linked (one the made-up features do not reach);
    // with a map made after the login it was every one of them.
    expect(await page.evaluate((after) => (window as unknown as { links: number[] }).links.filter((t) => t > after && t < window.__gridwatch!.firstDrawMs!).length, submitted)).toBeLessThanOrEqual(1)
    expect(errors.filter((e) => !/status of 401/.test(e))).toEqual([])
    await page.close()
  })

  it('makes a county commander\'s first map at the county, not at the city then flying there', async () => {
    const { page, sent, errors } = await loginPage()
    await page.locator('input[name=username]').fill(commander.username)
    await page.locator('input[name=password]').fill(TEST_PASSWORD)
    await page.locator('[data-testid=login-form] button[type=submit]').click()
    await waitForMap(page, 120_000)
    const view = await page.evaluate(() => {
      const map = window.__gridwatch!.map!
      return { bounds: map.getBounds().toArray().flat(), zoom: map.getZoom(), moving: map.isMoving() }
    })
    // Drawn where the county is: its middle is in view, and the city's corners are not.
    const [w, s, e, n] = county.bbox
    const [vw, vs, ve, vn] = view.bounds
    expect((w + e) / 2).toBeGreaterThan(vw)
    expect((w + e) / 2).toBeLessThan(ve)
    expect((s + n) / 2).toBeGreaterThan(vs)
    expect((s + n) / 2).toBeLessThan(vn)
    expect(view.moving).toBe(false)
    // Every admin tile asked for until then is of the county's zoom: none of the city view before it.
    const zooms = new Set(sent.filter((p) => p.startsWith('/tiles/admin/')).map((p) => Number(p.split('/')[3])))
    expect([...zooms]).toEqual([Math.floor(view.zoom)])
    // Closer than the whole city (zoom 8 at this size), or the check above could not tell the two apart.
    expect(Math.floor(view.zoom)).toBeGreaterThan(8)
    expect(errors.filter((e) => !/status of 401/.test(e))).toEqual([])
    await page.close()
  })

  it('makes the county commander\'s map with the box the login answered, not after the county\'s summary', async () => {
    const { page, errors } = await loginPage()
    // The county's summary is held until the map has been made: it must not be what the map waits for.
    let release: () => void = () => {}
    const released = new Promise<void>((r) => (release = r))
    await page.route(/\/api\/units\//, async (route) => {
      await released
      await route.continue()
    })
    await page.locator('input[name=username]').fill(commander.username)
    await page.locator('input[name=password]').fill(TEST_PASSWORD)
    await page.locator('[data-testid=login-form] button[type=submit]').click()
    try {
      await page.waitForFunction(() => window.__gridwatch?.map !== undefined, null, { timeout: 60_000 })
      const center = await page.evaluate(() => window.__gridwatch!.map!.getCenter().toArray())
      const [w, s, e, n] = county.bbox
      expect(center[0]).toBeGreaterThan(w)
      expect(center[0]).toBeLessThan(e)
      expect(center[1]).toBeGreaterThan(s)
      expect(center[1]).toBeLessThan(n)
    } finally {
      release()
    }
    await waitForMap(page, 120_000)
    expect(errors.filter((e) => !/status of 401/.test(e))).toEqual([])
    await page.close()
  })

  /** Counts, on the page, the animation frames in which WebGL drew anything: when each began, and its draw calls. */
  const countPaints = () => {
    const w = window as unknown as { paints: [number, number][] }
    w.paints = []
    let frame = -1
    const raf = window.requestAnimationFrame.bind(window)
    window.requestAnimationFrame = (cb) => raf((t) => {
      frame = performance.now()
      cb(t)
      frame = -1
    })
    for (const C of [WebGLRenderingContext, WebGL2RenderingContext]) {
      const p = C.prototype as unknown as Record<string, (...a: unknown[]) => unknown>
      for (const name of ['drawElements', 'drawArrays']) {
        const draw = p[name]
        p[name] = function (this: unknown, ...a: unknown[]) {
          if (frame >= 0 && w.paints.at(-1)?.[0] !== frame) w.paints.push([frame, 0])
          if (frame >= 0) w.paints.at(-1)![1]++
          return draw.apply(this, a)
        }
      }
    }
  }

  it('paints the first view once, when its tiles are in, not a frame per tile on the way', async () => {
    const { page, errors } = await loginPage()
    await page.context().addInitScript(countPaints)
    // A wait no busy test machine outlasts: the frames counted are the rule's, not the clock's.
    await page.context().addInitScript(() => ((window as unknown as { __gridwatchFirstPaintWaitMs: number }).__gridwatchFirstPaintWaitMs = 120_000))
    await page.reload()
    await page.locator('input[name=username]').fill(commander.username)
    await page.locator('input[name=password]').fill(TEST_PASSWORD)
    // From the login on: the map made in advance paints while the form is shown, off screen.
    await page.waitForTimeout(1000)
    await page.evaluate(() => ((window as unknown as { paints: [number, number][] }).paints = []))
    await page.locator('[data-testid=login-form] button[type=submit]').click()
    await waitForMap(page, 120_000)
    const { paints, load } = await page.evaluate(() => ({
      paints: (window as unknown as { paints: [number, number][] }).paints,
      load: performance.getEntriesByName('gw:load', 'mark')[0].startTime,
    }))
    // Painted up to the map's load: the frame with everything in (and at most one more with nothing asked for yet).
    // Painting as each tile came, this counted 10–15 frames on the full city and 6 on this one.
    expect(paints.filter(([t]) => t <= load).length).toBeLessThanOrEqual(2)
    expect(errors.filter((e) => !/status of 401/.test(e))).toEqual([])
    await page.close()
  })

  it('paints what has come when a tile of the first view never does', async () => {
    const { page } = await loginPage()
    await page.context().addInitScript(countPaints)
    await page.context().addInitScript(() => ((window as unknown as { __gridwatchFirstPaintWaitMs: number }).__gridwatchFirstPaintWaitMs = 1000))
    // One grids tile is held unanswered: the first view never has all its tiles.
    let held = ''
    await page.context().route(/\/tiles\/grids\/\d+\/\d+\/\d+/, (route) => {
      if (!held) held = route.request().url()
      if (route.request().url() === held) return // never answered
      return route.continue()
    })
    await page.reload()
    await page.locator('input[name=username]').fill(commander.username)
    await page.locator('input[name=password]').fill(TEST_PASSWORD)
    await page.locator('[data-testid=login-form] button[type=submit]').click()
    await expect.poll(() => held, { timeout: 60_000 }).not.toBe('')
    // Within the wait and a little more, the rest is painted all the same (a frame of many draw calls: the tiles'
    // layers, not a bare background), while the held tile is still pending.
    const most = () => page.evaluate(() => Math.max(0, ...(window as unknown as { paints: [number, number][] }).paints.map(([, n]) => n)))
    await expect.poll(most, { timeout: 60_000 }).toBeGreaterThan(10)
    expect(await page.evaluate(() => window.__gridwatch!.map!.areTilesLoaded())).toBe(false)
    await page.close()
  })

  it('lets the browser keep the bundle\'s hashed files, and not the page that names them', async () => {
    const html = await fetch(server.url + '/')
    const page = await html.text()
    expect(html.headers.get('cache-control') ?? '').not.toMatch(/immutable/)
    const asset = /\/assets\/[\w-]+\.js/.exec(page)![0]
    const js = await fetch(server.url + asset)
    expect(js.status).toBe(200)
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    // A file that is not there is not kept either: a later build may bring it.
    const missing = await fetch(server.url + '/assets/nothing-here-00000000.js')
    expect(missing.headers.get('cache-control') ?? '').not.toMatch(/immutable/)
  })
})
