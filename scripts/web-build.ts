import { spawn } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { projectRoot } from '../core/config.ts'
import { log, progress } from '../core/log.ts'

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
export async function ensureWebBuild(opts: { quiet?: boolean; beside?: boolean } = {}) {
  const index = path.join(webDist, 'index.html')
  const src = path.join(projectRoot, 'web', 'src')
  const sources = [src, path.join(projectRoot, 'web', 'index.html'), path.join(projectRoot, 'vite.config.ts'),
    ...['m', 'public'].map((d) => path.join(projectRoot, 'web', d)).filter((p) => fs.existsSync(p))]
  const haveApp = fs.existsSync(path.join(projectRoot, 'web', 'index.html')) && fs.existsSync(path.join(projectRoot, 'vite.config.ts'))
  if (!haveApp) {
    log.warn('没有前端源码，只提供 API 与瓦片 / no web app in this checkout: serving the API and tiles only')
    return
  }
  // Both pages: a build stopped between the desktop's and the field app's leaves the field app's missing or old.
  const pages = [index, path.join(webDist, 'm', 'index.html')]
  if (pages.every((p) => fs.existsSync(p) && fs.statSync(p).mtimeMs >= Math.max(...sources.map(newest)))) return
  const label = '构建前端 / building the web app (first start only, ~30 s)'
  // Beside the database's start (npm start) one plain line at each end: two progress lines would overwrite each other.
  const p = opts.quiet || opts.beside ? undefined : progress(label)
  if (opts.beside && !opts.quiet) log.info(`${label}, beside the database`)
  const started = Date.now()
  const ticker = setInterval(() => p?.update('vite build'), 2000)
  try {
    // The desktop map first: it empties web/dist, then the field app's page goes beside it.
    await viteBuild([])
    await viteBuild(['--mode', 'field'])
    p?.done()
    if (opts.beside && !opts.quiet) log.info(`前端已构建 / web app built (${((Date.now() - started) / 1000).toFixed(1)} s)`)
  } finally {
    clearInterval(ticker)
  }
}

/**
 * `vite build` in a child process: on a first start it runs beside the embedded
 * database, whose WebAssembly keeps this process's thread busy; two cores, two processes.
 */
function viteBuild(args: string[]) {
  const bin = path.join(path.dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js')
  return new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'build', '--config', path.join(projectRoot, 'vite.config.ts'), '--logLevel', 'warn', ...args], {
      // A production bundle whoever asks: vite takes NODE_ENV from the environment, and in a test run it is
      // vitest's "test", which built React's development code into the bundle (tests/browser/page-chunks.test.ts).
      cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production' },
    })
    // Its output (the bundler's timing notes) is shown only when the build fails.
    let output = ''
    for (const s of [child.stdout!, child.stderr!]) s.on('data', (d: Buffer) => void (output = (output + d.toString()).slice(-20_000)))
    // A start that fails (a busy port) leaves no build running behind it.
    const stop = () => child.kill()
    process.once('exit', stop)
    child.once('error', reject)
    child.once('exit', (code, signal) => (process.off('exit', stop), code === 0 ? resolve() : reject(new Error(`前端构建失败 / vite build failed (${signal ?? `exit ${code}`}):\n${output}`))))
  })
}
