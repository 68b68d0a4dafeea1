import fs from 'node:fs'
import path from 'node:path'
import { config, projectRoot } from '../api/config.ts'
import { log, progress } from '../api/log.ts'
import { startServer } from '../api/server.ts'

const webDist = path.join(projectRoot, 'web', 'dist')

/** Newest modification time under a folder (the web sources). */
function newest(dir: string): number {
  let t = 0
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs)
  }
  return t
}

async function ensureWebBuild() {
  const index = path.join(webDist, 'index.html')
  const src = path.join(projectRoot, 'web', 'src')
  const haveApp = fs.existsSync(path.join(projectRoot, 'web', 'index.html')) && fs.existsSync(path.join(projectRoot, 'vite.config.ts'))
  if (!haveApp) {
    log.warn('没有前端源码，只提供 API 与瓦片 / no web app in this checkout: serving the API and tiles only')
    return
  }
  if (fs.existsSync(index) && fs.statSync(index).mtimeMs >= newest(src)) return
  const p = progress('构建前端 / building the web app (first start only, ~30 s)')
  const ticker = setInterval(() => p.update('vite build'), 2000)
  try {
    const { build } = await import('vite')
    await build({ configFile: path.join(projectRoot, 'vite.config.ts'), logLevel: 'warn' })
    p.done()
  } finally {
    clearInterval(ticker)
  }
}

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
