/**
 * Where the browser's time goes between a login and the first drawn map: one login as bench:page does it
 * (fresh context, cold tile cache, a county viewer), traced by Chromium (CDP tracing with the V8 sampling
 * profiler), then summed per thread — the page's main thread, MapLibre's workers, the GPU process — over the
 * window from the form's submit to the first draw: how busy each was in each quarter second, the busiest trace
 * events, and the JavaScript functions with the most self time. For finding what to make faster, not a
 * benchmark (the profiler itself costs time). Writes the raw trace to --out (default
 * /tmp/gridwatch-login-trace.json), to open in DevTools, and the page's marks beside it (.marks.json);
 * `--analyze <trace>` reads those two again without a browser. Uses DATABASE_URL, else the embedded database.
 */
import fs from 'node:fs'
import os from 'node:os'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: '/tmp/gridwatch-login-trace.json' }, size: { type: 'string', default: '1920x1080' },
    top: { type: 'string', default: '25' }, analyze: { type: 'string' },
  },
})

interface Marks { loginMs: number; firstDrawMs: number; marks: { name: string; at: number }[]; load: number[] }

async function traceLogin(out: string): Promise<void> {
  const { startServer } = await import('../api/server.ts')
  const { benchSession } = await import('./bench/session.ts')
  const { chromiumPath, launch } = await import('../tests/helpers/browser.ts')
  const { ensureWebBuild, webDist } = await import('./web-build.ts')
  const exe = chromiumPath()
  if (!exe) throw new Error('no Chromium: apt-get install chromium, or set CHROMIUM_PATH')
  await ensureWebBuild()
  const server = await startServer({ port: 0, webDist })
  const browser = await launch(exe)
  const [county] = await server.db.sql<{ code: string }[]>`
    SELECT left(g.code, 6) || '000000' AS code FROM households h JOIN grids g ON g.id = h.grid_id ORDER BY h.id LIMIT 1`
  const countySession = await benchSession(server, { unitCode: county.code })
  const [width, height] = values.size!.split('x').map(Number)
  const load = os.loadavg()
  try {
    // As in bench:page, whose browser has drawn the map before each measured login: one login untraced first,
    // so that what the browser keeps between contexts (its GPU process, any program cache) is as there.
    const before = await browser.newContext({ viewport: { width, height } })
    const first = await before.newPage()
    await first.goto(server.url + '/')
    await first.locator('input[name=username]').fill(countySession.username)
    await first.locator('input[name=password]').fill(countySession.password)
    await first.locator('[data-testid=login-form] button[type=submit]').click()
    await first.waitForFunction(() => window.__gridwatch?.firstDrawMs !== undefined, null, { timeout: 120_000 })
    await before.close()
    server.tiles.cache.clear()
    const ctx = await browser.newContext({ viewport: { width, height } })
    const page = await ctx.newPage()
    await page.goto(server.url + '/')
    await page.locator('input[name=username]').fill(countySession.username)
    await page.locator('input[name=password]').fill(countySession.password)
    // What the login form's page starts (the screen's chunk, MapLibre's worker) settles first: the login is what is traced.
    await page.waitForTimeout(1500)
    await page.evaluate(() => document.querySelector('[data-testid=login-form]')!.addEventListener('submit', () => {
      (window as unknown as { loginMs: number }).loginMs = performance.now()
    }, { capture: true }))
    await browser.startTracing(undefined, {
      path: out,
      categories: [
        'devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8.execute', 'blink.user_timing', 'gpu', 'toplevel',
        'disabled-by-default-v8.cpu_profiler', 'loading',
      ],
    })
    await page.locator('[data-testid=login-form] button[type=submit]').click()
    await page.waitForFunction(() => window.__gridwatch?.firstDrawMs !== undefined, null, { timeout: 120_000 })
    const got = await page.evaluate(() => ({
      loginMs: (window as unknown as { loginMs: number }).loginMs, firstDrawMs: window.__gridwatch!.firstDrawMs!,
      marks: performance.getEntriesByType('mark').filter((m) => m.name.startsWith('gw:')).map((m) => ({ name: m.name.slice(3), at: m.startTime })),
    }))
    await browser.stopTracing()
    fs.writeFileSync(out + '.marks.json', JSON.stringify({ ...got, load } satisfies Marks))
    await ctx.close()
  } finally {
    await browser.close()
    await countySession.end()
    await server.close()
  }
}

interface TraceEvent {
  name: string; cat: string; ph: string; ts: number; dur?: number; pid: number; tid: number
  args?: { name?: string; data?: { startTime?: number; cpuProfile?: { nodes?: ProfileNode[]; samples?: number[] }; timeDeltas?: number[] } }
  id?: string
}
interface ProfileNode { id: number; parent?: number; callFrame: { functionName: string; url?: string; lineNumber: number } }

function analyze(file: string) {
  const { loginMs, firstDrawMs, marks, load } = JSON.parse(fs.readFileSync(file + '.marks.json', 'utf8')) as Marks
  const events = (JSON.parse(fs.readFileSync(file, 'utf8')) as { traceEvents: TraceEvent[] }).traceEvents
  const threadName = new Map<string, string>()
  const processName = new Map<number, string>()
  for (const e of events) {
    if (e.ph === 'M' && e.name === 'thread_name') threadName.set(`${e.pid}:${e.tid}`, e.args!.name!)
    if (e.ph === 'M' && e.name === 'process_name') processName.set(e.pid, e.args!.name!)
  }
  // The page's clock and the trace's (µs) are tied by a user-timing mark.
  const markEvent = events.find((e) => e.name === 'gw:map' && e.cat.includes('blink.user_timing'))
  const mapMark = marks.find((m) => m.name === 'map')
  if (!markEvent || !mapMark) throw new Error('no gw:map mark in the trace')
  const pagePid = markEvent.pid
  const toTrace = (pageMs: number) => markEvent.ts + (pageMs - mapMark.at) * 1000
  const from = toTrace(loginMs), until = toTrace(firstDrawMs)
  const thread = (e: { pid: number; tid: number }) => `${e.pid === pagePid ? 'page' : processName.get(e.pid) ?? e.pid} / ${threadName.get(`${e.pid}:${e.tid}`) ?? e.tid}`

  // Busy: the union of every complete event on the thread, clipped to the window; per event name, inclusive.
  const spans = new Map<string, [number, number][]>()
  const byName = new Map<string, Map<string, number>>()
  for (const e of events) {
    if (e.ph !== 'X' || !e.dur) continue
    const s = Math.max(e.ts, from), t = Math.min(e.ts + e.dur, until)
    if (t <= s) continue
    const th = thread(e)
    const list = spans.get(th) ?? []
    list.push([s, t])
    spans.set(th, list)
    const m = byName.get(th) ?? new Map<string, number>()
    m.set(e.name, (m.get(e.name) ?? 0) + (t - s))
    byName.set(th, m)
  }
  const union = new Map<string, [number, number][]>()
  for (const [th, list] of spans) {
    list.sort((a, b) => a[0] - b[0])
    const merged: [number, number][] = []
    for (const [s, t] of list) {
      const last = merged.at(-1)
      if (last && s <= last[1]) last[1] = Math.max(last[1], t)
      else merged.push([s, t])
    }
    union.set(th, merged)
  }
  const busy = (th: string, a = from, b = until) =>
    (union.get(th) ?? []).reduce((sum, [s, t]) => sum + Math.max(0, Math.min(t, b) - Math.max(s, a)), 0)
  const threads = [...union.keys()].sort((a, b) => busy(b) - busy(a))
  // CPU time (the events' thread time, tdur): what a thread cost, whatever else the machine ran meanwhile, so that
  // two traces on a busy shared machine can still be compared. Top-level tasks only.
  const cpu = new Map<string, number>()
  for (const e of events as (TraceEvent & { tdur?: number })[]) {
    if (e.ph !== 'X' || e.tdur === undefined || !/^(RunTask|ThreadPool_RunTask)$/.test(e.name)) continue
    if (e.ts < from || e.ts > until) continue
    cpu.set(thread(e), (cpu.get(thread(e)) ?? 0) + e.tdur)
  }

  // Self time per JS function per thread, from the sampling profiler's chunks.
  const selfTime = new Map<string, Map<string, number>>()
  const profiles = new Map<string, { nodes: Map<number, ProfileNode>; ts: number; th: string }>()
  for (const e of events) {
    if (e.name === 'Profile') profiles.set(`${e.pid}:${e.id}`, { nodes: new Map(), ts: e.args!.data!.startTime!, th: thread(e) })
    if (e.name !== 'ProfileChunk') continue
    const p = profiles.get(`${e.pid}:${e.id}`)
    if (!p) continue
    const d = e.args!.data!
    for (const n of d.cpuProfile?.nodes ?? []) p.nodes.set(n.id, n)
    const samples = d.cpuProfile?.samples ?? [], deltas = d.timeDeltas ?? []
    for (let i = 0; i < samples.length; i++) {
      p.ts += deltas[i] ?? 0
      const dt = deltas[i + 1] ?? 0
      if (p.ts < from || p.ts > until) continue
      const n = p.nodes.get(samples[i])
      if (!n || n.callFrame.functionName === '(idle)') continue
      const f = n.callFrame
      const key = `${f.functionName || '(anonymous)'} ${(f.url ?? '').split('/').pop()}:${f.lineNumber}`
      const m = selfTime.get(p.th) ?? new Map<string, number>()
      m.set(key, (m.get(key) ?? 0) + dt)
      selfTime.set(p.th, m)
    }
  }

  const ms = (us: number) => (us / 1000).toFixed(0)
  const top = Number(values.top)
  console.log(`login → drawn ${(firstDrawMs - loginMs).toFixed(0)} ms (traced: the profiler slows it), load ${load.map((l) => l.toFixed(2)).join(' ')}`)
  console.log('marks (ms after login): ' + marks.map((m) => `${m.name} ${(m.at - loginMs).toFixed(0)}`).join(', '))
  console.log('\nbusy (wall) and CPU (thread time of top-level tasks) per thread within login → drawn:')
  for (const th of threads.slice(0, 12)) console.log(`  ${ms(busy(th)).padStart(6)} ms  ${ms(cpu.get(th) ?? 0).padStart(6)} ms CPU  ${th}`)
  const step = 250_000
  const shown = threads.filter((th) => /page \/ (CrRendererMain|DedicatedWorker)|GPU Process \/ CrGpuMain/.test(th))
  console.log(`\nbusy ms per ${step / 1000} ms, ms after login: ${shown.map((th, i) => `[${i}] ${th}`).join(', ')}`)
  for (let a = from; a < until; a += step) {
    const inStep = marks.filter((m) => toTrace(m.at) >= a && toTrace(m.at) < a + step).map((m) => m.name)
    console.log(`  ${ms(a - from).padStart(5)}  ${shown.map((th) => ms(busy(th, a, Math.min(a + step, until))).padStart(4)).join('  ')}  ${inStep.join(' ')}`)
  }
  for (const th of threads.slice(0, 4)) {
    console.log(`\nevents on ${th} (nested, inclusive):`)
    for (const [n, us] of [...byName.get(th)!].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`  ${ms(us).padStart(6)} ms  ${n}`)
  }
  for (const [th, m] of [...selfTime].filter(([th]) => th.startsWith('page'))) {
    const total = [...m.values()].reduce((a, b) => a + b, 0)
    console.log(`\nJS self time on ${th} (${ms(total)} ms sampled, idle left out):`)
    for (const [n, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${ms(us).padStart(6)} ms  ${n}`)
  }
  console.log(`\ntrace: ${file}`)
}

if (!values.analyze) await traceLogin(values.out!)
analyze(values.analyze ?? values.out!)
