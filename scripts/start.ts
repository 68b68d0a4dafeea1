import { config } from '../api/config.ts'
import { log } from '../api/log.ts'
import { startServer } from '../api/server.ts'
import { ensureWebBuild, webDist } from './web-build.ts'

try {
  await ensureWebBuild()
  const server = await startServer({ webDist })
  log.info(`gridwatch 已启动 / running at http://localhost:${server.port} (database: ${server.db.kind}, tiles: ${server.tiles.encoder}${config.databaseUrl ? '' : `, data in ${config.dataDir}`})`)
  const stop = async () => {
    log.info('正在停止 / stopping…')
    await server.close()
    process.exit(0)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
} catch (err) {
  log.error(`启动失败 / failed to start: ${(err as Error).message}`)
  process.exit(1)
}
