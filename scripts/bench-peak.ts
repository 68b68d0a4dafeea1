/**
 * The storm-night peak (issue #21): the whole set as deployed — nginx running deploy/nginx/gridwatch.conf in front of
 * 1, 2 and 3 API processes (the production build, dist/server/main.mjs, run by plain node), PostgreSQL 15 with its
 * streaming replica (DATABASE_READ_URL) — under the people of a storm night, all in one run:
 *   - grid workers (2,000), each logged in as a grid_worker of its own grid, one action every ~30 s through the field
 *     app's outbox route (POST /api/field/sync): a 三查 item ticked (or unticked) or a household's transfer status moved;
 *   - screens (300) on the live feed (/api/events), of the city or of a county: command walls (/screen), each asking for
 *     the wall's figures (/api/wall/state) on every event it gets, at most once a second, as the wall does (--no-wall: the
 *     feed alone);
 *   - people panning the map (50): tiles of every layer, a view then pans of a tile;
 *   - planners (10) exporting a township's households or grids (CSV, GeoJSON, Excel, GeoPackage) now and then.
 * Then 3 processes again with one killed (SIGKILL) halfway. Per run: actions/s held, p95/p99 of each kind, the live
 * feed's delay (a write's answer → its event on a stream another process serves), errors, CPU of each API process,
 * of PostgreSQL and of the rest from /proc, and that every acknowledged write is in the database.
 *
 *   npm run bench:peak -- [--url postgres://…/gw_full] [--read-url URL|none] [--seconds 60] [--processes 1,2,3]
 *                         [--workers 2000] [--screens 300] [--panners 50] [--planners 10] [--interval 30] [--no-kill] [--no-wall]
 *                         [--tsx] [--out bench/peak.md]
 *
 * Its people are made for the run and removed after it (accounts with their sessions, actions and audit rows, a
 * storm event with a task per grid where the county had none open, a transfer order): the database is left as found.
 * Default: 4 runs of 60 s, about 6 minutes with the setup.
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { projectRoot } from '../core/config.ts'
import type { Sql } from '../db/connect.ts'
import { transaction } from '../db/transaction.ts'
import { tokenHash } from '../api/auth/sessions.ts'
import { freePort } from '../tests/helpers/fresh-postgis.ts'
import { nginxPath, selfSignedCertificate, startNginx } from '../tests/helpers/nginx.ts'
import { siteFor } from './lib/nginx-site.ts'
import { machineCpu, postmasterPid, processCpu, treeCpu } from './bench/proc-cpu.ts'
import type { Panner, Planner, RunReply, Screen, Worker } from './bench/peak-client.ts'

const { values } = parseArgs({
  options: {
    url: { type: 'string' }, 'read-url': { type: 'string' }, seconds: { type: 'string', default: '60' },
    processes: { type: 'string', default: '1,2,3' }, workers: { type: 'string', default: '2000' },
    screens: { type: 'string', default: '300' }, panners: { type: 'string', default: '50' },
    planners: { type: 'string', default: '10' }, interval: { type: 'string', default: '30' },
    'no-kill': { type: 'boolean', default: false }, 'no-wall': { type: 'boolean', default: false }, tsx: { type: 'boolean', default: false },
    out: { type: 'string', default: path.join(projectRoot, 'bench', 'peak.md') },
  },
})
const url = values.url ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/gw_full'
const readUrl = values['read-url'] === 'none' ? null : (values['read-url'] ?? (() => {
  const u = new URL(url)
  u.port = '5433'
  return u.toString()
})())
const seconds = Number(values.seconds)
const interval = Number(values.interval)
const counts = { workers: Number(values.workers), screens: Number(values.screens), panners: Number(values.panners), planners: Number(values.planners) }
const runs = values.processes.split(',').map(Number)
const exe = nginxPath('bench:peak')
if (!exe) process.exit(2)

const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' ')
const sql = postgres(url, { onnotice: () => {}, max: 4 }) as Sql
const dbName = new URL(url).pathname.slice(1)
const PRIMARY_DATA = '/var/lib/postgresql/15/main'
const REPLICA_DATA = '/var/lib/postgresql/15/replica'

// ---------------------------------------------------------------- the people of the night, made in the database
const tag = `pk${randomBytes(3).toString('hex')}`
const made = { users: [] as number[], events: [] as number[], tasks: [] as number[], order: 0, liveFrom: 0 }

async function makePeople() {
  const t0 = performance.now()
  const [city] = await sql`SELECT code FROM admin_units WHERE level = 'city'`
  const [{ max }] = await sql`SELECT coalesce(max(id), 0)::int8::float8 AS max FROM live_events`
  made.liveFrom = Number(max)
  // Grids with households enough, none of them in an open transfer or with a checklist of an open storm already,
  // spread over the city (hashed order: the same grids for the same database).
  const grids = await sql<{ id: number; code: string; name: string; lon: number; lat: number }[]>`
    WITH busy AS (
      SELECT t.target_id FROM tasks t JOIN rain_events e ON e.id = t.event_id
      WHERE e.closed_at IS NULL AND t.phase = 'during' AND t.target_kind = 'grid')
    SELECT g.id, g.code, g.name, ST_X(g.label_point) AS lon, ST_Y(g.label_point) AS lat
    FROM grids g
    WHERE g.kind = 'basic' AND g.id NOT IN (SELECT target_id FROM busy)
      AND (SELECT count(*) FROM households h WHERE h.grid_id = g.id) >= 4
    ORDER BY hashtext(g.code) LIMIT ${counts.workers}`
  if (grids.length < counts.workers) throw new Error(`only ${grids.length} grids fit for ${counts.workers} workers`)
  const counties = [...new Set(grids.map((g) => g.code.slice(0, 6)))]
  const people = await transaction(sql, async (tx) => {
    // The run's own accounts and order: the audit trail keeps what the people do, not this setting up.
    await tx`SELECT set_config('gridwatch.skip_audit', 'on', true)`
    // A storm event for each county that has none open (one open event per county), the same as a rain update opens.
    const events = new Map<string, number>()
    for (const county of counties) {
      const [open] = await tx`SELECT id FROM rain_events WHERE county_code = ${county} AND closed_at IS NULL`
      if (open) events.set(county, open.id as number)
      else {
        const [e] = await tx`INSERT INTO rain_events (county_code, started_at, last_wet_at, last_alert_at, expect_until)
                             VALUES (${county}, now(), now(), now(), now() + interval '12 hours') RETURNING id`
        events.set(county, e.id as number)
        made.events.push(e.id as number)
      }
    }
    const [tpl] = await tx`
      SELECT (SELECT jsonb_agg(i || '{"done": false, "by": null, "byName": null, "at": null, "note": null}'::jsonb ORDER BY n)
              FROM jsonb_array_elements(t.items) WITH ORDINALITY x(i, n)) AS items
      FROM checklist_templates t WHERE t.phase = 'during' AND t.target_kind = 'grid'`
    const tasks = await tx<{ id: string; target_id: number; n: number }[]>`
      INSERT INTO tasks (event_id, phase, step, target_kind, target_id, target_code, target_name, unit_code, opened_at, due_at, items)
      SELECT e, 'during', 'rain', 'grid', g, c, nm, c, now(), now() + interval '3 hours', ${tx.json(tpl.items)}
      FROM unnest(${grids.map((g) => events.get(g.code.slice(0, 6))!)}::int[], ${grids.map((g) => g.id)}::int[],
                  ${grids.map((g) => g.code)}::text[], ${grids.map((g) => g.name)}::text[]) AS x(e, g, c, nm)
      RETURNING id, target_id, jsonb_array_length(items) AS n`
    made.tasks = tasks.map((t) => Number(t.id))
    const [o] = await tx`
      INSERT INTO evac_orders (unit_code, title, stage, trigger_kind, scope, deadline, issued_by_name)
      VALUES (${city.code}, ${`基准测试 ${tag}`}, 'everyone', 'manual', '{}'::jsonb, now() + interval '1 day', '基准测试') RETURNING id`
    made.order = o.id as number
    const hh = await tx<{ household_id: number; grid_code: string }[]>`
      INSERT INTO evac_households (order_id, household_id, grid_code, members, vulnerable)
      SELECT ${made.order}, h.id, g.code, h.members, h.vulnerable
      FROM unnest(${grids.map((g) => g.id)}::int[]) AS x(gid) JOIN grids g ON g.id = x.gid
      CROSS JOIN LATERAL (SELECT h.id, h.members, h.vulnerable FROM households h
                          WHERE h.grid_id = g.id AND NOT EXISTS (SELECT 1 FROM evac_households e WHERE e.household_id = h.id AND e.open)
                          ORDER BY h.id LIMIT 8) h
      RETURNING household_id, grid_code`
    // Accounts that never log in by password (no hash matches '!'), with sessions made as a login makes them.
    const account = async (username: string, role: string, unit: string, name: string) => {
      const [u] = await tx`INSERT INTO users (username, display_name, role, unit_code, password_hash)
                           VALUES (${username}, ${name}, ${role}, ${unit}, '!') RETURNING id`
      made.users.push(u.id as number)
      return u.id as number
    }
    const session = async (userId: number) => {
      const token = randomBytes(32).toString('base64url')
      const csrf = randomBytes(32).toString('base64url')
      await tx`INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES (${tokenHash(token)}, ${userId}, ${csrf}, now() + interval '12 hours')`
      return { cookie: `gw_session=${token}`, csrf }
    }
    const byGrid = new Map<string, number[]>()
    for (const h of hh) byGrid.set(h.grid_code, [...(byGrid.get(h.grid_code) ?? []), h.household_id])
    const taskOf = new Map(tasks.map((t) => [t.target_id, t]))
    const workers: Worker[] = []
    for (const [i, g] of grids.entries()) {
      const userId = await account(`${tag}-w${i}`, 'grid_worker', g.code, `网格员${i}`)
      const t = taskOf.get(g.id)!
      workers.push({ userId, ...(await session(userId)), grid: g.code, task: Number(t.id), items: Array(t.n).fill(false), order: made.order,
        households: (byGrid.get(g.code) ?? []).map((id) => ({ id, status: 'not_notified' })) })
    }
    // Screens: one in ten of the city, the rest of the counties in turn. Panners and planners: of the city.
    const screens: Screen[] = []
    const scopes = [city.code as string, ...counties.map((c) => `${c}000000`)]
    const viewerOf = new Map<string, number>()
    for (let i = 0; i < counts.screens; i++) {
      const scope = i % 10 === 0 ? scopes[0] : scopes[1 + (i % (scopes.length - 1))]
      if (!viewerOf.has(scope)) viewerOf.set(scope, await account(`${tag}-s${viewerOf.size}`, 'viewer', scope, `大屏${viewerOf.size}`))
      screens.push({ scope, cookie: (await session(viewerOf.get(scope)!)).cookie })
    }
    const places = grids.map((g) => [g.lon, g.lat] as [number, number])
    const panners: Panner[] = []
    for (let i = 0; i < counts.panners; i++) panners.push({ places, cookie: (await session(await account(`${tag}-p${i}`, 'viewer', city.code, `指挥${i}`))).cookie })
    const townships = [...new Set(grids.map((g) => `${g.code.slice(0, 9)}000`))]
    const planners: Planner[] = []
    for (let i = 0; i < counts.planners; i++) planners.push({ units: townships, cookie: (await session(await account(`${tag}-e${i}`, 'planner', city.code, `规划${i}`))).cookie })
    return { workers, screens, panners, planners }
  })
  console.log(`bench:peak: ${people.workers.length} workers (${people.workers.reduce((a, w) => a + w.households.length, 0)} households in the order), ` +
    `${people.screens.length} screens, ${people.panners.length} panners, ${people.planners.length} planners made in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  return people
}

async function removePeople() {
  await transaction(sql, async (tx) => {
    await tx`SELECT set_config('gridwatch.skip_audit', 'on', true)`
    if (made.order) await tx`DELETE FROM evac_orders WHERE id = ${made.order}`
    if (made.tasks.length) await tx`DELETE FROM tasks WHERE id = ANY(${made.tasks}::int8[])`
    if (made.events.length) await tx`DELETE FROM rain_events WHERE id = ANY(${made.events}::int[])`
    if (made.users.length) {
      await tx`DELETE FROM audit_log WHERE actor_id = ANY(${made.users}::int[])`
      await tx`DELETE FROM field_photos WHERE user_id = ANY(${made.users}::int[])`
      await tx`DELETE FROM users WHERE id = ANY(${made.users}::int[])`
    }
    // The feed's history of this run's changes (its order's and its tasks').
    await tx`DELETE FROM live_events WHERE id > ${made.liveFrom} AND (
      (kind = 'evac.status' AND (payload ->> 'orderId')::int = ${made.order}) OR
      (kind = 'task.item' AND (payload ->> 'taskId')::int8 = ANY(${made.tasks}::int8[])))`
  })
}

// ---------------------------------------------------------------- the API processes and nginx
function buildServer(): string {
  const main = path.join(projectRoot, 'dist', 'server', 'main.mjs')
  console.log('bench:peak: building the server (vite build --config vite.server.config.ts)')
  execFileSync(process.execPath, [path.join(projectRoot, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'vite.server.config.ts', '--logLevel', 'warn'],
    { cwd: projectRoot, stdio: 'inherit' })
  return main
}

interface Api { port: number; child: ChildProcess; log: string }
async function startApi(main: string | null, dir: string, i: number): Promise<Api> {
  const port = await freePort()
  const log = path.join(dir, `api-${i}.log`)
  const out = fs.openSync(log, 'a')
  // As systemd's gridwatch@.service runs it (deploy/): behind nginx on the loopback, JSON logs at info.
  const env = {
    PATH: process.env.PATH!, PORT: String(port), DATABASE_URL: url, ...(readUrl ? { DATABASE_READ_URL: readUrl } : {}),
    GRIDWATCH_TRUST_PROXY: 'loopback', GRIDWATCH_SEED: 'none', GRIDWATCH_LOG_FORMAT: 'json', LOG_LEVEL: 'info',
    ...(process.env.GRIDWATCH_SHARED_DATA ? { GRIDWATCH_SHARED_DATA: process.env.GRIDWATCH_SHARED_DATA } : {}),
  }
  const args = main ? ['--enable-source-maps', main] : ['--import', 'tsx', path.join(projectRoot, 'scripts', 'serve-prod.ts')]
  const child = spawn(process.execPath, args, { cwd: projectRoot, env, stdio: ['ignore', out, out] })
  const deadline = Date.now() + 120_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`API process ${i} exited (${child.exitCode}): ${fs.readFileSync(log, 'utf8').slice(-2000)}`)
    const r = await fetch(`http://127.0.0.1:${port}/api/ready`).catch(() => null)
    if (r?.status === 200) break
    if (Date.now() > deadline) throw new Error(`API process ${i} not ready in 120 s`)
    await new Promise((res) => setTimeout(res, 250))
  }
  return { port, child, log }
}
const stopApi = (a: Api) => new Promise<void>((resolve) => {
  if (a.child.exitCode !== null || a.child.signalCode) return resolve()
  a.child.once('exit', () => resolve())
  a.child.kill('SIGTERM')
})

// ---------------------------------------------------------------- one run
interface Cpu { api: number[]; pg: number; pgGw: number; replica: number; nginx: number; client: number; machine: { busy: number; total: number } }
function cpuNow(apis: Api[], nginxPid: number | undefined, client: ChildProcess): Cpu {
  const pm = postmasterPid(PRIMARY_DATA)
  return {
    api: apis.map((a) => processCpu(a.child.pid)),
    pg: treeCpu(pm),
    pgGw: treeCpu(pm, (cmd) => cmd.includes(` ${dbName} `)),
    replica: treeCpu(postmasterPid(REPLICA_DATA)),
    nginx: treeCpu(nginxPid),
    client: processCpu(client.pid),
    machine: machineCpu(),
  }
}

interface Waits { samples: number; active: number; byWait: Map<string, number> }
/** Once a second: the run's database's active backends and what they wait for (pg_stat_activity). */
function sampleWaits(): { stop(): Promise<Waits> } {
  const w: Waits = { samples: 0, active: 0, byWait: new Map() }
  let on = true
  const loop = (async () => {
    while (on) {
      const rows = await sql`SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') AS w, count(*)::int AS n FROM pg_stat_activity
                             WHERE datname = ${dbName} AND state = 'active' AND pid <> pg_backend_pid() AND backend_type = 'client backend' GROUP BY 1`
        .catch(() => [])
      w.samples++
      for (const r of rows) {
        w.active += r.n as number
        w.byWait.set(r.w as string, (w.byWait.get(r.w as string) ?? 0) + (r.n as number))
      }
      await new Promise((res) => setTimeout(res, 1000))
    }
  })()
  return { stop: async () => { on = false; await loop; return w } }
}

interface RunResult {
  label: string; processes: number; killed: boolean; reply: RunReply; cpu: Cpu; loadBefore: string; loadAfter: string; waits: Waits
  lost: string[]; checked: number; lag: string; xacts: { primary: number; replica: number }
}

/** Transactions of the run's database so far, on the primary and on the replica (pg_stat_database): where reads went. */
async function xactsNow(): Promise<{ primary: number; replica: number }> {
  const q = (s: postgres.Sql) => s`SELECT (xact_commit + xact_rollback)::int8::float8 AS n FROM pg_stat_database WHERE datname = ${dbName}`
    .then((r) => Number(r[0]?.n ?? 0), () => NaN)
  return { primary: await q(sql), replica: replicaSql ? await q(replicaSql) : NaN }
}
const replicaSql = readUrl ? postgres(readUrl, { onnotice: () => {}, max: 1 }) : null

async function oneRun(main: string | null, client: ChildProcess, n: number, kill: boolean): Promise<RunResult> {
  const label = kill ? `${n} → ${n - 1} (one killed at ${seconds / 2} s)` : `${n} process${n > 1 ? 'es' : ''}`
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridwatch-peak-'))
  const apis: Api[] = []
  let nginx: Awaited<ReturnType<typeof startNginx>> | undefined
  try {
    for (let i = 0; i < n; i++) apis.push(await startApi(main, dir, i))
    const cert = selfSignedCertificate(dir)
    const webDist = path.join(dir, 'web-dist')
    fs.mkdirSync(webDist)
    const [plain, tls, redirect] = [await freePort(), await freePort(), await freePort()]
    nginx = await startNginx(exe!, dir, siteFor({
      apiPorts: apis.map((a) => a.port), tls, plain, redirect, ...cert, webDist, upstreamHeader: 'all',
      tileCache: path.join(dir, 'tile-cache'), accessLog: path.join(dir, 'access.log'),
    }), plain, { workers: 1, connections: 8192 })
    console.log(`bench:peak: run "${label}": ${seconds} s (load ${load()})`)
    const loadBefore = load()
    const waits = sampleWaits()
    const c0 = cpuNow(apis, nginx.pid(), client)
    const x0 = await xactsNow()
    const reply = new Promise<RunReply>((resolve, reject) => {
      client.once('message', (m: RunReply | { type: 'failed'; message: string }) => (m.type === 'run' ? resolve(m) : reject(new Error(m.message))))
    })
    client.send({ type: 'run', base: `http://127.0.0.1:${plain}`, seconds, interval, label, wall: !values['no-wall'] })
    let killedCpu: number | undefined
    if (kill) {
      await new Promise((res) => setTimeout(res, (seconds / 2) * 1000 + 1000))
      killedCpu = processCpu(apis[n - 1].child.pid)
      apis[n - 1].child.kill('SIGKILL')
      console.log(`bench:peak: killed API process ${n - 1} (pid ${apis[n - 1].child.pid})`)
    }
    const r = await reply
    const c1 = cpuNow(apis, nginx.pid(), client)
    const x1 = await xactsNow()
    if (killedCpu !== undefined) c1.api[n - 1] = killedCpu
    const w = await waits.stop()
    const loadAfter = load()
    const cpu: Cpu = {
      api: c1.api.map((x, i) => x - c0.api[i]), pg: c1.pg - c0.pg, pgGw: c1.pgGw - c0.pgGw, replica: c1.replica - c0.replica,
      nginx: c1.nginx - c0.nginx, client: c1.client - c0.client,
      machine: { busy: c1.machine.busy - c0.machine.busy, total: c1.machine.total - c0.machine.total },
    }
    const lost = await checkAcked(r.acked)
    // What an operator reads on /api/ready (a process still up answers).
    const ready = await fetch(`http://127.0.0.1:${apis[0].port}/api/ready`).then((x) => x.json(), () => null)
    const lag = ready?.replica ? `/api/ready at the end: ${JSON.stringify(ready.replica)}` : 'n/a'
    const apiErrors = apis.map((a) => fs.readFileSync(a.log, 'utf8').split('\n').filter((l) => l.includes('"level":50') || l.includes('"level":"error"')).length)
    if (apiErrors.some((x) => x > 0)) r.errors.push(...apis.map((a, i) => `API process ${i}: ${apiErrors[i]} error lines in its log, e.g. ${fs.readFileSync(a.log, 'utf8').split('\n').find((l) => l.includes('"level":50') || l.includes('"level":"error"'))?.slice(0, 300)}`).filter((_, i) => apiErrors[i] > 0))
    const res: RunResult = {
      label, processes: n, killed: kill, reply: r, cpu, loadBefore, loadAfter, waits: w, lost, checked: r.acked.length, lag,
      xacts: { primary: x1.primary - x0.primary, replica: x1.replica - x0.replica },
    }
    console.log(summaryLine(res))
    return res
  } finally {
    await nginx?.stop()
    await Promise.all(apis.map(stopApi))
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** Every write the server answered as applied: its action recorded, and its change in the tables. */
async function checkAcked(acked: RunReply['acked']): Promise<string[]> {
  if (!acked.length) return []
  const lost: string[] = []
  const found = await sql<{ user_id: number; id: string }[]>`
    SELECT f.user_id, f.id::text FROM field_actions f
    JOIN unnest(${acked.map((a) => a.userId)}::int[], ${acked.map((a) => a.id)}::uuid[]) AS x(u, i) ON f.user_id = x.u AND f.id = x.i
    WHERE f.outcome = 'applied'`
  const have = new Set(found.map((f) => `${f.user_id}/${f.id}`))
  for (const a of acked) if (!have.has(`${a.userId}/${a.id}`)) lost.push(`action ${a.id} (${a.kind}) not in field_actions as applied`)
  const evac = acked.filter((a) => a.kind === 'evac.status')
  if (evac.length) {
    const rows = await sql<{ household_id: number; to_status: string }[]>`
      SELECT household_id, to_status FROM evac_status_log WHERE order_id = ${made.order}`
    const log = new Set(rows.map((r) => `${r.household_id}:${r.to_status}`))
    for (const a of evac) if (!log.has(`${a.household}:${a.status}`)) lost.push(`household ${a.household} → ${a.status}: not in evac_status_log`)
  }
  const ticks = acked.filter((a) => a.kind === 'task.item')
  if (ticks.length) {
    const rows = await sql<{ k: string; n: number }[]>`
      SELECT task_id || ':' || item || ':' || done AS k, count(*)::int AS n FROM task_item_log WHERE task_id = ANY(${made.tasks}::int8[]) GROUP BY 1`
    const log = new Map(rows.map((r) => [r.k, r.n]))
    const want = new Map<string, number>()
    for (const a of ticks) want.set(`${a.task}:${a.item}:${a.done}`, (want.get(`${a.task}:${a.item}:${a.done}`) ?? 0) + 1)
    for (const [k, n] of want) if ((log.get(k) ?? 0) < n) lost.push(`task item ${k}: ${n} acknowledged, ${log.get(k) ?? 0} in task_item_log`)
  }
  return lost
}

// ---------------------------------------------------------------- report
const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '–')
const pctCore = (cpuS: number) => `${f((cpuS / seconds) * 100)}%`
function summaryLine(r: RunResult) {
  const a = r.reply.actions
  return `  ${r.label}: ${f(a.acked / seconds, 1)} actions/s (p95 ${f(a.p95)} ms, p99 ${f(a.p99)} ms), tiles p95 ${f(r.reply.tiles.p95)} ms, ` +
    `feed delay p95 ${f(r.reply.feed.otherProcess.p95)} ms, wall p95 ${f(r.reply.wall.p95)} ms, errors ${a.errors + r.reply.tiles.errors + r.reply.exports.errors + r.reply.wall.errors}, lost ${r.lost.length}, ` +
    `API CPU ${r.cpu.api.map(pctCore).join(' ')}, PostgreSQL ${pctCore(r.cpu.pg)}, machine ${f((r.cpu.machine.busy / r.cpu.machine.total) * 100)}% busy, load ${r.loadAfter}`
}

function report(results: RunResult[], setupNote: string): string {
  const L: string[] = []
  const target = counts.workers / interval
  L.push('# The storm-night peak (`npm run bench:peak`)', '')
  L.push(`${new Date().toISOString()} · database \`${dbName}\` · ${os.cpus().length} cores · ${seconds} s a run · ` +
    `${counts.workers} grid workers (one action every ~${interval} s each: ${f(target, 1)} actions/s offered), ${counts.screens} live-feed screens, ` +
    `${counts.panners} people panning the map, ${counts.planners} planners exporting · nginx (deploy/nginx/gridwatch.conf, one worker) in front of ` +
    `the ${values.tsx ? 'API run by tsx' : 'production build (dist/server/main.mjs)'} · reads on ${readUrl ? 'the streaming replica (DATABASE_READ_URL)' : 'the primary only'}`)
  L.push('', setupNote, '')
  L.push('Load average (`uptime`: 1, 5, 15 min) is given beside each run, before → after. On a shared machine the absolute figures',
    'move with the other work; compare runs of the same table with each other, and read the CPU columns for who used the cores.', '')
  L.push('## Per run', '')
  L.push('| run | load before → after | actions/s held (offered ' + f(target, 1) + ') | action p50 / p95 / p99 ms | tiles (n) p95 / p99 ms, nginx hits | wall figures (n) p95 / p99 ms | exports (n) p95 ms, 429s | feed delay p50 / p95 / p99 ms (other process; n) | errors | acknowledged writes missing |')
  L.push('|---|---|---|---|---|---|---|---|---|---|')
  for (const r of results) {
    const { actions: a, tiles: t, exports: e, feed, wall: w } = r.reply
    const fd = r.processes > 1 ? feed.otherProcess : feed.any
    L.push(`| ${r.label} | ${r.loadBefore} → ${r.loadAfter} | ${f(a.acked / seconds, 1)} | ${f(a.p50)} / ${f(a.p95)} / ${f(a.p99)} | (${t.n}) ${f(t.p95)} / ${f(t.p99)}, ${t.cached} | (${w.ok}) ${f(w.p95)} / ${f(w.p99)} | ` +
      `(${e.ok}) ${f(e.p95)}, ${e.busy} | ${f(fd.p50)} / ${f(fd.p95)} / ${f(fd.p99)}${r.processes > 1 ? '' : ' (one process)'}; ${fd.n} | ` +
      `${a.errors + t.errors + e.errors + w.errors} | ${r.lost.length} of ${r.checked} |`)
  }
  L.push('', '## CPU (share of one core over the run, from /proc)', '')
  L.push('| run | load after | each API process | PostgreSQL primary (all; of it the run\'s database\'s backends) | replica | nginx | the simulated people | machine busy (2 cores = 200%) | the rest (other agents) |')
  L.push('|---|---|---|---|---|---|---|---|---|')
  for (const r of results) {
    const c = r.cpu
    // PostgreSQL's share of this run: its database's backends (the cluster's rest is other agents' databases too).
    const ours = c.api.reduce((a, b) => a + b, 0) + c.pgGw + c.replica + c.nginx + c.client
    const machine = (c.machine.busy / (c.machine.total / os.cpus().length)) * 100
    L.push(`| ${r.label} | ${r.loadAfter} | ${c.api.map(pctCore).join(', ')} | ${pctCore(c.pg)}; ${pctCore(c.pgGw)} | ${pctCore(c.replica)} | ${pctCore(c.nginx)} | ${pctCore(c.client)} | ` +
      `${f(machine)}% | ${f(machine - (ours / seconds) * 100)}% |`)
  }
  L.push('', '## What the database was doing (active backends of the run\'s database, sampled once a second)', '')
  L.push('| run | load after | transactions/s primary / replica | mean active | waits (share of samples) |', '|---|---|---|---|---|')
  for (const r of results) {
    const w = r.waits
    const total = [...w.byWait.values()].reduce((a, b) => a + b, 0) || 1
    L.push(`| ${r.label} | ${r.loadAfter} | ${f(r.xacts.primary / seconds)} / ${f(r.xacts.replica / seconds)} | ${f(w.active / Math.max(1, w.samples), 2)} | ${[...w.byWait].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, v]) => `${k} ${f((v / total) * 100)}%`).join(', ') || '–'} |`)
  }
  L.push('', '## Errors and writes', '')
  for (const r of results) {
    const { actions: a, feed } = r.reply
    L.push(`**${r.label}** (load ${r.loadAfter}): ${a.acked} writes acknowledged, ${r.checked - r.lost.length} of them found in the database ` +
      `(field_actions as applied, and the change in evac_status_log / task_item_log); ${a.retried} sends repeated by the outbox after a failure, ` +
      `${a.gaveUp} given up after 5 tries; ${a.conflicts} conflicts. Live feed: ${feed.streams} streams, ${feed.reconnects} reconnections, ` +
      `${feed.missing} acknowledged changes that did not reach a screen of their area${feed.missingDetail.length ? ` (${feed.missingDetail.slice(0, 5).join('; ')})` : ''}. Replica: ${r.lag}.`)
    const errs = [...r.reply.errors, ...r.lost]
    if (errs.length) {
      const byText = new Map<string, number>()
      for (const e of errs) byText.set(e.replace(/[0-9a-f-]{36}/g, '…').replace(/\/\d+\/\d+\/\d+\.mvt/, '/z/x/y.mvt'), (byText.get(e) ?? 0) + 1)
      L.push('', ...[...byText].slice(0, 20).map(([e, k]) => `- ${k}× ${e.replace(/\|/g, '\\|')}`))
    }
    L.push('')
  }
  L.push(...limits(results), '')
  const k = results.find((r) => r.killed)
  if (k) {
    L.push('### Errors per second around the kill', '', '| s | actions acknowledged | action errors |', '|---|---|---|')
    for (const s of k.reply.perSecond.filter((x) => Math.abs(x.t - seconds / 2) <= 6)) L.push(`| ${s.t} | ${s.actions} | ${s.errors} |`)
    L.push('')
  }
  return L.join('\n')
}

/**
 * What held the peak back, read off the figures: were the cores full (and whose work filled them), did PostgreSQL's
 * backends wait on locks or the disk rather than run, and did more API processes buy anything.
 */
function limits(results: RunResult[]): string[] {
  const L = ['## What limits the peak (read off the figures above)', '']
  const cores = os.cpus().length
  for (const r of results.filter((x) => !x.killed)) {
    const c = r.cpu
    const busy = (c.machine.busy / (c.machine.total / cores)) * 100
    const api = c.api.reduce((a, b) => a + b, 0)
    const ours = api + c.pgGw + c.replica + c.nginx + c.client
    const share = (x: number) => `${f((x / seconds) * 100)}%`
    const total = [...r.waits.byWait.values()].reduce((a, b) => a + b, 0) || 1
    const waiting = [...r.waits.byWait].filter(([k]) => k.startsWith('Lock') || k.startsWith('LWLock') || k.startsWith('IO')).reduce((a, [, v]) => a + v, 0)
    const held = r.reply.actions.acked / seconds / (counts.workers / interval)
    L.push(`- **${r.label}** (load ${r.loadAfter}): the machine was ${f(busy)}% busy of ${cores * 100}% — ` +
      `${busy >= cores * 90 ? 'the cores were full' : 'the cores had room'}; this run's API processes took ${share(api)}, PostgreSQL ${share(c.pg)} (the run's database's backends ${share(c.pgGw)}) ` +
      `(replica ${share(c.replica)}), nginx ${share(c.nginx)}, the simulated people ${share(c.client)}, other work ${f(busy - (ours / seconds) * 100)}%. ` +
      `PostgreSQL's active backends were waiting (locks, I/O) in ${f((waiting / total) * 100)}% of samples, mean ${f(r.waits.active / Math.max(1, r.waits.samples), 2)} active. ` +
      `Actions held: ${f(held * 100)}% of those offered; busiest API process ${share(Math.max(...c.api))} of a core.`)
  }
  return L
}

// ---------------------------------------------------------------- main
if (readUrl) {
  try {
    execFileSync('bash', [path.join(projectRoot, 'scripts', 'pg-replica.sh'), 'up'], { stdio: 'inherit', timeout: 300_000 })
  } catch (e) {
    console.error(`bench:peak: the replica did not come up (${(e as Error).message}); run with --read-url none to go without`)
    process.exit(2)
  }
}
const main = values.tsx ? null : buildServer()
const client = fork(path.join(projectRoot, 'scripts', 'bench', 'peak-client.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
let removed = false
const cleanUp = async () => {
  if (removed) return
  removed = true
  await removePeople().catch((e) => console.error('bench:peak: clean-up failed:', e))
}
process.once('SIGINT', () => void cleanUp().then(() => process.exit(130)))
try {
  const people = await makePeople()
  await new Promise<void>((resolve) => {
    client.once('message', () => resolve())
    client.send({ type: 'setup', ...people })
  })
  const setupNote = `Setup: ${people.workers.length} grid_worker accounts, one per basic grid (grids picked by a hash of their code, across ` +
    `${new Set(people.workers.map((w) => w.grid.slice(0, 6))).size} counties), each with a during-rain 三查 checklist and up to 8 households in one transfer order; ` +
    `screens: one in ten of the city, the others of a county in turn. Sessions are written to the database as a login writes them (no argon2 at setup).`
  const results: RunResult[] = []
  for (const n of runs) results.push(await oneRun(main, client, n, false))
  if (!values['no-kill'] && Math.max(...runs) >= 2) results.push(await oneRun(main, client, Math.max(...runs), true))
  fs.mkdirSync(path.dirname(values.out), { recursive: true })
  fs.writeFileSync(values.out, report(results, setupNote) + '\n')
  console.log(`bench:peak: wrote ${path.relative(process.cwd(), values.out)}`)
} finally {
  client.kill()
  await cleanUp()
  await sql.end()
  await replicaSql?.end()
}
