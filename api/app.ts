import { corsReads, parseCorsOrigins } from './edge/cors.ts'
import fs from 'node:fs'
import path from 'node:path'
import { Hono } from 'hono'
import { compress } from 'hono/compress'
import { etag } from 'hono/etag'
import { serveStatic } from '@hono/node-server/serve-static'
import { basicAuth, ogcLoginRequired } from './auth/http-basic.ts'
import { csrfCheck, loginRequired, sessionLookup } from './auth/middleware.ts'
import type { SessionStore } from './auth/sessions.ts'
import { tokenAuth } from './auth/token-auth.ts'
import { LoginThrottle } from './auth/throttle.ts'
import type { Basemap } from '../core/basemap.ts'
import { config } from '../core/config.ts'
import type { Database } from '../db/connect.ts'
import type { ReplicaLag } from '../db/replica.ts'
import { HttpError, errorBody } from '../core/errors.ts'
import { sendError } from './error-answer.ts'
import { workLimiters, type WorkLimiters } from './limits/work.ts'
import { log } from '../core/log.ts'
import { basemapOrigins } from './print/origins.ts'
import { PrintJobs } from './print/render.ts'
import { auditRoutes } from './routes/audit.ts'
import { authRoutes } from './routes/auth.ts'
import { editRoutes } from './routes/edits.ts'
import { exportRoutes } from './routes/exports.ts'
import { gridEditorRoutes } from './routes/grid-editor.ts'
import { analysisRoutes } from './routes/analysis.ts'
import { importRoutes } from './routes/ledger-import.ts'
import { printRoutes } from './routes/print.ts'
import { ogcRoutes } from './routes/ogc.ts'
import { evacuationRoutes } from './routes/evacuation.ts'
import { wallRoutes } from './routes/wall.ts'
import { reportRoutes } from './routes/reports.ts'
import { eventRoutes } from './routes/events.ts'
import { fieldRoutes } from './routes/field.ts'
import type { EventHub } from './events/hub.ts'
import { rainRoutes } from './routes/rain.ts'
import { recordRoutes } from './routes/records.ts'
import { taskRoutes } from './routes/tasks.ts'
import { tileRoutes } from './routes/tiles.ts'
import { styleRoutes } from './routes/styles.ts'
import { unitRoutes } from './routes/units.ts'
import { hexagonRoutes } from './routes/hexagons.ts'
import { userRoutes } from './routes/users.ts'
import { tokenRoutes } from './routes/tokens.ts'
import { inlineScriptHashes, securityHeaders } from './security-headers.ts'
import { limitBodies } from './edge/body-limits.ts'
import { refuseControlCharacters } from './edge/control-characters.ts'
import { noteAnswer } from './edge/access-log.ts'
import { markWrites } from './edge/read-your-writes.ts'
import { clientAddressOf, proxySettingsFromEnv, type ProxySettings } from './proxy.ts'
import type { TileService } from '../tiles/service.ts'
import { systemClock, type Clock } from './clock.ts'

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
  ready?: () => Promise<{ ready: boolean; stage?: string; zh?: string; en?: string; replica?: ReplicaLag }>
  /**
   * This server as its own print renders reach it, http://127.0.0.1:<port>,
   * once it listens (startServer knows the port). Without it nothing prints:
   * an origin from the request would let a forged Host choose the address.
   */
  loopbackOrigin?: () => string | undefined
  /** Places for expensive work (print, analysis jobs, exports); one set per app by default. */
  limits?: WorkLimiters
  /** Origins whose pages may read tiles, the OGC API and exports (default: GRIDWATCH_CORS_ORIGINS). */
  corsOrigins?: readonly string[]
  /** Now, for overdue checklists, current rain, storm ends and login throttles (tests fix it; default the system clock). */
  clock?: Clock
}

export function createApp(deps: AppDeps) {
  const app = new Hono()
  const basemap = deps.basemap === undefined ? config.basemap : deps.basemap
  const proxy = deps.proxy ?? proxySettingsFromEnv()
  const limits = deps.limits ?? workLimiters()
  const printJobs = new PrintJobs({ origin: deps.loopbackOrigin ?? (() => undefined), alsoAllowed: basemapOrigins(basemap), sessions: deps.sessions })

  const fieldPage = deps.webDist ? path.join(deps.webDist, 'm', 'index.html') : null
  const scriptHashes = fieldPage && fs.existsSync(fieldPage) ? inlineScriptHashes(fs.readFileSync(fieldPage, 'utf8')) : []
  app.use('*', securityHeaders({ basemap, frameAncestors: config.frameAncestors, scriptHashes }))
  // Before anything reads a body or looks up a session: hostile input stops here.
  app.use('*', limitBodies())
  // Before any login check: a preflight carries no session.
  const corsOrigins = deps.corsOrigins ?? parseCorsOrigins(config.corsOrigins)
  for (const path of ['/tiles/*', '/styles/*', '/ogc/*', '/api/export/*']) app.use(path, corsReads(corsOrigins))
  app.use('*', async (c, next) => {
    c.set('clientAddress', clientAddressOf(c, proxy))
    await next()
    // For the access line (api/edge/access-log.ts): the route that answered and who asked.
    noteAnswer(c)
  })
  for (const path of ['/api/*', '/tiles/*', '/styles/*', '/ogc/*']) app.use(path, refuseControlCharacters())
  app.use('/api/*', compress())
  for (const path of ['/api/*', '/tiles/*', '/styles/*']) {
    app.use(path, sessionLookup(deps.sessions, proxy))
    // Desktop GIS clients' personal access tokens: reads of tiles, styles and exports only (auth/token-auth.ts).
    app.use(path, tokenAuth(deps.sessions.tokens))
    app.use(path, csrfCheck(proxy))
    app.use(path, loginRequired(new Set(['/api/health', '/api/ready', '/api/config'])))
  }
  // A write's answer tells its writer how far a replica must have replayed for their next reads (db/replica.ts).
  app.use('/api/*', markWrites(deps.db.reads, proxy))
  // Password guesses slowed alike for the login form, the password change and HTTP Basic; counted in the database.
  const loginThrottle = new LoginThrottle(deps.db.sql, deps.clock)
  // OGC API – Features: read-only, for QGIS/GDAL too, so HTTP Basic is accepted beside the session cookie.
  app.use('/ogc/*', compress())
  app.use('/ogc/*', sessionLookup(deps.sessions, proxy))
  app.use('/ogc/*', tokenAuth(deps.sessions.tokens))
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
  app.route('/', tokenRoutes(deps.db.sql, deps.sessions.tokens))
  app.route('/', tileRoutes(deps.tiles, () => deps.bounds, proxy))
  app.route('/', styleRoutes(() => deps.bounds, proxy))
  app.route('/', unitRoutes(deps.db.reads))
  app.route('/', hexagonRoutes(deps.db, deps.clock ?? systemClock))
  app.route('/', recordRoutes(deps.db.sql))
  app.route('/', editRoutes(deps.db.sql))
  app.route('/', gridEditorRoutes(deps.db.sql))
  app.route('/', auditRoutes(deps.db.sql))
  const clock = deps.clock ?? systemClock
  app.route('/', rainRoutes(deps.db.sql, clock))
  app.route('/', taskRoutes(deps.db.sql, clock))
  // Heavy reads go through deps.db.reads (the read replica when configured and caught up); their writes (audit) to the primary.
  app.route('/', ogcRoutes(deps.db.reads, () => deps.bounds, proxy))
  app.route('/', exportRoutes(deps.db.sql, deps.db.reads, limits))
  app.route('/', analysisRoutes(deps.db.sql, deps.db.reads, limits))
  app.route('/', importRoutes(deps.db.sql))
  app.route('/', printRoutes(deps.db.sql, printJobs, limits))
  app.route('/', evacuationRoutes(deps.db.sql, { copy: deps.db.copyIn }))
  app.route('/', eventRoutes(deps.events, deps.sessions))
  app.route('/', wallRoutes(deps.db.sql, clock))
  app.route('/', reportRoutes(deps.db.sql, clock, { copy: deps.db.copyIn }))
  app.route('/', fieldRoutes(deps.db.sql, clock))

  app.all('/api/*', (c) => c.json(errorBody('not_found', `没有这个接口：${c.req.path}`, `no such API route: ${c.req.path}`), 404))

  if (deps.webDist && fs.existsSync(path.join(deps.webDist, 'index.html'))) {
    const root = path.relative(process.cwd(), deps.webDist)
    // The field app (/m, its own page and bundle): /m/ is its scope, the service worker's too.
    app.get('/m', (c) => c.redirect('/m/'))
    // The bundle's files carry a content hash in their names (Vite): kept a year, never asked again — a
    // second visit starts from the browser's cache, as behind nginx (deploy/nginx/gridwatch.conf /assets/).
    // Scripts and styles as the build compressed them (.br/.gz beside each, vite.config.ts): a phone on a slow
    // line gets a third of the bytes (issue #19).
    app.use('/assets/*', serveStatic({ root, precompressed: true, onFound: (_, c) => void c.header('Cache-Control', 'public, max-age=31536000, immutable') }))
    // The field app's page holds its scripts (vite.config.ts fieldApp): 289 KB raw, 78 KB as br. Asked again on
    // every start with a signal, never kept by the browser's own cache (the service worker keeps it for offline).
    const fieldAppPage = serveStatic({ root, path: 'm/index.html', precompressed: true, onFound: (_, c) => void c.header('Cache-Control', 'no-cache') })
    app.get('/m/', etag(), fieldAppPage)
    app.get('/m/index.html', etag(), fieldAppPage)
    app.use('/*', serveStatic({ root }))
    app.get('/m/*', etag(), fieldAppPage)
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
