import { config } from '../api/config.ts'
import { log } from '../api/log.ts'
import { startServer } from '../api/server.ts'
import { runUntilStopped } from './run-until-stopped.ts'
import { ensureWebBuild, webDist } from './web-build.ts'

await runUntilStopped(async () => {
  await ensureWebBuild()
  const server = await startServer({ webDist })
  log.info(`gridwatch 已启动 / running at http://localhost:${server.port} (database: ${server.db.kind}, tiles: ${server.tiles.encoder}${config.databaseUrl ? '' : `, data in ${config.dataDir}`})`)
  return () => server.close()
})
