import fs from 'node:fs'
import path from 'node:path'
import { Hono } from 'hono'
import { compress } from 'hono/compress'
import { serveStatic } from '@hono/node-server/serve-static'
import { basicAuth, ogcLoginRequired } from './auth/basic.ts'
import { csrfCheck, loginRequired, sessionLookup } from './auth/middleware.ts'
import type { SessionStore } from './auth/sessions.ts'
import { LoginThrottle } from './auth/throttle.ts'
import type { Basemap } from './basemap.ts'
import { config, proxySettingsFromEnv } from './config.ts'
import type { Database } from './db/connect.ts'
import { HttpError, errorBody, sendError } from './errors.ts'
import { workLimiters, type WorkLimiters } from './limits/work.ts'
import { log } from './log.ts'
import { basemapOrigins } from './print/origins.ts'
import { PrintJobs } from './print/render.ts'
import { auditRoutes } from './routes/audit.ts'
import { authRoutes } from './routes/auth.ts'
import { editRoutes } from './routes/edits.ts'
import { exportRoutes } from './routes/exports.ts'
import { gridEditorRoutes } from './routes/grid-editor.ts'
import { analysisRoutes } from './routes/analysis.ts'
import { importRoutes } from './routes/imports.ts'
import { printRoutes } from './routes/print.ts'
import { ogcRoutes } from './routes/ogc.ts'
import { evacuationRoutes } from './routes/evacuation.ts'
import { wallRoutes } from './routes/wall.ts'
import { eventRoutes } from './routes/events.ts'
import type { EventHub } from './events/hub.ts'
import { rainRoutes } from './routes/rain.ts'
import { recordRoutes } from './routes/records.ts'
import { taskRoutes } from './routes/tasks.ts'
import { tileRoutes } from './routes/tiles.ts'
import { unitRoutes } from './routes/units.ts'
import { userRoutes } from './routes/users.ts'
import { securityHeaders } from './security-headers.ts'
import { limitBodies } from './edge/body-limits.ts'
import { refuseControlCharacters } from './edge/control-characters.ts'
import { clientAddressOf, type ProxySettings } from './proxy.ts'
import type { TileService } from '../tiles/service.ts'

export interface AppDeps {
  db: Database
  tiles: TileService
  sessions: SessionStore
  /** The live feed (/api/events). */
  events: EventHub
  postgisVersion: string
  bounds: [number, number, number, number]
  /** The built web app (web/dist), served at / when present. */
  webDist?: string
  basemap?: Basemap | null
  /** Our public origin and which proxies to believe (default: the environment's). */
  proxy?: ProxySettings
  /** /api/ready's check (database answers, not stopping); absent: always ready. */
  ready?: () => Promise<{ ready: boolean; stage?: string; zh?: string; en?: string }>
  /** The clock of the login throttles (tests set theirs). */
  now?: () => Date
  /**
   * This server as its own print renders reach it, http://127.0.0.1:<port>,
   * once it listens (startServer knows the port). Without it nothing prints:
   * an origin from the request would let a forged Host choose the address.
   */
  loopbackOrigin?: () => string | undefined
  /** Places for expensive work (print, analysis jobs, exports); one set per app by default. */
  limits?: WorkLimiters
}

export function createApp(deps: AppDeps) {
  const app = new Hono()
  const basemap = deps.basemap === undefined ? config.basemap : deps.basemap
  const proxy = deps.proxy ?? proxySettingsFromEnv()
  const limits = deps.limits ?? workLimiters()
  const printJobs = new PrintJobs({ origin: deps.loopbackOrigin ?? (() => undefined), alsoAllowed: basemapOrigins(basemap), sessions: deps.sessions })

  app.use('*', securityHeaders({ basemap, frameAncestors: config.frameAncestors }))
  // Before anything reads a body or looks up a session: hostile input stops here.
  app.use('*', limitBodies())
  app.use('*', async (c, next) => {
    c.set('clientAddress', clientAddressOf(c, proxy))
    await next()
  })
  for (const path of ['/api/*', '/tiles/*', '/ogc/*']) app.use(path, refuseControlCharacters())
  app.use('/api/*', compress())
  for (const path of ['/api/*', '/tiles/*']) {
    app.use(path, sessionLookup(deps.sessions, proxy))
    app.use(path, csrfCheck(proxy))
    app.use(path, loginRequired(new Set(['/api/health', '/api/ready', '/api/config'])))
  }
  // Password guesses slowed alike for the login form, the password change and HTTP Basic; counted in the database.
  const loginThrottle = new LoginThrottle(deps.db.sql, deps.now)
  // OGC API – Features: read-only, for QGIS/GDAL too, so HTTP Basic is accepted beside the session cookie.
  app.use('/ogc/*', compress())
  app.use('/ogc/*', sessionLookup(deps.sessions, proxy))
  app.use('/ogc/*', basicAuth(deps.db.sql, loginThrottle))
  app.use('/ogc/*', ogcLoginRequired)

  app.get('/api/health', (c) =>
    c.json({ ok: true, database: deps.db.kind, postgis: deps.postgisVersion, tileEncoder: deps.tiles.encoder }),
  )
  // For a load balancer or orchestrator: 200 when this process can serve, 503 with the stage when not.
  app.get('/api/ready', async (c) => {
    const r = deps.ready ? await deps.ready() : { ready: true }
    c.header('Cache-Control', 'no-store')
    return c.json({ ...r, database: deps.db.kind }, r.ready ? 200 : 503)
  })
  // What the browser needs to know at run time (no rebuild to change the basemap).
  app.get('/api/config', (c) => c.json({ basemap }))
  app.route('/', authRoutes(deps.db.sql, deps.sessions, proxy, loginThrottle))
  app.route('/', userRoutes(deps.db.sql, deps.sessions))
  app.route('/', tileRoutes(deps.tiles, () => deps.bounds, proxy))
  app.route('/', unitRoutes(deps.db.sql))
  app.route('/', recordRoutes(deps.db.sql))
  app.route('/', editRoutes(deps.db.sql))
  app.route('/', gridEditorRoutes(deps.db.sql))
  app.route('/', auditRoutes(deps.db.sql))
  app.route('/', rainRoutes(deps.db.sql))
  app.route('/', taskRoutes(deps.db.sql))
  app.route('/', ogcRoutes(deps.db.sql, () => deps.bounds, proxy))
  app.route('/', exportRoutes(deps.db.sql, limits))
  app.route('/', analysisRoutes(deps.db.sql, limits))
  app.route('/', importRoutes(deps.db.sql))
  app.route('/', printRoutes(deps.db.sql, printJobs, limits))
  app.route('/', evacuationRoutes(deps.db.sql, { copy: deps.db.copyIn }))
  app.route('/', eventRoutes(deps.events, deps.sessions))
  app.route('/', wallRoutes(deps.db.sql))

  app.all('/api/*', (c) => c.json(errorBody('not_found', `没有这个接口：${c.req.path}`, `no such API route: ${c.req.path}`), 404))

  if (deps.webDist && fs.existsSync(path.join(deps.webDist, 'index.html'))) {
    const root = path.relative(process.cwd(), deps.webDist)
    app.use('/*', serveStatic({ root }))
    // The app routes (/screen, /editor…) are the single page's.
    app.get('*', serveStatic({ root, path: 'index.html' }))
  }

  app.notFound((c) => c.json(errorBody('not_found', `没有这个地址：${c.req.path}`, `nothing at ${c.req.path}`), 404))
  app.onError((err, c) => {
    if (err instanceof HttpError) return sendError(c, err)
    log.error(`${c.req.method} ${c.req.path} failed`, err)
    return c.json(errorBody('internal', '服务器内部错误，请稍后重试', 'internal server error; please retry'), 500)
  })
  return app
}
