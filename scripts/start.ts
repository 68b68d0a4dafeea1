import { config } from '../core/config.ts'
import { log } from '../core/log.ts'
import { startServer } from '../api/server.ts'
import { runUntilStopped } from './run-until-stopped.ts'
import { ensureWebBuild, webDist } from './web-build.ts'

await runUntilStopped(async () => {
  // The web app builds beside the database's start and seeding; the map is served once both are done.
  const webBuilt = ensureWebBuild({ beside: true })
  webBuilt.catch(() => {}) // handled where startServer awaits it
  const server = await startServer({ webDist, stormInBackground: true, webBuilt })
  log.info(`gridwatch 已启动 / running at http://localhost:${server.port} (database: ${server.db.kind}, tiles: ${server.tiles.encoder}${config.databaseUrl ? '' : `, data in ${config.dataDir}`})`)
  return () => server.close()
})
