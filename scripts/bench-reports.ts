/**
 * Problem-report benchmark (issue #20) on a seeded PostGIS (DATABASE_URL):
 * 1. 10,000 open reports across every grid, their clocks running: an
 *    escalation pass (api/reports/sweep.ts escalateDue) when ~1 % are due and
 *    when a whole batch is due, against the bare SELECT of the due rows, in
 *    the same run;
 * 2. a report filed through one API process and heard on a second screen
 *    (SSE on another process), p50/p95 over N reports, against the POST round
 *    trip alone.
 * Writes bench/reports.md (or --out). Removes the reports it made.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import { cliActor, createAccount } from '../api/auth/accounts.ts'
import { projectRoot } from '../core/config.ts'
import type { Sql } from '../db/connect.ts'
import { escalateDue } from '../api/reports/sweep.ts'
import { migrate } from '../data/migrate.ts'
import { defaultRules, startLevel, unitAt, urgencies } from '../core/rules/escalation.ts'
import { startApiProcess } from '../tests/helpers/serve-process.ts'
import { openSse } from '../tests/helpers/sse.ts'

const { values } = parseArgs({ options: { out: { type: 'string' }, reports: { type: 'string', default: '10000' }, live: { type: 'string', default: '100' }, runs: { type: 'string', default: '5' } } })
const url = process.env.DATABASE_URL
if (!url) {
  console.error('bench:reports needs DATABASE_URL (a PostGIS seeded with npm run seed)')
  process.exit(2)
}
const sql = postgres(url, { onnotice: () => {}, max: 2 }) as Sql
await migrate(sql)
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]
const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' ')
const loadBefore = load()
const now = new Date()
const N = Number(values.reports)

const grids = (await sql<{ code: string; lng: number; lat: number }[]>`
  SELECT code, ST_X(label_point) AS lng, ST_Y(label_point) AS lat FROM grids WHERE kind = 'basic' ORDER BY code`)
const types = defaultRules.types.map((t) => t.code)

/** N open reports spread over the grids; `dueShare` of them past their level's time at `now`. */
async function fill(dueShare: number) {
  await sql`DELETE FROM reports`
  const rows = Array.from({ length: N }, (_, i) => {
    const g = grids[(i * 7919) % grids.length]
    const type = types[i % types.length]
    const urgency = urgencies[i % 3]
    const level = startLevel(defaultRules, type, urgency)!
    const due = i < N * dueShare ? new Date(now.getTime() - 60_000) : new Date(now.getTime() + 3600_000 + i * 1000)
    const since = new Date(due.getTime() - defaultRules.ackMinutes[urgency] * 60_000)
    return { type, urgency, lng: g.lng, lat: g.lat, grid: g.code, level, unit: unitAt(g.code, level), since, due }
  })
  const col = <K extends keyof (typeof rows)[number]>(k: K) => rows.map((r) => r[k])
  await sql`
    INSERT INTO reports (type, urgency, geom, grid_code, level, unit_code, reported_by_name, reported_at, received_at, level_since, due_at)
    SELECT type, urgency, ST_SetSRID(ST_MakePoint(lng, lat), 4326), grid, level, unit, '基准测试', since, since, since, due
    FROM unnest(${col('type')}::text[], ${col('urgency')}::text[], ${col('lng')}::float8[], ${col('lat')}::float8[], ${col('grid')}::text[],
                ${col('level')}::text[], ${col('unit')}::text[], ${col('since').map((d) => d.toISOString())}::timestamptz[],
                ${col('due').map((d) => d.toISOString())}::timestamptz[]) AS x(type, urgency, lng, lat, grid, level, unit, since, due)`
  await sql`ANALYZE reports`
}

const passes: { share: number; due: number; passMs: number[]; refMs: number[]; moved: number }[] = []
for (const share of [0.01, 0.2]) {
  const row = { share, due: Math.round(N * share), passMs: [] as number[], refMs: [] as number[], moved: 0 }
  for (let run = 0; run < Number(values.runs); run++) {
    await fill(share)
    let t = process.hrtime.bigint()
    await sql`SELECT id, urgency, state, level, level_since, acknowledged_at, grid_code FROM reports WHERE due_at <= ${now} AND level <> 'city' ORDER BY due_at LIMIT 2000`
    row.refMs.push(ms(t))
    t = process.hrtime.bigint()
    row.moved = (await escalateDue(sql, now)).escalated
    row.passMs.push(ms(t))
  }
  passes.push(row)
}
await sql`DELETE FROM reports`

// 2. Live: reports filed through process one, heard by a screen on process two.
const [city] = await sql`SELECT code FROM admin_units WHERE level = 'city'`
const password = `Bench-${randomBytes(9).toString('base64url')}`
const username = `bench-${randomBytes(4).toString('hex')}`
await createAccount(sql, { username, displayName: '基准测试', role: 'commander', unitCode: city.code as string, password }, cliActor('bench'))
const one = await startApiProcess(url)
const two = await startApiProcess(url)
const live: number[] = []
const roundTrip: number[] = []
try {
  const login = await fetch(`${one.url}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password }) })
  const { csrfToken } = await login.json()
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]
  const screen = await openSse(`${two.url}/api/events`, { Cookie: cookie })
  await screen.waitFor((m) => m.event === 'hello')
  for (let i = 0; i < Number(values.live); i++) {
    const g = grids[(i * 104729) % grids.length]
    const from = screen.messages.length
    const t = performance.now()
    const r = await fetch(`${one.url}/api/reports`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', Cookie: cookie, 'X-CSRF-Token': csrfToken },
      body: JSON.stringify({ type: 'other', urgency: 'urgent', lng: g.lng, lat: g.lat }),
    })
    roundTrip.push(performance.now() - t)
    const { id } = await r.json()
    await screen.waitFor((m) => screen.messages.indexOf(m) >= from && m.event === 'report' && JSON.parse(m.data).id === id, 5000)
    live.push(performance.now() - t)
  }
  screen.close()
} finally {
  await one.stop()
  await two.stop()
  await sql`DELETE FROM reports`
  await sql`DELETE FROM users WHERE username = ${username}`
}

const f = (x: number) => x.toFixed(1)
const lines = [
  `# bench:reports — ${new Date().toISOString()}`,
  '',
  `Database: ${new URL(url).pathname.slice(1)} (${grids.length} basic grids), ${N} open reports. Load (1/5/15 min) before: ${loadBefore}; after: ${load()}.`,
  '',
  '## Escalation pass (escalateDue: one transaction, lock, due rows FOR UPDATE, rule in TypeScript, set-based update, a step and a live event each)',
  '| due at the pass | moved | pass median ms | pass max ms | bare SELECT of the due rows, median ms | ratio |',
  '|---|---|---|---|---|---|',
  ...passes.map((p) => `| ${p.due} (${p.share * 100} %) | ${p.moved} | ${f(pct(p.passMs, 50))} | ${f(Math.max(...p.passMs))} | ${f(pct(p.refMs, 50))} | ${f(pct(p.passMs, 50) / pct(p.refMs, 50))} |`),
  '',
  '## A new report on a second screen (POST on API process one, SSE on process two)',
  `| reports | POST round trip p50 / p95 ms | heard on the other screen p50 / p95 / max ms |`,
  '|---|---|---|',
  `| ${live.length} | ${f(pct(roundTrip, 50))} / ${f(pct(roundTrip, 95))} | ${f(pct(live, 50))} / ${f(pct(live, 95))} / ${f(Math.max(...live))} |`,
  '',
]
const out = values.out ?? path.join(projectRoot, 'bench', 'reports.md')
fs.writeFileSync(out, lines.join('\n'))
console.log(lines.join('\n'))
await sql.end()
