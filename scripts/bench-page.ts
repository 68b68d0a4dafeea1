/**
 * Page benchmark, in headless Chromium with SwiftShader (software WebGL), over
 * fresh browser contexts (empty caches):
 * - open → drawn: a logged-in city viewer opens http://…/; time from
 *   navigation start to the first idle map with our data drawn. Reference in
 *   the same run: fetching the same tile and API URLs the page asked for, 6 at
 *   a time like a browser, from this process.
 * - login → drawn: the login form filled in and sent by a viewer of one county
 *   (the map then flies to the county and outlines it, as for a county
 *   commander); time from sending the form to the first drawn map, and the
 *   JavaScript the page fetched until then, by chunk, raw and gzipped (what
 *   the command map's first screen costs to download).
 * Writes bench/page.md (or --out). Uses DATABASE_URL, else the embedded database.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { parseArgs } from 'node:util'
import type { BrowserContext } from 'playwright-core'
import { projectRoot } from '../core/config.ts'
import { startServer } from '../api/server.ts'
import { benchSession } from './bench/session.ts'
import { chromiumPath, launch } from '../tests/helpers/browser.ts'
import { ensureWebBuild, webDist } from './web-build.ts'

const { values } = parseArgs({
  options: {
    out: { type: 'string' }, runs: { type: 'string', default: '5' }, size: { type: 'string', default: '1920x1080' },
    // Another build of web/ (an older commit's, to compare against): served as it is, not rebuilt.
    web: { type: 'string' },
    // warm: the server's tile cache is kept between the login runs (tiles an earlier visitor had made), after
    // one unmeasured login that fills it; cold (the default): cleared before each run.
    tiles: { type: 'string', default: 'cold' },
    // fresh: each login in a newly started Chromium (a commander's first visit of the day: no WebGL context or
    // compiled shader programs kept by the browser's GPU process); shared (the default): one browser for all runs.
    browser: { type: 'string', default: 'shared' },
  },
})
const exe = chromiumPath()
if (!exe) throw new Error('no Chromium: apt-get install chromium, or set CHROMIUM_PATH')
const loadAtStart = os.loadavg()
const dist = values.web ? path.resolve(values.web) : webDist
if (!values.web) await ensureWebBuild()
const server = await startServer({ port: 0, webDist: dist })
const browser = await launch(exe)
const session = await benchSession(server)
// A county with households: on the embedded demo the only one.
const [county] = await server.db.sql<{ code: string }[]>`
  SELECT left(g.code, 6) || '000000' AS code FROM households h JOIN grids g ON g.id = h.grid_id ORDER BY h.id LIMIT 1`
const countySession = await benchSession(server, { unitCode: county.code })
const [cookieName, cookieValue] = session.cookie.split('=')
const [width, height] = values.size!.split('x').map(Number)

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]

/** The JavaScript files a context asks for (the page's chunks and MapLibre's worker), in order, with when each was asked for (epoch ms). */
function scriptsOf(ctx: BrowserContext) {
  const files: { path: string; at: number }[] = []
  ctx.on('requestfinished', (r) => {
    const p = new URL(r.url()).pathname
    if (p.endsWith('.js') && !files.some((f) => f.path === p)) files.push({ path: p, at: r.timing().startTime })
  })
  return files
}
const sizes = new Map<string, { raw: number; gz: number }>()
function sizeOf(file: string) {
  let s = sizes.get(file)
  if (!s) {
    const body = fs.readFileSync(path.join(dist, file))
    s = { raw: body.length, gz: gzipSync(body, { level: 9 }).length }
    sizes.set(file, s)
  }
  return s
}
/** A chunk's name without its content hash: maplibre-B1nGdrBw.js → maplibre. */
const chunkName = (file: string) => path.basename(file, '.js').replace(/-[A-Za-z0-9_-]{8}$/, '')

const opened: { draw: number; fetchAll: number; requests: number }[] = []
for (let i = 0; i < Number(values.runs); i++) {
  server.tiles.cache.clear()
  const ctx = await browser.newContext({ viewport: { width, height } })
  await ctx.addCookies([{ name: cookieName, value: cookieValue, url: server.url }])
  const page = await ctx.newPage()
  const urls: string[] = []
  page.on('request', (r) => {
    // Not the live feed: an event stream never ends, and fetching it again hung the run.
    if (/\/(tiles|api)\//.test(r.url()) && !new URL(r.url()).pathname.startsWith('/api/events')) urls.push(r.url())
  })
  await page.goto(server.url + '/')
  await page.waitForFunction(() => window.__gridwatch?.firstDrawMs !== undefined, null, { timeout: 120_000 })
  const draw = await page.evaluate(() => window.__gridwatch!.firstDrawMs!)
  await ctx.close()
  // The reference: the same data over the same HTTP, without a browser.
  server.tiles.cache.clear()
  const queue = [...new Set(urls)]
  const t0 = performance.now()
  await Promise.all(Array.from({ length: 6 }, async () => {
    for (let u = queue.shift(); u; u = queue.shift()) await (await fetch(u, { headers: { cookie: session.cookie } })).arrayBuffer()
  }))
  opened.push({ draw, fetchAll: performance.now() - t0, requests: new Set(urls).size })
}

/** A request as the browser made it, on the epoch clock: when it was sent, when its answer ended. */
interface Sent { path: string; start: number; end: number }
function requestsOf(ctx: BrowserContext) {
  const sent: Sent[] = []
  ctx.on('requestfinished', (r) => {
    const t = r.timing()
    const u = new URL(r.url())
    sent.push({ path: u.pathname, start: t.startTime, end: t.startTime + Math.max(t.responseEnd, 0) })
  })
  return sent
}
/** One line of the waterfall: a request, or the tiles of one layer at one zoom taken together. */
interface Step { what: string; start: number; end: number }
function waterfall(sent: Sent[], marks: { name: string; at: number }[], zero: number, until: number): Step[] {
  const steps: Step[] = []
  const tiles = new Map<string, Step & { n: number; bytes?: number }>()
  for (const r of sent) {
    const start = r.start - zero, end = r.end - zero
    if (end < 0 || start > until) continue
    const tile = /^\/tiles\/([a-z_]+)\/(\d+)\//.exec(r.path)
    if (tile) {
      const key = `tiles ${tile[1]} z${tile[2]}`
      const t = tiles.get(key)
      if (t) Object.assign(t, { start: Math.min(t.start, start), end: Math.max(t.end, end), n: t.n + 1 })
      else tiles.set(key, { what: key, start, end, n: 1 })
    } else steps.push({ what: r.path.replace(/-[A-Za-z0-9_-]{8}\.js$/, '.js'), start, end })
  }
  for (const t of tiles.values()) steps.push({ ...t, what: `${t.what} (${t.n})` })
  for (const m of marks) steps.push({ what: `· ${m.name}`, start: m.at, end: m.at })
  return steps.sort((a, b) => a.start - b.start)
}

const logins: { ms: number; js: string[]; later: string[]; steps: Step[] }[] = []
const warm = values.tiles === 'warm'
if (!['warm', 'cold'].includes(values.tiles!)) throw new Error('--tiles is warm or cold')
if (!['fresh', 'shared'].includes(values.browser!)) throw new Error('--browser is fresh or shared')
const freshBrowser = values.browser === 'fresh'
for (let i = warm ? -1 : 0; i < Number(values.runs); i++) {
  if (!warm) server.tiles.cache.clear()
  const loginBrowser = freshBrowser ? await launch(exe) : browser
  const ctx = await loginBrowser.newContext({ viewport: { width, height } })
  const js = scriptsOf(ctx)
  const sent = requestsOf(ctx)
  const page = await ctx.newPage()
  await page.goto(server.url + '/')
  await page.locator('input[name=username]').fill(countySession.username)
  await page.locator('input[name=password]').fill(countySession.password)
  // The moment the form is sent, on the page's clock (that of firstDrawMs).
  await page.evaluate(() => document.querySelector('[data-testid=login-form]')!.addEventListener('submit', () => {
    (window as unknown as { loginMs: number }).loginMs = performance.now()
  }, { capture: true }))
  await page.locator('[data-testid=login-form] button[type=submit]').click()
  await page.waitForFunction(() => window.__gridwatch?.firstDrawMs !== undefined, null, { timeout: 120_000 })
  const { loginMs, firstDrawMs, origin, marks } = await page.evaluate(() => ({
    loginMs: (window as unknown as { loginMs: number }).loginMs, firstDrawMs: window.__gridwatch!.firstDrawMs, origin: performance.timeOrigin,
    marks: performance.getEntriesByType('mark').filter((m) => m.name.startsWith('gw:')).map((m) => ({ name: m.name.slice(3), at: m.startTime })),
  }))
  // What comes after the first draw (the outline's deck.gl): waited for, then listed apart.
  await page.waitForFunction(() => new Promise((r) => window.__gridwatch!.map!.once('idle', () => r(true))), null, { timeout: 60_000 }).catch(() => {})
  await page.waitForTimeout(1500)
  // Asked for before the first draw (the browser's own send times against the page's clock): deck.gl, asked
  // for in the same idle event that counts the map as drawn, is not the first screen's (it used to be
  // counted, the page being polled a moment later).
  const before = js.filter((f) => f.at <= origin + firstDrawMs!).sort((a, b) => a.at - b.at).map((f) => f.path)
  const steps = waterfall(sent, marks.map((m) => ({ ...m, at: m.at - loginMs })), origin + loginMs, firstDrawMs! - loginMs)
  if (i >= 0) logins.push({ ms: firstDrawMs! - loginMs!, js: before, later: js.map((f) => f.path).filter((f) => !before.includes(f)), steps })
  await ctx.close()
  if (freshBrowser) await loginBrowser.close()
}
await browser.close()
await session.end()
await countySession.end()
const loadAtEnd = os.loadavg()

const f = (x: number) => x.toFixed(0)
const kb = (n: number) => (n / 1024).toFixed(0)
const total = (files: string[]) => files.map(sizeOf).reduce((a, s) => ({ raw: a.raw + s.raw, gz: a.gz + s.gz }), { raw: 0, gz: 0 })
const first = logins[0]
const medianLogin = [...logins].sort((a, b) => a.ms - b.ms)[Math.floor((logins.length - 1) / 2)]
/** A text bar on a 40-column scale of the run. */
const bar = (st: Step, span: number) => {
  const at = (x: number) => Math.max(0, Math.min(40, Math.round((x / span) * 40)))
  const a = at(st.start), b = Math.max(at(st.end), a + 1)
  return '`' + ' '.repeat(a) + (st.end === st.start ? '|' : '█'.repeat(b - a)) + '`'
}
const firstJs = total(first.js)
const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ')
const lines = [
  '# Page benchmark',
  '',
  `Run ${new Date().toISOString()}${values.web ? ` with the build in ${values.web}` : ''} on ${server.db.kind} (${server.tiles.encoder} tiles), Chromium headless with SwiftShader (software WebGL), ${width}×${height}, ${opened.length} + ${logins.length} fresh contexts, ${warm ? 'server tile cache cleared before the open runs and kept for the login runs (filled by one login before them)' : 'server tile cache cleared before each'}, ${freshBrowser ? 'each login in a newly started browser' : 'one browser for all runs'}. Load average ${load(loadAtStart)} at the start, ${load(loadAtEnd)} at the end (${os.cpus().length} cores).`,
  '',
  '## Open → drawn (logged in, city viewer)',
  '',
  '"Open → drawn" = navigation start to the first idle map with our features drawn (`window.__gridwatch.firstDrawMs`).',
  '"Data alone" = the same /api and /tiles URLs fetched 6 at a time from Node in the same run; the ratio shows what the browser adds.',
  '',
  '| run | open → drawn ms | data alone ms | ratio | requests |',
  '|---|---|---|---|---|',
  ...opened.map((r, i) => `| ${i + 1} | ${f(r.draw)} | ${f(r.fetchAll)} | ${(r.draw / r.fetchAll).toFixed(1)} | ${r.requests} |`),
  `| p50 | ${f(pct(opened.map((r) => r.draw), 50))} | ${f(pct(opened.map((r) => r.fetchAll), 50))} | ${(pct(opened.map((r) => r.draw), 50) / pct(opened.map((r) => r.fetchAll), 50)).toFixed(1)} | |`,
  '',
  `## Login → drawn (viewer of ${county.code}: the map flies to the county and outlines it)`,
  '',
  '"Login → drawn" = the login form sent (its submit event) to the first idle map with our features drawn (`firstDrawMs`), the page opened fresh just before.',
  '',
  '| run | login → drawn ms | JS until drawn: files | raw KB | gzip KB |',
  '|---|---|---|---|---|',
  ...logins.map((r, i) => { const t = total(r.js); return `| ${i + 1} | ${f(r.ms)} | ${r.js.length} | ${kb(t.raw)} | ${kb(t.gz)} |` }),
  `| p50 | ${f(pct(logins.map((r) => r.ms), 50))} | | | |`,
  '',
  `The command map's JavaScript until its first map is drawn (run 1): ${kb(firstJs.raw)} KB raw, **${kb(firstJs.gz)} KB gzipped** (gzip -9 of each file; the server sends them as they are):`,
  '',
  '| chunk | raw KB | gzip KB |',
  '|---|---|---|',
  ...first.js.map((file) => `| ${chunkName(file)} | ${kb(sizeOf(file).raw)} | ${kb(sizeOf(file).gz)} |`),
  '',
  `Waterfall of the median run (${f(medianLogin.ms)} ms), ms after the form was sent: each request (the tiles of a layer and zoom together, first sent → last ended) and the page's steps (· marks: \`app\` the command map mounted, \`map\` MapLibre made, \`style\`, \`load\`, \`target\` the fly to the user's area, \`drawn\`).`,
  '',
  '| what | start | end | |',
  '|---|---|---|---|',
  ...medianLogin.steps.map((st) => `| ${st.what} | ${f(st.start)} | ${st.end === st.start ? '' : f(st.end)} | ${bar(st, medianLogin.ms)} |`),
  '',
  `Fetched after the first draw (run 1): ${first.later.length ? first.later.map((file) => `${chunkName(file)} (${kb(sizeOf(file).gz)} KB gzipped)`).join(', ') : 'nothing'}.`,
  '',
]
const out = values.out ?? path.join(projectRoot, 'bench', server.db.kind === 'embedded' ? 'page-embedded.md' : 'page.md')
fs.mkdirSync(path.dirname(out), { recursive: true })
fs.writeFileSync(out, lines.join('\n'))
console.log(lines.join('\n'))
await server.close()
