/**
 * Page benchmark: time from opening http://…/ in headless Chromium to the
 * first idle map with our data drawn, over fresh browser contexts (empty
 * caches). Reference in the same run: fetching the same tile and API URLs the
 * page asked for, 6 at a time like a browser, from this process. Writes
 * bench/page.md (or --out). Uses DATABASE_URL, else the embedded database.
 */
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { projectRoot } from '../api/config.ts'
import { startServer } from '../api/server.ts'
import { benchSession } from './bench/session.ts'
import { chromiumPath, launch } from '../tests/helpers/browser.ts'
import { ensureWebBuild, webDist } from './web-build.ts'

const { values } = parseArgs({ options: { out: { type: 'string' }, runs: { type: 'string', default: '5' }, size: { type: 'string', default: '1920x1080' } } })
const exe = chromiumPath()
if (!exe) throw new Error('no Chromium: apt-get install chromium, or set CHROMIUM_PATH')
await ensureWebBuild()
const server = await startServer({ port: 0, webDist })
const browser = await launch(exe)
const session = await benchSession(server)
const [cookieName, cookieValue] = session.cookie.split('=')
const [width, height] = values.size!.split('x').map(Number)

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]
const runs: { draw: number; fetchAll: number; requests: number }[] = []
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
  runs.push({ draw, fetchAll: performance.now() - t0, requests: new Set(urls).size })
}
await browser.close()
await session.end()

const f = (x: number) => x.toFixed(0)
const lines = [
  '# Page benchmark',
  '',
  `Run ${new Date().toISOString()} on ${server.db.kind} (${server.tiles.encoder} tiles), Chromium headless with SwiftShader (software WebGL), ${width}×${height}, ${runs.length} fresh contexts, server tile cache cleared before each.`,
  '"Open → drawn" = navigation start to the first idle map with our features drawn (`window.__gridwatch.firstDrawMs`).',
  '"Data alone" = the same /api and /tiles URLs fetched 6 at a time from Node in the same run; the ratio shows what the browser adds.',
  '',
  '| run | open → drawn ms | data alone ms | ratio | requests |',
  '|---|---|---|---|---|',
  ...runs.map((r, i) => `| ${i + 1} | ${f(r.draw)} | ${f(r.fetchAll)} | ${(r.draw / r.fetchAll).toFixed(1)} | ${r.requests} |`),
  `| p50 | ${f(pct(runs.map((r) => r.draw), 50))} | ${f(pct(runs.map((r) => r.fetchAll), 50))} | ${(pct(runs.map((r) => r.draw), 50) / pct(runs.map((r) => r.fetchAll), 50)).toFixed(1)} | |`,
  '',
]
const out = values.out ?? path.join(projectRoot, 'bench', server.db.kind === 'embedded' ? 'page-embedded.md' : 'page.md')
fs.mkdirSync(path.dirname(out), { recursive: true })
fs.writeFileSync(out, lines.join('\n'))
console.log(lines.join('\n'))
await server.close()
