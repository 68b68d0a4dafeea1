import { getRequestListener } from '@hono/node-server'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createApp } from './app.ts'
import { createDemoAccounts, describeAccounts } from './auth/demo-accounts.ts'
import { SessionStore } from './auth/sessions.ts'
import { EventHub } from './events/hub.ts'
import { config } from '../core/config.ts'
import { Drain } from './lifecycle/drain.ts'
import { accessLog } from './edge/access-log.ts'
import { startingListener, type StartState } from './lifecycle/starting.ts'
import { proxySettingsFromEnv, type ProxySettings } from './proxy.ts'
import { connect, seedPool, type Database } from '../db/connect.ts'
import type { ReplicaLag } from '../db/replica.ts'
import { workLimiters, type WorkLimiters } from './limits/work.ts'
import { log, progress } from '../core/log.ts'
import { securityHeaders, securityHeadersOf } from './security-headers.ts'
import { tileFastPath } from './tile-fast-path.ts'
import { parseCorsOrigins } from './edge/cors.ts'
import { dataBounds } from './data-bounds.ts'
import { migrate } from '../data/migrate.ts'
import { seed } from '../data/seed/generate.ts'
import { scales } from '../data/seed/scales.ts'
import { clearStormHistory, seedDemoStorm, writeStormHistory } from './demo/storm.ts'
import type { Storm } from '../data/storms/build.ts'
import { markDemoPending, readDemoPending } from './lifecycle/demo-pending.ts'
import { TileService } from '../tiles/service.ts'
import { systemClock, type Clock } from './clock.ts'
import { startRainSweep } from './rain/sweep.ts'
import { startReportSweep } from './reports/sweep.ts'
import { periodic } from './lifecycle/periodic.ts'
import { sweepField } from './field/tracks.ts'

export interface ServerOptions {
  port?: number
  /** See connect(): null forces the embedded database. */
  databaseUrl?: string | null
  /** See connect(): a streaming replica for heavy reads (default DATABASE_READ_URL); null: none. */
  readUrl?: string | null
  /** See connect(): null keeps the embedded database in memory. */
  dataDir?: string | null
  webDist?: string
  /** Seed this scale when the database has no data yet (default demo). */
  seedScale?: keyof typeof scales | false
  quiet?: boolean
  /** Public origin and trusted proxies (default: GRIDWATCH_PUBLIC_URL, GRIDWATCH_TRUST_PROXY). */
  proxy?: ProxySettings
  /** How long a stop waits for running requests (default GRIDWATCH_STOP_GRACE_MS, 20 s). */
  stopGraceMs?: number
  /** Called once the port answers (with "starting" until the database is ready). */
  onListening?: (url: string) => void
  /**
   * Tests only: a fixed "now" for what depends on it (overdue checklists, how current rain is, when a
   * storm event is over, login throttles' waits), so a test reads the same at any hour. Production never passes it.
   */
  clock?: Clock
  /** How often events that ran out of time are ended and stale rain dropped from the tiles (default a minute). */
  sweepEveryMs?: number
  /** How often reports past their level's time are escalated (default 10 s). */
  reportSweepEveryMs?: number
  /**
   * Write the demo storm's history (first start) after the port already serves the map, not before: what
   * `npm start` does, so that the first start is ready sooner. Benchmarks and tests wait for it (the default).
   * Safe on the embedded database only because this process is its one client and its pool is one
   * connection (db/connect.ts): the history's transactions queue with the requests, never interleave.
   */
  stormInBackground?: boolean
  /** Settles when the web app is built (npm start builds it beside the database's start); the map is served after it. */
  webBuilt?: Promise<void>
  /** Origins whose pages may read tiles, the OGC API and exports (default: GRIDWATCH_CORS_ORIGINS). */
  corsOrigins?: readonly string[]
  /** Tests only: the storm a first start writes, instead of the shipped one over 昭阳区 (not in the test data). */
  demoStorm?: (sql: Database['sql']) => Promise<Storm>
}

export interface RunningServer {
  port: number
  url: string
  /** The Hono app alone, without the tile fast path in front (the benchmark compares both). */
  app: ReturnType<typeof createApp>
  db: Database
  tiles: TileService
  sessions: SessionStore
  events: EventHub
  /** The app's places for expensive work (tests look at them). */
  limits: WorkLimiters
  /** Settles once the demo storm's history, written in the background (`stormInBackground`), is in; at once otherwise. */
  background: Promise<void>
  /** Stops taking requests, lets running ones finish (up to the grace period), then closes the database. */
  /** Ends the storm events that ran out of time and drops rain tiles gone stale, now (the server does it every minute). */
  sweepNow(): Promise<void>
  close(): Promise<void>
}

/** Binds the port first, so that a busy port fails at once and the page can say what a long first start is doing. */
function listen(port: number, listener: (req: IncomingMessage, res: ServerResponse) => void) {
  return new Promise<Server>((resolve, reject) => {
    const s = createServer(listener)
    s.listen(port, '0.0.0.0', () => resolve(s))
    s.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new Error(`端口 ${port} 已被占用 / port ${port} is in use; set PORT to another`) : e),
    )
  })
}

export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const proxy = opts.proxy ?? proxySettingsFromEnv()
  const security = securityHeaders({ basemap: config.basemap, frameAncestors: config.frameAncestors })
  // A bad setting stops the start at once, before a first start's minutes of seeding.
  const corsOrigins = opts.corsOrigins ?? parseCorsOrigins(config.corsOrigins)
  const state: StartState = { zh: '连接数据库', en: 'connecting to the database', startedAt: Date.now() }
  const stage = (zh: string, en: string) => Object.assign(state, { zh, en })
  const drain = new Drain()
  let current = startingListener(state, await securityHeadersOf(security, '/'))
  const server = await listen(opts.port ?? config.port, accessLog({ trust: proxy.trust, log: !opts.quiet }, drain.wrap((req, res) => current(req, res))))
  const port = (server.address() as AddressInfo).port
  opts.onListening?.(`http://localhost:${port}`)
  let db: Database | undefined
  try {
    db = await connect({ databaseUrl: opts.databaseUrl, readUrl: opts.readUrl, dataDir: opts.dataDir, quiet: opts.quiet })
    stage('更新数据库结构', 'applying migrations')
    const applied = await migrate(db.sql)
    if (applied.length && !opts.quiet) log.info(`migrations applied: ${applied.join(', ')}`)
    const [{ n }] = await db.sql`SELECT count(*)::int AS n FROM admin_units`
    const scaleName = opts.seedScale ?? 'demo'
    // The embedded database's folder: there a first start keeps what it has not finished (lifecycle/demo-pending.ts).
    const dataDir = db.kind === 'embedded' && opts.dataDir !== null ? (opts.dataDir ?? config.dataDir) : undefined
    const pending = scaleName ? readDemoPending(dataDir) : null
    const seedNow = !!scaleName && (n === 0 || pending === 'seed')
    if (seedNow) {
      markDemoPending(dataDir, 'seed')
      const p = opts.quiet ? undefined : progress(`首次启动，生成演示数据 / first start: generating ${scaleName} data`)
      const pool = seedPool(db)
      const summary = await seed(pool.sql, {
        scale: scales[scaleName], seed: 1,
        onProgress: (m) => {
          stage(`首次启动，生成演示数据：${m}`, `first start, generating demo data: ${m}`)
          p?.update(m)
        },
      }).finally(() => pool.end())
      p?.done(`${summary.households} households, ${summary.grids} grids in ${summary.seconds.toFixed(0)} s`)
      markDemoPending(dataDir, 'storm')
    }
    const demoCreated = db.kind === 'embedded' && Boolean(scaleName) && (await createDemoAccounts(db.sql))
    if (demoCreated && !opts.quiet) log.info('演示账号已创建 / demo accounts created')
    // A past storm to replay on the command wall (/screen) from the first minute.
    const stormNow = seedNow || pending === 'storm'
    if (stormNow && !seedNow) await clearStormHistory(db.sql) // cut off half-way by a stop: written again from the start
    const inBackground = stormNow && !!opts.stormInBackground
    const writeStorm = async (signal?: AbortSignal) => {
      const label = inBackground ? '演示暴雨历史（后台，地图已可用）/ demo storm history (in the background; the map already serves)' : '演示暴雨历史 / demo storm history'
      const p = opts.quiet ? undefined : progress(label)
      const say = (m: string) => p?.update(m)
      const r = opts.demoStorm ? await writeStormHistory(db!.sql, await opts.demoStorm(db!.sql), say, { signal }) : await seedDemoStorm(db!.sql, say, signal)
      p?.done('events' in r ? `${r.events} events, /screen?replay can replay it` : r.skipped)
      markDemoPending(dataDir, null)
    }
    if (stormNow && !inBackground) {
      stage('生成演示暴雨历史', 'generating the demo storm history')
      await writeStorm()
    }
    // The embedded database is a demo: its accounts are listed (the password on the first start only). A real one only gets a hint when it has none.
    if (!opts.quiet) for (const line of await describeAccounts(db.sql, { listThem: db.kind === 'embedded', justCreated: demoCreated })) log.info(line)
    stage('准备瓦片与会话', 'preparing tiles and sessions')
    const clock = opts.clock ?? systemClock
    const tiles = await TileService.create(db, { clock })
    const sessions = await SessionStore.create(db)
    const events = await EventHub.create(db)
    const [{ v }] = await db.sql`SELECT postgis_lib_version() AS v`
    // Read by TileJSON and the OGC API at each request; kept current in place (below).
    const bounds = await dataBounds(db.sql)
    // Ready means the map can be served; what is still written behind it is said beside.
    const writing: { now: { zh: string; en: string } | null } = {
      now: inBackground ? { zh: '正在后台写入演示暴雨历史', en: 'writing the demo storm history in the background' } : null,
    }
    const ready = readiness(db, drain, writing)
    const limits = workLimiters()
    // Print renders load from here: the loopback address of the port we listen on, never a name from a request.
    const loopback = `http://127.0.0.1:${port}`
    if (opts.webBuilt) {
      stage('构建前端', 'building the web app')
      await opts.webBuilt
    }
    const app = createApp({
      db, tiles, sessions, events, postgisVersion: v as string, bounds, webDist: opts.webDist, proxy, ready, limits, loopbackOrigin: () => loopback, clock,
      corsOrigins,
    })
    const fastPath = { tiles, sessions, securityHeaders: await securityHeadersOf(security, '/tiles/'), corsOrigins }
    current = tileFastPath(fastPath, getRequestListener(app.fetch, { hostname: '0.0.0.0' }))
    const graceMs = opts.stopGraceMs ?? config.stopGraceMs
    const database = db
    let closing: Promise<void> | undefined
    // The rain sweep ends storm events that ran out of time: not while a past storm is being written.
    let sweep: ReturnType<typeof startRainSweep> | undefined
    const startSweep = async () => {
      sweep = startRainSweep(database.sql, clock, opts.sweepEveryMs ?? 60_000)
      await sweep.runNow()
    }
    const stopStorm = new AbortController()
    let background = Promise.resolve()
    if (inBackground) {
      background = writeStorm(stopStorm.signal).then(startSweep, (err: Error) => {
        if (stopStorm.signal.aborted) return
        log.error(`演示暴雨历史写入失败，下次启动时重写 / the demo storm history failed; the next start writes it again: ${err.message}`)
        return startSweep()
      }).finally(() => (writing.now = null))
    } else {
      // Its first pass (storms that ran out while the server was down) is part of starting: on a PGlite that
      // several servers share (tests), a pass beside the first requests interleaved with them.
      await startSweep()
    }
    // Reports escalate by the minute (特急: 15 min to acknowledge), so their clock looks more often.
    const reportSweep = startReportSweep(db.sql, clock, opts.reportSweepEveryMs ?? 10_000)
    // Patrol tracks and the phones' receipts are kept 90 days (personal data): swept hourly.
    const fieldSweep = periodic('field sweep', 3600_000, () => sweepField(database.sql, clock()).then(() => {}), { now: false })
    // Grids redrawn, sites and shelters added: the extent follows within 10 minutes (a background storm's writing first).
    const extent = periodic('data extent', 600_000, async () => void bounds.splice(0, 4, ...(await background.then(() => dataBounds(database.sql)))), { now: false })
    return {
      port,
      url: `http://localhost:${port}`,
      app,
      db,
      tiles,
      sessions,
      events,
      limits,
      background,
      sweepNow: async () => {
        await background
        await sweep?.runNow()
      },
      close() {
        closing ??= (async () => {
          // A storm history being written stops at its next step; the next start writes it again.
          stopStorm.abort()
          await background.catch(() => {})
          const { cut } = await drain.stop(server, graceMs)
          if (cut && !opts.quiet) log.warn(`停止时中断了 ${cut} 个未完成的请求 / ${cut} request(s) still running after ${graceMs / 1000} s were cut`)
          await fieldSweep.stop()
          await extent.stop()
          await sweep?.stop()
          await reportSweep.stop()
          // Only now: on the embedded database an UNLISTEN between an export's fetches would drop its cursor.
          await events.close()
          await sessions.close()
          await database.close()
        })()
        return closing
      },
    }
  } catch (err) {
    await new Promise<void>((r) => server.close(() => r()))
    server.closeAllConnections()
    await db?.close().catch(() => {})
    throw err
  }
}

/**
 * /api/ready: the database answers a query within 2 s, and the server is not stopping; ready with stage
 * 'background' while the first start still writes the demo storm behind a map that serves.
 */
function readiness(db: Database, drain: Drain, writing: { now: { zh: string; en: string } | null }) {
  return async (): Promise<({ ready: true; stage?: 'background'; zh?: string; en?: string } | { ready: false; stage: 'stopping' | 'database'; zh: string; en: string }) & { replica?: ReplicaLag }> => {
    if (drain.stopping) return { ready: false, stage: 'stopping', zh: '服务正在停止', en: 'the server is stopping' }
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 2000).unref())
    // The replica's lag beside it, for an operator (its trouble never makes this process unready: reads fall back).
    const [answer, lag] = await Promise.all([Promise.race([db.sql`SELECT 1`.then(() => 'ok' as const, () => 'error' as const), timeout]), db.reads.lag()])
    const replica = lag ? { replica: lag } : {}
    if (answer === 'ok') return writing.now ? { ready: true, stage: 'background', ...writing.now, ...replica } : { ready: true, ...replica }
    return { ...replica, ready: false, stage: 'database', zh: answer === 'timeout' ? '数据库 2 秒内没有应答' : '数据库无法访问', en: answer === 'timeout' ? 'the database did not answer within 2 s' : 'the database cannot be reached' }
  }
}
