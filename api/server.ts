import { getRequestListener } from '@hono/node-server'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createApp } from './app.ts'
import { createDemoAccounts, describeAccounts } from './auth/demo-accounts.ts'
import { SessionStore } from './auth/sessions.ts'
import { EventHub } from './events/hub.ts'
import { config } from './config.ts'
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
  close(): Promise<void>
}

export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const db = await connect({ databaseUrl: opts.databaseUrl, dataDir: opts.dataDir, quiet: opts.quiet })
  try {
    const applied = await migrate(db.sql)
    if (applied.length && !opts.quiet) log.info(`migrations applied: ${applied.join(', ')}`)
    const [{ n }] = await db.sql`SELECT count(*)::int AS n FROM admin_units`
    const scaleName = opts.seedScale ?? 'demo'
    if (n === 0 && scaleName) {
      const p = opts.quiet ? undefined : progress(`首次启动，生成演示数据 / first start: generating ${scaleName} data (about a minute)`)
      const pool = seedPool(db)
      const summary = await seed(pool.sql, { scale: scales[scaleName], seed: 1, onProgress: (m) => p?.update(m) }).finally(() => pool.end())
      p?.done(`${summary.households} households, ${summary.grids} grids in ${summary.seconds.toFixed(0)} s`)
    }
    if (db.kind === 'embedded' && scaleName && (await createDemoAccounts(db.sql)) && !opts.quiet) log.info('演示账号已创建 / demo accounts created')
    if (n === 0 && scaleName) {
      // A past storm to replay on the command wall (/screen) from the first minute.
      const p = opts.quiet ? undefined : progress('演示暴雨历史 / demo storm history')
      const r = await seedDemoStorm(db.sql, (m) => p?.update(m))
      p?.done('events' in r ? `${r.events} events` : r.skipped)
    }
    // The embedded database is a demo: its accounts are listed. A real one only gets a hint when it has none.
    if (!opts.quiet) for (const line of await describeAccounts(db.sql, db.kind === 'embedded')) log.info(line)
    const tiles = await TileService.create(db)
    const sessions = await SessionStore.create(db)
    const events = await EventHub.create(db)
    const [{ v }] = await db.sql`SELECT postgis_lib_version() AS v`
    const [b] = await db.sql`SELECT ST_XMin(e) AS w, ST_YMin(e) AS s, ST_XMax(e) AS e, ST_YMax(e) AS n
                             FROM (SELECT ST_Extent(geom) AS e FROM admin_units) x`
    const bounds: [number, number, number, number] = b.w == null ? [-180, -85, 180, 85] : [b.w, b.s, b.e, b.n]
    const limits = workLimiters()
    // Print renders load from here, known once the server listens.
    let loopback: string | undefined
    const app = createApp({ db, tiles, sessions, events, postgisVersion: v as string, bounds, webDist: opts.webDist, limits, loopbackOrigin: () => loopback })
    // The same options as createApp's (which takes config.basemap when given none).
    const security = securityHeaders({ basemap: config.basemap, frameAncestors: config.frameAncestors })
    const fastPath = { tiles, sessions, securityHeaders: await securityHeadersOf(security, '/tiles/') }
    const port = opts.port ?? config.port
    const server = await new Promise<Server>((resolve, reject) => {
      const s = createServer(tileFastPath(fastPath, getRequestListener(app.fetch, { hostname: '0.0.0.0' })))
      s.listen(port, '0.0.0.0', () => resolve(s))
      s.once('error', (e: NodeJS.ErrnoException) =>
        reject(e.code === 'EADDRINUSE' ? new Error(`端口 ${port} 已被占用 / port ${port} is in use; set PORT to another`) : e),
      )
    })
    const actual = (server.address() as AddressInfo).port
    loopback = `http://127.0.0.1:${actual}`
    return {
      port: actual,
      url: `http://localhost:${actual}`,
      app,
      db,
      tiles,
      sessions,
      events,
      limits,
      async close() {
        await events.close()
        // Live streams never end by themselves: close them with the server.
        server.closeAllConnections()
        await new Promise<void>((r) => server.close(() => r()))
        await sessions.close()
        await db.close()
      },
    }
  } catch (err) {
    await db.close().catch(() => {})
    throw err
  }
}
