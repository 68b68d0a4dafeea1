import fs from 'node:fs'
import path from 'node:path'
import { projectRoot } from '../api/config.ts'
import { log, progress } from '../api/log.ts'

export const webDist = path.join(projectRoot, 'web', 'dist')

/** Newest modification time of a file or of anything under a folder. */
function newest(dir: string): number {
  if (!fs.statSync(dir).isDirectory()) return fs.statSync(dir).mtimeMs
  let t = 0
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs)
  }
  return t
}

/** Builds web/ with Vite when the build is missing or older than its sources (npm start, browser tests). */
export async function ensureWebBuild(opts: { quiet?: boolean } = {}) {
  const index = path.join(webDist, 'index.html')
  const src = path.join(projectRoot, 'web', 'src')
  const sources = [src, path.join(projectRoot, 'web', 'index.html'), path.join(projectRoot, 'vite.config.ts')]
  const haveApp = fs.existsSync(path.join(projectRoot, 'web', 'index.html')) && fs.existsSync(path.join(projectRoot, 'vite.config.ts'))
  if (!haveApp) {
    log.warn('没有前端源码，只提供 API 与瓦片 / no web app in this checkout: serving the API and tiles only')
    return
  }
  if (fs.existsSync(index) && fs.statSync(index).mtimeMs >= Math.max(...sources.map(newest))) return
  const p = opts.quiet ? undefined : progress('构建前端 / building the web app (first start only, ~30 s)')
  const ticker = setInterval(() => p?.update('vite build'), 2000)
  try {
    const { build } = await import('vite')
    await build({ configFile: path.join(projectRoot, 'vite.config.ts'), logLevel: 'warn' })
    p?.done()
  } finally {
    clearInterval(ticker)
  }
}
