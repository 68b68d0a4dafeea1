/**
 * Field app benchmark (issue #19), on DATABASE_URL or the embedded database:
 * 1. the first screen's JavaScript, gzipped (what /m/index.html loads before
 *    anything is tapped), and that no map library is in it;
 * 2. first load of /m on Chromium's "Slow 3G" emulation (DevTools' preset:
 *    2000 ms latency, 50 KB/s each way), fresh context, logged in: until the
 *    app shows its outbox line, and until the grid's data is on screen;
 * 3. a second load with no network at all (service worker + IndexedDB);
 * 4. 200 queued actions (visits, ticks, transfer statuses, tracks, 3 visits
 *    with photos) sent by the app once the signal is back, against the same
 *    200 actions posted from Node in the same run (the reference).
 * Writes bench/field.md (or --out). Leaves no order or account behind.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { parseArgs } from 'node:util'
import { cliActor, createAccount } from '../api/auth/accounts.ts'
import { projectRoot } from '../core/config.ts'
import { writeTx } from '../db/write.ts'
import { startServer } from '../api/server.ts'
import { chromiumPath, launch } from '../tests/helpers/browser.ts'
import { ensureWebBuild, webDist } from './web-build.ts'

const { values } = parseArgs({ options: { out: { type: 'string' }, runs: { type: 'string', default: '3' } } })
const exe = chromiumPath()
if (!exe) throw new Error('no Chromium: apt-get install chromium, or set CHROMIUM_PATH')
await ensureWebBuild()
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ')

// 1. The first screen's bytes.
const html = fs.readFileSync(path.join(webDist, 'm', 'index.html'), 'utf8')
// The scripts inside the page (vite.config.ts fieldApp) and any it names.
const inline = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n')
const named = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1])
const firstJs = [{ f: 'inside m/index.html', text: Buffer.from(inline) }, ...named.map((f) => ({ f, text: fs.readFileSync(path.join(webDist, f)) }))]
const jsGz = firstJs.map(({ f, text }) => ({ f, raw: text.length, gz: gzipSync(text, { level: 9 }).length }))
const hasMapLibrary = firstJs.some(({ text }) => /maplibre|deck\.gl/i.test(text.toString('utf8').slice(0, 3_000_000)))
const pageBr = fs.statSync(path.join(webDist, 'm', 'index.html.br')).size

const server = await startServer({ port: 0, webDist, quiet: true })
const sql = server.db.sql
const [g] = await sql`
  SELECT g.id, g.code, left(g.code, 9) || '000' AS township FROM grids g
  WHERE g.kind = 'basic' AND (SELECT count(*) FROM households h WHERE h.grid_id = g.id) >= 40 ORDER BY g.code LIMIT 1`
const password = `Bench-${randomBytes(9).toString('base64url')}`
const account = async (role: 'grid_worker' | 'township', unit: string) => {
  const username = `bench-${randomBytes(4).toString('hex')}`
  const acc = await createAccount(sql, { username, displayName: '基准测试', role, unitCode: unit, password }, cliActor('bench'))
  const r = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password }) })
  const body = await r.json()
  return { id: acc.id as number, cookie: (r.headers.get('set-cookie') ?? '').split(';')[0], csrf: body.csrfToken as string }
}
const worker = await account('grid_worker', g.code as string)
const town = await account('township', g.township as string)
const issued = await fetch(`${server.url}/api/evacuation/orders`, {
  method: 'POST', headers: { 'Content-Type': 'application/json', Cookie: town.cookie, 'X-CSRF-Token': town.csrf },
  body: JSON.stringify({ stage: 'everyone', trigger: { kind: 'manual' }, grids: [g.id], title: '基准测试转移' }),
})
const order = issued.status === 201 ? ((await issued.json()).order.id as number) : null
const households = (await sql`SELECT id FROM households WHERE grid_id = ${g.id as number} ORDER BY id`).map((r) => r.id as number)
const [task] = await sql`SELECT id::int AS id FROM tasks WHERE unit_code = ${g.code as string} AND status IN ('not_started', 'in_progress') LIMIT 1`

const browser = await launch(exe)
const [cookieName, cookieValue] = worker.cookie.split('=')
const photo = await (async () => {
  const p = await browser.newPage()
  const b64 = await p.evaluate(() => {
    const c = document.createElement('canvas'); c.width = 1600; c.height = 1200
    const x = c.getContext('2d')!
    for (let i = 0; i < 4000; i++) { x.fillStyle = `hsl(${i % 360},60%,${30 + (i % 40)}%)`; x.fillRect((i * 37) % 1600, (i * 91) % 1200, 40, 30) }
    return c.toDataURL('image/jpeg', 0.8).split(',')[1]
  })
  await p.close()
  return b64
})()

/** 200 actions as the outbox holds them: most visits and transfer steps, some ticks and patrol points, 3 photos. */
function actions(): unknown[] {
  const now = Date.now()
  const at = (i: number) => new Date(now - (200 - i) * 1000).toISOString()
  const out: unknown[] = []
  const steps = ['not_notified', 'notified', 'moving', 'at_shelter']
  let i = 0
  for (const h of households) {
    if (out.length >= 200) break
    out.push({ id: randomUUID(), at: at(i++), kind: 'visit', household: h, note: '基准走访', ...(out.length < 3 ? { photo } : {}) })
  }
  for (let s = 0; s < 3 && order; s++) for (const h of households.slice(0, 30)) {
    if (out.length >= 190) break
    out.push({ id: randomUUID(), at: at(i++), kind: 'evac.status', order, household: h, from: steps[s], status: steps[s + 1] })
  }
  while (out.length < 200) {
    out.push(task && out.length % 2
      ? { id: randomUUID(), at: at(i++), kind: 'task.item', task: task.id, item: 1, done: out.length % 4 === 1 }
      : { id: randomUUID(), at: at(i++), kind: 'track', points: [{ at: at(i), lon: 103.7, lat: 27.3 }] })
  }
  return out.slice(0, 200)
}

async function resetOrder() {
  if (!order) return
  await sql`UPDATE evac_households SET status = 'not_notified', people = NULL, reason = NULL, version = version + 1 WHERE order_id = ${order}`
}

interface Request { url: string; start: number; end: number | null; bytes: number; encoding: string }
let waterfall: string[] = []
const runs: { shell: number; data: number; offline: number; sync: number; reference: number; outcomes: string; load: string }[] = []
for (let run = 0; run < Number(values.runs); run++) {
  const ctx = await browser.newContext({ viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true })
  await ctx.addCookies([{ name: cookieName, value: cookieValue, url: server.url }])
  const page = await ctx.newPage()
  const cdp = await ctx.newCDPSession(page)
  await cdp.send('Network.enable')
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 2000, downloadThroughput: (500 * 1000) / 8 * 0.8, uploadThroughput: (500 * 1000) / 8 * 0.8 })
  // The waterfall of the first load (CDP timestamps are seconds on the browser's clock): which request waits on which.
  const requests = new Map<string, Request>()
  cdp.on('Network.requestWillBeSent', (e) => void (requests.has(e.requestId) || requests.set(e.requestId, { url: new URL(e.request.url).pathname + new URL(e.request.url).search, start: e.timestamp, end: null, bytes: 0, encoding: '' })))
  cdp.on('Network.responseReceived', (e) => { const r = requests.get(e.requestId); if (r) r.encoding = e.response.headers['content-encoding'] ?? e.response.headers['Content-Encoding'] ?? '' })
  cdp.on('Network.loadingFinished', (e) => { const r = requests.get(e.requestId); if (r) { r.end = e.timestamp; r.bytes = e.encodedDataLength } })
  const t0 = Date.now()
  await page.goto(`${server.url}/m/`, { waitUntil: 'commit' })
  await page.getByTestId('outbox-line').waitFor({ timeout: 120_000 })
  const shell = Date.now() - t0
  await page.locator('[data-testid^=household-]').first().waitFor({ timeout: 120_000 })
  const data = Date.now() - t0
  if (run === 0) {
    const list = [...requests.values()]
    const first = Math.min(...list.map((r) => r.start))
    waterfall = list.filter((r) => r.start - first < data / 1000).sort((a, b) => a.start - b.start)
      .map((r) => `| ${r.url.slice(0, 60)} | ${Math.round((r.start - first) * 1000)} | ${r.end === null ? '—' : Math.round((r.end - first) * 1000)} | ${(r.bytes / 1024).toFixed(1)} | ${r.encoding || 'none'} |`)
  }
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 })
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined))
  await page.waitForFunction(async () => (await caches.keys()).length > 0 && (await (await caches.open((await caches.keys())[0])).keys()).length >= 3)

  // 3. No network at all: the app opens from the phone.
  await ctx.setOffline(true)
  const t1 = Date.now()
  await page.reload({ waitUntil: 'commit' })
  await page.locator('[data-testid^=household-]').first().waitFor({ timeout: 30_000 })
  const offline = Date.now() - t1

  // 4. 200 actions waiting in the outbox (put there as the app does), then the signal comes back.
  await resetOrder()
  const queued = actions()
  await page.evaluate(async ({ list, userId }) => {
    const db = await new Promise<IDBDatabase>((res, rej) => { const r = indexedDB.open('gridwatch-field'); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error) })
    const tx = db.transaction('outbox', 'readwrite')
    for (const action of list) tx.objectStore('outbox').add({ userId, action, state: 'waiting' })
    await new Promise((res) => (tx.oncomplete = res))
    db.close()
  }, { list: queued, userId: worker.id })
  await page.reload({ waitUntil: 'commit' })
  await page.getByTestId('outbox-line').waitFor()
  await page.waitForFunction(() => document.querySelector('[data-testid=outbox-line]')?.getAttribute('data-waiting') === '200')
  const t2 = Date.now()
  await ctx.setOffline(false)
  await page.evaluate(() => window.dispatchEvent(new Event('online')))
  await page.waitForFunction(() => document.querySelector('[data-testid=outbox-line]')?.getAttribute('data-waiting') === '0', null, { timeout: 120_000 })
  const sync = Date.now() - t2
  const outcomes = (await sql`SELECT outcome, count(*)::int AS n FROM field_actions WHERE id = ANY(${queued.map((a) => (a as { id: string }).id)}::uuid[]) GROUP BY 1 ORDER BY 1`)
    .map((r) => `${r.outcome} ${r.n}`).join(', ')
  await ctx.close()

  // The reference: the same kinds of actions (new ids) posted from Node, 50 a request, in order.
  await resetOrder()
  const again = actions()
  const t3 = Date.now()
  for (let i = 0; i < again.length; i += 50) {
    const r = await fetch(`${server.url}/api/field/sync`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', Cookie: worker.cookie, 'X-CSRF-Token': worker.csrf },
      body: JSON.stringify({ actions: again.slice(i, i + 50) }),
    })
    await r.arrayBuffer()
  }
  const reference = Date.now() - t3
  runs.push({ shell, data, offline, sync, reference, outcomes, load: load() })
}
await browser.close()
if (order) await sql`DELETE FROM evac_orders WHERE id = ${order}`
await writeTx(sql, cliActor('bench'), async (tx) => void (await tx`DELETE FROM users WHERE id IN (${worker.id}, ${town.id})`))
await server.close()

const kb = (n: number) => (n / 1024).toFixed(1)
const lines = [
  '# Field app benchmark',
  '',
  `Run ${new Date().toISOString()} on ${server.db.kind}, Chromium headless, 360×640 mobile emulation with touch, ${runs.length} fresh contexts. Load average (1/5/15 min) is given per run.`,
  '',
  '## First screen JavaScript (what /m/index.html loads)',
  '',
  '| file | raw KB | gzip -9 KB |',
  '|---|---|---|',
  ...jsGz.map((x) => `| ${x.f} | ${kb(x.raw)} | ${kb(x.gz)} |`),
  `| **total** | ${kb(jsGz.reduce((a, x) => a + x.raw, 0))} | **${kb(jsGz.reduce((a, x) => a + x.gz, 0))}** (limit 250) |`,
  '',
  `The page as sent (brotli, its scripts and styles inside): ${kb(pageBr)} KB. Map library (maplibre, deck.gl) in the first screen: ${hasMapLibrary ? '**yes**' : 'no'}; the grid map is drawn as SVG.`,
  '',
  '## Loads and sync',
  '',
  '"Slow 3G" = Chromium DevTools\' preset through CDP `Network.emulateNetworkConditions`: 2000 ms latency per request, 50 KB/s down and up.',
  '"shell" = navigation to the app\'s outbox line on screen; "data" = to the grid\'s households listed (fresh context: no service worker, no IndexedDB, a session cookie).',
  '"offline" = reload with the network off (service worker + IndexedDB) until the households are listed.',
  `"sync" = 200 queued actions (visits, 3 with a ${kb(photo.length * 0.75)} KB photo, transfer steps, ticks, patrol points) from the signal back to the outbox empty, no throttling; "reference" = 200 such actions posted from Node, 50 a request, same run.`,
  '',
  '| run | slow 3G shell ms | slow 3G data ms | offline reload ms | sync 200 ms | reference ms | ratio | outcomes | load |',
  '|---|---|---|---|---|---|---|---|---|',
  ...runs.map((r, i) => `| ${i + 1} | ${r.shell} | ${r.data} | ${r.offline} | ${r.sync} | ${r.reference} | ${(r.sync / r.reference).toFixed(2)} | ${r.outcomes} | ${r.load} |`),
  '',
  '## Waterfall of run 1 (slow 3G, until the households are listed)',
  '',
  'Milliseconds from the first request (the page) to each request start and its last byte; KB as sent on the wire.',
  '',
  '| request | start ms | end ms | KB | content-encoding |',
  '|---|---|---|---|---|',
  ...waterfall,
  '',
]
const out = values.out ?? path.join(projectRoot, 'bench', 'field.md')
fs.writeFileSync(out, lines.join('\n'))
console.log(lines.join('\n'))
process.exit(0)
