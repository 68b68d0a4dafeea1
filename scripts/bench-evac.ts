/**
 * Evacuation benchmark on a real PostGIS seeded with --scale full:
 * 1. an order covering the largest county (every household) through
 *    POST /api/evacuation/orders, against the bare SQL that lists the same
 *    households with their grids, timed in the same run;
 * 2. a status change made through one API process and seen on a live client
 *    of another (SSE), p50/p95/max over N changes, against the PATCH round
 *    trip alone.
 * Both API processes are children, so the clients here never share a server's
 * event loop. Writes bench/evac.md (or --out). Leaves no order behind.
 *
 * `--before-root DIR --before-url URL`: the same order also through an API
 * process of another checkout (the code before a change) on its own copy of
 * the database, run by run between the reference and the new order, so that
 * before and after meet the same machine load.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import { cliActor, createAccount } from '../api/auth/accounts.ts'
import { projectRoot } from '../core/config.ts'
import type { Sql } from '../db/connect.ts'
import { writeTx } from '../db/write.ts'
import { migrate } from '../data/migrate.ts'
import { startApiProcess } from '../tests/helpers/serve-process.ts'
import { openSse } from '../tests/helpers/sse.ts'

const { values } = parseArgs({
  options: {
    out: { type: 'string' }, changes: { type: 'string', default: '1000' }, runs: { type: 'string', default: '3' },
    'screen-changes': { type: 'string', default: '200' },
    'before-root': { type: 'string' }, 'before-url': { type: 'string' },
  },
})
if (!values['before-root'] !== !values['before-url']) {
  console.error('--before-root and --before-url go together (a checkout of the old code, and a copy of the database for it)')
  process.exit(2)
}
const url = process.env.DATABASE_URL
if (!url) {
  console.error('bench:evac needs DATABASE_URL (a PostGIS seeded with npm run seed -- --scale full)')
  process.exit(2)
}
const sql = postgres(url, { onnotice: () => {}, max: 2 }) as Sql
await migrate(sql)
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]
const median = (xs: number[]) => pct(xs, 50)

const sizes = await sql<{ code: string; name: string; households: number }[]>`
  SELECT left(g.code, 6) || '000000' AS code, a.name, count(*)::int AS households
  FROM households h JOIN grids g ON g.id = h.grid_id JOIN admin_units a ON a.code = left(g.code, 6) || '000000'
  GROUP BY 1, 2 ORDER BY 3`
// The smallest county of at least 100,000 households (the target's size), the demo county, and the largest.
const counties = [...new Map([sizes.find((c) => c.households >= 100_000), sizes.find((c) => c.code === '530602000000'), sizes.at(-1)]
  .filter((c) => c !== undefined).map((c) => [c.code, c])).values()]
const [city] = await sql`SELECT code FROM admin_units WHERE level = 'city'`
const loadBefore = os.loadavg().map((x) => x.toFixed(1)).join(' ')
/** The old checkout's commit (a `git archive` copy has none: its folder name then). */
function commitOf(dir: string): string {
  try {
    return execFileSync('git', ['log', '-1', '--format=%h'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return path.basename(dir)
  }
}
const beforeCommit = values['before-root'] ? commitOf(values['before-root']) : ''
await sql`DELETE FROM evac_orders`

const password = `Bench-${randomBytes(9).toString('base64url')}`
const username = `bench-${randomBytes(4).toString('hex')}`
const account = { username, displayName: '基准测试', role: 'commander' as const, unitCode: city.code as string, password }
const acc = await createAccount(sql, account, cliActor('bench'))
const beforeSql = values['before-url'] ? (postgres(values['before-url'], { onnotice: () => {}, max: 1 }) as Sql) : null
const beforeAcc = beforeSql ? await createAccount(beforeSql, account, cliActor('bench')) : null
if (beforeSql) await beforeSql`DELETE FROM evac_orders`
const one = await startApiProcess(url)
const two = await startApiProcess(url)
const old = values['before-root'] ? await startApiProcess(values['before-url']!, path.resolve(values['before-root'])) : null
try {
  const logIn = async (base: string) => {
    const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password }) })
    const { csrfToken } = await login.json()
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]
    return { cookie, headers: { 'Content-Type': 'application/json', Cookie: cookie, 'X-CSRF-Token': csrfToken } }
  }
  const { cookie, headers } = await logIn(one.url)
  const oldHeaders = old ? (await logIn(old.url)).headers : null
  const send = (base: string, method: string, p: string, body: unknown, h = headers) => fetch(base + p, { method, headers: h, body: JSON.stringify(body) })

  // 1. A whole county, several runs each (each order deleted before the next).
  const results: { county: (typeof counties)[number]; orderMs: number[]; dryMs: number[]; refMs: number[]; beforeMs: number[]; summary: Record<string, unknown> }[] = []
  let orderId = 0
  const orderBody = (county: { code: string }) => ({ stage: 'everyone', trigger: { kind: 'manual' }, units: [county.code], title: '基准测试' })
  for (const county of counties) {
    const res = { county, orderMs: [] as number[], dryMs: [] as number[], refMs: [] as number[], beforeMs: [] as number[], summary: {} as Record<string, unknown> }
    for (let i = 0; i < Number(values.runs); i++) {
      let t = process.hrtime.bigint()
      await sql`SELECT h.id, h.members, h.vulnerable, g.code FROM households h JOIN grids g ON g.id = h.grid_id WHERE g.code LIKE ${county.code.slice(0, 6) + '%'}`
      res.refMs.push(ms(t))
      if (old && beforeSql) {
        // Each database cleaned up (and its dead rows vacuumed) the same way before its order is timed.
        await beforeSql`DELETE FROM evac_orders`
        await beforeSql`VACUUM evac_households`
        t = process.hrtime.bigint()
        const b = await send(old.url, 'POST', '/api/evacuation/orders', orderBody(county), oldHeaders!)
        res.beforeMs.push(ms(t))
        if (b.status !== 201) throw new Error(`order (before): ${b.status} ${await b.text()}`)
      }
      await sql`VACUUM evac_households`
      t = process.hrtime.bigint()
      const dry = await send(one.url, 'POST', '/api/evacuation/orders', { stage: 'everyone', trigger: { kind: 'manual' }, units: [county.code], dryRun: true })
      res.dryMs.push(ms(t))
      if (dry.status !== 200) throw new Error(`dry run: ${dry.status} ${await dry.text()}`)
      t = process.hrtime.bigint()
      const r = await send(one.url, 'POST', '/api/evacuation/orders', orderBody(county))
      res.orderMs.push(ms(t))
      if (r.status !== 201) throw new Error(`order: ${r.status} ${await r.text()}`)
      const body = await r.json()
      res.summary = body.summary
      orderId = body.order.id
      if (i < Number(values.runs) - 1 || county !== counties.at(-1)) await sql`DELETE FROM evac_orders WHERE id = ${orderId}`
    }
    console.log(`order: ${county.name} ${res.summary.households} households in ${median(res.orderMs).toFixed(0)} ms (reference ${median(res.refMs).toFixed(0)} ms${old ? `, before ${median(res.beforeMs).toFixed(0)} ms` : ''})`)
    results.push(res)
  }
  const order = { id: orderId }

  // 2. Live: changes through process one, heard on process two.
  const feed = await openSse(`${two.url}/api/events`, { Cookie: cookie })
  await feed.waitFor((m) => m.event === 'hello')
  const n = Number(values.changes)
  const ids = (await sql`SELECT household_id AS id FROM evac_households WHERE order_id = ${order.id} ORDER BY household_id LIMIT ${n}`).map((r) => r.id as number)
  const seen = new Map<number, number>()
  const started = new Map<number, number>()
  const roundTrip: number[] = []
  let next = 0
  const sent0 = feed.messages.length
  const watch = setInterval(() => {
    for (const m of feed.messages.slice(sent0)) {
      if (m.event !== 'evac.status') continue
      for (const id of JSON.parse(m.data).households as number[]) if (!seen.has(id)) seen.set(id, performance.now())
    }
  }, 1)
  // Four writers at once, as a township's staff would be.
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < ids.length) {
      const id = ids[next++]
      const t = performance.now()
      started.set(id, t)
      const r = await send(one.url, 'PATCH', `/api/evacuation/orders/${order.id}/households/${id}`, { status: 'notified' })
      roundTrip.push(performance.now() - t)
      if (r.status !== 200) throw new Error(`PATCH ${id}: ${r.status} ${await r.text()}`)
    }
  }))
  const deadline = Date.now() + 10_000
  while (seen.size < ids.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  clearInterval(watch)
  feed.close()
  const lat = ids.filter((id) => seen.has(id)).map((id) => seen.get(id)! - started.get(id)!)
  const missed = ids.length - lat.length
  console.log(`live: p50 ${median(lat).toFixed(1)} ms, p95 ${pct(lat, 95).toFixed(1)} ms over ${lat.length} changes, ${missed} missed`)

  // 3. What a second screen shows: on each event it reads the order's progress again (as the order panel
  // does, GET /api/evacuation/orders/{id} through process two); a change is shown once that answer counts
  // it. One change at a time, so each count belongs to one change; the progress read alone is the reference.
  const screenN = Number(values['screen-changes'])
  const screenIds = (await sql`SELECT household_id AS id FROM evac_households WHERE order_id = ${order.id} AND status = 'not_notified'
    ORDER BY household_id LIMIT ${screenN}`).map((r) => r.id as number)
  const screen = await openSse(`${two.url}/api/events`, { Cookie: cookie })
  await screen.waitFor((m) => m.event === 'hello')
  const progressMs: number[] = []
  const shownMs: number[] = []
  const readProgress = async () => {
    const t = performance.now()
    const r = await fetch(`${two.url}/api/evacuation/orders/${order.id}`, { headers: { Cookie: cookie } })
    const body = await r.json()
    progressMs.push(performance.now() - t)
    return body.totals.notified.households as number
  }
  let counted = await readProgress()
  for (const id of screenIds) {
    const t = performance.now()
    const from = screen.messages.length
    const r = await send(one.url, 'PATCH', `/api/evacuation/orders/${order.id}/households/${id}`, { status: 'notified' })
    if (r.status !== 200) throw new Error(`PATCH ${id}: ${r.status} ${await r.text()}`)
    await screen.waitFor((m) => screen.messages.indexOf(m) >= from && m.event === 'evac.status', 5000)
    const now = await readProgress()
    if (now !== counted + 1) throw new Error(`the second screen counted ${now} notified after change ${counted + 1}`)
    counted = now
    shownMs.push(performance.now() - t)
  }
  screen.close()
  console.log(`screen: p95 ${pct(shownMs, 95).toFixed(1)} ms over ${shownMs.length} changes (progress read p95 ${pct(progressMs, 95).toFixed(1)} ms)`)

  // 4. The command wall's figures while that order is open, for its county and the city, through process two;
  // reference: one statement counting the order's households by status, timed alternately with them.
  const bigCounty = results.at(-1)!.county
  const wallRuns: { unit: string; name: string; ms: number[]; refMs: number[] }[] = []
  for (const [unit, name] of [[bigCounty.code, bigCounty.name], [city.code as string, '昭通市']] as const) {
    const run = { unit, name, ms: [] as number[], refMs: [] as number[] }
    for (let i = 0; i < 10; i++) {
      let t = performance.now()
      const r = await fetch(`${two.url}/api/wall/state?unit=${unit}`, { headers: { Cookie: cookie } })
      if (r.status !== 200) throw new Error(`wall state ${unit}: ${r.status} ${await r.text()}`)
      const w = await r.json()
      run.ms.push(performance.now() - t)
      if (w.transfer.households !== results.at(-1)!.summary.households) throw new Error(`the wall counted ${w.transfer.households} households in transfer`)
      t = performance.now()
      await sql`SELECT status, count(*) FROM evac_households WHERE order_id = ${order.id} GROUP BY status`
      run.refMs.push(performance.now() - t)
    }
    wallRuns.push(run)
  }
  console.log(`wall: ${wallRuns.map((w) => `${w.name} ${median(w.ms).toFixed(0)} ms`).join(', ')}`)

  const [env] = await sql`SELECT postgis_lib_version() AS postgis, current_setting('server_version') AS pg`
  const out = values.out ?? path.join(projectRoot, 'bench/evac.md')
  fs.writeFileSync(out, `# Evacuation benchmark

Run ${new Date().toISOString()} on ${os.cpus().length} × ${os.cpus()[0].model}, PostgreSQL ${env.pg}, PostGIS ${env.postgis}.
Two API processes (children of the benchmark) on one database; clients in the benchmark process.

## An order covering a whole county

POST /api/evacuation/orders with \`units: [county]\`, stage everyone: households picked in SQL, shelters assigned by capacity,
one row per household inserted, tiles and the live feed notified. Reference: the bare SQL listing the same households with
their grids, timed in the same run. Medians of ${values.runs} runs (ms). Target: ≤ 2,000 ms for a county of ≥ 100,000 households.
${old ? `Before: the same order through an API process of the code at \`${beforeCommit}\` on a copy of the same database with that
code's schema, run by run alongside (each database's previous order deleted and vacuumed before each timing).
` : ''}
| county | households |${old ? ' order before | before / reference |' : ''} order | dry run (no insert) | reference SQL | order / reference | planned / nearest / no shelter (households) |
|---|---|${old ? '---|---|' : ''}---|---|---|---|---|
${results.map((r) => `| ${r.county.name} | ${r.county.households} |${old ? ` ${median(r.beforeMs).toFixed(0)} | ${(median(r.beforeMs) / median(r.refMs)).toFixed(1)} |` : ''} ${median(r.orderMs).toFixed(0)} | ${median(r.dryMs).toFixed(0)} | ${median(r.refMs).toFixed(0)} | ${(median(r.orderMs) / median(r.refMs)).toFixed(1)} | ${r.summary.planned} / ${r.summary.nearest} / ${(r.summary.shortfall as { households: number }).households} |`).join('\n')}

All runs (ms): ${results.map((r) => `${r.county.name} ${r.orderMs.map((x) => x.toFixed(0)).join(', ')}${old ? ` (before ${r.beforeMs.map((x) => x.toFixed(0)).join(', ')})` : ''}`).join('; ')}; reference ${results.map((r) => r.refMs.map((x) => x.toFixed(0)).join(', ')).join('; ')}.
Load average over the run: ${loadBefore} → ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} (1, 5, 15 min; ${os.cpus().length} cores shared with other work).
Shelter places are far fewer than people in a whole county, so most households of a county-wide order have no shelter: the
order reports them as a shortfall rather than over-filling shelters.

## A status change seen on a second client

${ids.length} changes (not notified → notified), 4 writers at once through process one; a live client (SSE) of process two.

| what | p50 (ms) | p95 (ms) | max (ms) |
|---|---|---|---|
| PATCH sent → event received on the other process's stream | ${median(lat).toFixed(1)} | ${pct(lat, 95).toFixed(1)} | ${Math.max(...lat).toFixed(1)} |
| reference: the PATCH round trip alone | ${median(roundTrip).toFixed(1)} | ${pct(roundTrip, 95).toFixed(1)} | ${Math.max(...roundTrip).toFixed(1)} |

Missed: ${missed}. Target: p95 ≤ 1,000 ms.

## The change on a second screen

${shownMs.length} changes one after another through process one. A client of process two hears each on the live feed and
reads the order's progress again, as the order panel does (\`GET /api/evacuation/orders/{id}\`, the whole order of
${results.at(-1)!.summary.households} households); a change is shown when that answer counts it (every count checked).

| what | p50 (ms) | p95 (ms) | max (ms) |
|---|---|---|---|
| PATCH sent → the second client's progress counts it | ${median(shownMs).toFixed(1)} | ${pct(shownMs, 95).toFixed(1)} | ${Math.max(...shownMs).toFixed(1)} |
| reference: the progress read alone | ${median(progressMs).toFixed(1)} | ${pct(progressMs, 95).toFixed(1)} | ${Math.max(...progressMs).toFixed(1)} |

## The command wall during that order

\`GET /api/wall/state?unit=\` through process two while the order of ${results.at(-1)!.summary.households} households is open
(each answer's transfer count checked), 10 reads each. Reference: one statement counting the order's households by status,
timed after each read.

| unit | wall state p50 (ms) | max (ms) | reference p50 (ms) | wall / reference |
|---|---|---|---|---|
${wallRuns.map((w) => `| ${w.name} | ${median(w.ms).toFixed(0)} | ${Math.max(...w.ms).toFixed(0)} | ${median(w.refMs).toFixed(0)} | ${(median(w.ms) / median(w.refMs)).toFixed(1)} |`).join('\n')}
`)
  console.log(`wrote ${path.relative(process.cwd(), out)}`)
} finally {
  await sql`DELETE FROM evac_orders`
  await old?.stop()
  if (beforeSql) {
    await beforeSql`DELETE FROM evac_orders`
    await writeTx(beforeSql, cliActor('bench'), async (tx) => void (await tx`DELETE FROM users WHERE id = ${beforeAcc!.id as number}`))
    await beforeSql.end()
  }
  await two.stop()
  await one.stop()
  await writeTx(sql, cliActor('bench'), async (tx) => void (await tx`DELETE FROM users WHERE id = ${acc.id as number}`))
  // A county's rows deleted leave 300,000 dead ones and statistics of a full table: the evac tiles then
  // scan them all (40 ms for an empty tile) until autovacuum comes, and a tile bench run next measures that.
  await sql`VACUUM ANALYZE evac_households, evac_status_log, evac_orders`
  await sql.end()
}
