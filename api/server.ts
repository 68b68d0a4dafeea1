import { getRequestListener } from '@hono/node-server'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createApp } from './app.ts'
import { createDemoAccounts, describeAccounts } from './auth/demo-accounts.ts'
import { SessionStore } from './auth/sessions.ts'
import { EventHub } from './events/hub.ts'
import { config, proxySettingsFromEnv } from './config.ts'
import { Drain } from './lifecycle/drain.ts'
import { startingListener, type StartState } from './lifecycle/starting.ts'
import type { ProxySettings } from './proxy.ts'
import { connect, seedPool, type Database } from './db/connect.ts'
import { workLimiters, type WorkLimiters } from './limits/work.ts'
import { log, progress } from './log.ts'
import { securityHeaders, securityHeadersOf } from './security-headers.ts'
import { tileFastPath } from './tile-fast-path.ts'
import { migrate } from '../data/migrate.ts'
import { seed } from '../data/seed/generate.ts'
import { scales } from '../data/seed/scales.ts'
import { seedDemoStorm } from '../data/storms/history.ts'
import { TileService } from '../tiles/service.ts'

export interface ServerOptions {
  port?: number
  /** See connect(): null forces the embedded database. */
  databaseUrl?: string | null
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
  /** The clock of the login throttles (tests set theirs). */
  now?: () => Date
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
  /** Stops taking requests, lets running ones finish (up to the grace period), then closes the database. */
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
  const state: StartState = { zh: '连接数据库', en: 'connecting to the database', startedAt: Date.now() }
  const stage = (zh: string, en: string) => Object.assign(state, { zh, en })
  const drain = new Drain()
  let current = startingListener(state, await securityHeadersOf(security, '/'))
  const server = await listen(opts.port ?? config.port, drain.wrap((req, res) => current(req, res)))
  const port = (server.address() as AddressInfo).port
  opts.onListening?.(`http://localhost:${port}`)
  let db: Database | undefined
  try {
    db = await connect({ databaseUrl: opts.databaseUrl, dataDir: opts.dataDir, quiet: opts.quiet })
    stage('更新数据库结构', 'applying migrations')
    const applied = await migrate(db.sql)
    if (applied.length && !opts.quiet) log.info(`migrations applied: ${applied.join(', ')}`)
    const [{ n }] = await db.sql`SELECT count(*)::int AS n FROM admin_units`
    const scaleName = opts.seedScale ?? 'demo'
    if (n === 0 && scaleName) {
      const p = opts.quiet ? undefined : progress(`首次启动，生成演示数据 / first start: generating ${scaleName} data (about a minute)`)
      const pool = seedPool(db)
      const summary = await seed(pool.sql, {
        scale: scales[scaleName], seed: 1,
        onProgress: (m) => {
          stage(`首次启动，生成演示数据：${m}`, `first start, generating demo data: ${m}`)
          p?.update(m)
        },
      }).finally(() => pool.end())
      p?.done(`${summary.households} households, ${summary.grids} grids in ${summary.seconds.toFixed(0)} s`)
    }
    if (db.kind === 'embedded' && scaleName && (await createDemoAccounts(db.sql)) && !opts.quiet) log.info('演示账号已创建 / demo accounts created')
    if (n === 0 && scaleName) {
      // A past storm to replay on the command wall (/screen) from the first minute.
      stage('生成演示暴雨历史', 'generating the demo storm history')
      const p = opts.quiet ? undefined : progress('演示暴雨历史 / demo storm history')
      const r = await seedDemoStorm(db.sql, (m) => p?.update(m))
      p?.done('events' in r ? `${r.events} events` : r.skipped)
    }
    // The embedded database is a demo: its accounts are listed. A real one only gets a hint when it has none.
    if (!opts.quiet) for (const line of await describeAccounts(db.sql, db.kind === 'embedded')) log.info(line)
    stage('准备瓦片与会话', 'preparing tiles and sessions')
    const tiles = await TileService.create(db)
    const sessions = await SessionStore.create(db)
    const events = await EventHub.create(db)
    const [{ v }] = await db.sql`SELECT postgis_lib_version() AS v`
    const [b] = await db.sql`SELECT ST_XMin(e) AS w, ST_YMin(e) AS s, ST_XMax(e) AS e, ST_YMax(e) AS n
                             FROM (SELECT ST_Extent(geom) AS e FROM admin_units) x`
    const bounds: [number, number, number, number] = b.w == null ? [-180, -85, 180, 85] : [b.w, b.s, b.e, b.n]
    const ready = readiness(db, drain)
    const limits = workLimiters()
    // Print renders load from here: the loopback address of the port we listen on, never a name from a request.
    const loopback = `http://127.0.0.1:${port}`
    const app = createApp({
      db, tiles, sessions, events, postgisVersion: v as string, bounds, webDist: opts.webDist, proxy, ready, now: opts.now, limits, loopbackOrigin: () => loopback,
    })
    const fastPath = { tiles, sessions, securityHeaders: await securityHeadersOf(security, '/tiles/') }
    current = tileFastPath(fastPath, getRequestListener(app.fetch, { hostname: '0.0.0.0' }))
    const graceMs = opts.stopGraceMs ?? config.stopGraceMs
    const database = db
    let closing: Promise<void> | undefined
    return {
      port,
      url: `http://localhost:${port}`,
      app,
      db,
      tiles,
      sessions,
      events,
      limits,
      close() {
        closing ??= (async () => {
          const { cut } = await drain.stop(server, graceMs)
          if (cut && !opts.quiet) log.warn(`停止时中断了 ${cut} 个未完成的请求 / ${cut} request(s) still running after ${graceMs / 1000} s were cut`)
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

/** /api/ready: the database answers a query within 2 s, and the server is not stopping. */
function readiness(db: Database, drain: Drain) {
  return async (): Promise<{ ready: true } | { ready: false; stage: 'stopping' | 'database'; zh: string; en: string }> => {
    if (drain.stopping) return { ready: false, stage: 'stopping', zh: '服务正在停止', en: 'the server is stopping' }
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 2000).unref())
    const answer = await Promise.race([db.sql`SELECT 1`.then(() => 'ok' as const, () => 'error' as const), timeout])
    if (answer === 'ok') return { ready: true }
    return { ready: false, stage: 'database', zh: answer === 'timeout' ? '数据库 2 秒内没有应答' : '数据库无法访问', en: answer === 'timeout' ? 'the database did not answer within 2 s' : 'the database cannot be reached' }
  }
}
