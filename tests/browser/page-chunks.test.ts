/**
 * What each screen makes the browser download (issue #17: the command map
 * loaded 2.4 MB of JavaScript, deck.gl, the grid editor, the wall and the
 * planning panel included, before it drew anything). The JS files a page
 * asks for are read from the build and recognised by what they hold, so a
 * renamed chunk cannot hide them: deck.gl by luma.gl's name, terra-draw by
 * its class name, our screens and panels by their chunk names. Every marker
 * is also seen arriving where it belongs, or the check would prove nothing.
 */
import fs from 'node:fs'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { ensureWebBuild, webDist } from '../../scripts/web-build.ts'
import { chromiumPath, collectErrors, launch, waitForMap } from '../helpers/browser.ts'
import { loginAs, type Client } from '../helpers/session.ts'

const exe = chromiumPath()

/** Code that the command map's first screen must not wait for, and how to recognise it in a JS file. */
const heavy: Record<string, (file: string, body: string) => boolean> = {
  'deck.gl': (_, body) => body.includes('luma.gl'),
  'terra-draw': (_, body) => body.includes('TerraDraw'),
  'grid editor': (file) => /^EditorPage-/.test(file),
  'command wall': (file) => /^WallPage-/.test(file),
  'print sheet': (file) => /^PrintPage-/.test(file),
  'transfer cards': (file) => /^CardsPage-/.test(file),
  'transfer panel': (file) => /^EvacPanel-/.test(file),
  'planning panel': (file) => /^PlanningPanel-/.test(file),
  '三查 panel': (file) => /^ChecksPanel-/.test(file),
  'accounts panel': (file) => /^AccountsPanel-/.test(file),
  'reports panel': (file) => /^ReportsPanel-/.test(file),
}

interface Script { file: string; body: string; at: number }

/** Every JS file the context fetches (chunks and MapLibre's worker), with when its request started (epoch ms). */
function scripts(ctx: BrowserContext): Script[] {
  const seen: Script[] = []
  ctx.on('requestfinished', (r) => {
    const p = new URL(r.url()).pathname
    if (!p.endsWith('.js')) return
    seen.push({ file: path.basename(p), body: fs.readFileSync(path.join(webDist, p), 'utf8'), at: r.timing().startTime })
  })
  return seen
}

/** Until no JS file has arrived for a second: the wall keeps its live feed open, so the network is never idle. */
async function scriptsSettled(list: Script[]) {
  for (let n = -1; n !== list.length; ) {
    n = list.length
    await new Promise((r) => setTimeout(r, 1000))
  }
}

const found = (list: Script[]) => Object.keys(heavy).filter((name) => list.some((s) => heavy[name](s.file, s.body)))

describe.skipIf(!exe)('the JavaScript each screen loads', () => {
  let server: RunningServer
  let browser: Browser
  // A county commander: the map opens on the county and outlines it (deck.gl's highlight).
  let me: Client

  beforeAll(async () => {
    await ensureWebBuild({ quiet: true })
    server = await startServer({ port: 0, databaseUrl: inject('embeddedUrl'), seedScale: false, quiet: true, webDist })
    browser = await launch(exe!)
    const [county] = await server.db.sql`SELECT code FROM admin_units WHERE level = 'county'
      AND EXISTS (SELECT 1 FROM admin_units t WHERE t.parent_id = admin_units.id) ORDER BY code LIMIT 1`
    me = await loginAs(server, 'commander', county.code as string)
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  async function open(url: string): Promise<{ page: Page; js: Script[]; errors: string[] }> {
    const ctx = await browser.newContext({ viewport: { width: 1600, height: 900 } })
    const [name, value] = me.cookie.split('=')
    await ctx.addCookies([{ name, value, url: server.url }])
    const js = scripts(ctx)
    const page = await ctx.newPage()
    page.once('close', () => void ctx.close().catch(() => {}))
    const errors = collectErrors(page)
    await page.goto(server.url + url)
    return { page, js, errors }
  }

  it('ships React\'s production build, even when a test run (NODE_ENV=test) is what builds it', () => {
    // The build is made by whoever finds it stale: npm start, a benchmark, or the first browser test of a run, in
    // which NODE_ENV is vitest's "test". Built so, the bundle held React's development build: twice the bytes
    // (126 KB gzipped for React alone, the field app's first screen 139 KB) and its slower checks, measured as such.
    const assets = path.join(webDist, 'assets')
    const bodies = fs.readdirSync(assets).filter((f) => f.endsWith('.js')).map((f) => fs.readFileSync(path.join(assets, f), 'utf8'))
    // A development-only warning, and the production build's error links.
    expect(bodies.filter((b) => b.includes('Invalid hook call'))).toEqual([])
    expect(bodies.some((b) => b.includes('react.dev/errors/'))).toBe(true)
  })

  it('the command map draws its first map without deck.gl, terra-draw or another screen, in under 1 MB gzipped', async () => {
    const { page, js, errors } = await open('/')
    await waitForMap(page, 120_000)
    const drawnAt = await page.evaluate(() => performance.timeOrigin + window.__gridwatch!.firstDrawMs!)
    // Files finish after they are asked for: wait until no more arrive (the live feed keeps the network busy).
    await scriptsSettled(js)
    const before = js.filter((s) => s.at < drawnAt)
    expect(before.map((s) => s.file)).toContainEqual(expect.stringMatching(/^maplibre-/))
    expect(found(before)).toEqual([])
    const gzipped = before.reduce((n, s) => n + gzipSync(s.body, { level: 9 }).length, 0)
    expect(gzipped).toBeLessThan(1_000_000)
    // The county's outline is deck.gl's: it comes after the draw.
    await expect.poll(() => found(js), { timeout: 30_000 }).toContain('deck.gl')
    expect(found(js)).toEqual(['deck.gl'])
    // And it runs: deck.gl's chunk once imported earcut from the chunk that imports deck.gl, a cycle
    // that left earcut undefined when deck.gl's code ran; the map said so in its banner.
    await page.waitForTimeout(2000)
    expect(await page.getByTestId('error-banner').count()).toBe(0)
    expect(errors).toEqual([])
    await page.close()
  })

  it('a panel\'s code comes when it is opened: the transfer panel brings its area drawing tool', async () => {
    const { page, js, errors } = await open('/')
    await waitForMap(page, 120_000)
    await page.getByTestId('evac-toggle').click()
    await page.getByTestId('evac-panel').waitFor()
    expect(found(js)).toEqual(expect.arrayContaining(['transfer panel', 'terra-draw']))
    expect(found(js)).not.toContain('planning panel')
    await page.getByTestId('planning-open').click()
    await expect.poll(() => found(js)).toContain('planning panel')
    expect(found(js)).not.toContain('reports panel')
    await page.getByTestId('reports-open').click()
    await page.getByTestId('reports-panel').waitFor()
    expect(found(js)).toContain('reports panel')
    expect(errors).toEqual([])
    await page.close()
  })

  for (const [url, own, shown] of [
    ['/editor', ['grid editor', 'terra-draw'], '[data-testid=grid-editor]'],
    ['/screen', ['command wall'], '[data-testid=wall]'],
    // No such order: the page says so.
    ['/cards?order=999999999', ['transfer cards'], '.cards-page[role=alert]'],
  ] as const) {
    it(`${url} opens with its own code and none of the other screens'`, async () => {
      const { page, js, errors } = await open(url)
      await page.locator(shown).waitFor({ timeout: 60_000 })
      await scriptsSettled(js)
      expect(found(js).sort()).toEqual([...own].sort())
      expect(errors.filter((e) => !/status of 4\d\d/.test(e))).toEqual([])
      await page.close()
    })
  }
})
