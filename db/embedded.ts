import fs from 'node:fs'
import { PGlite } from '@electric-sql/pglite'
import { postgis } from '@electric-sql/pglite-postgis'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'
import { progress } from '../core/log.ts'

export interface EmbeddedServer {
  pglite: PGlite
  host: string
  port: number
  stop(): Promise<void>
}

const serverFile = (dataDir: string) => `${dataDir}/gridwatch-server.json`
const lockFile = (dataDir: string) => `${dataDir}/gridwatch.lock`

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Takes the data folder for this process, or says who has it. Two PGlite
 * instances on one folder overwrite each other's files and leave it unreadable
 * (seen: a second start while a first still ran, then "RuntimeError: Aborted()"
 * on every start after). A lock left by a process that is gone is taken over.
 */
export function lockDataDir(dataDir: string): () => void {
  fs.mkdirSync(dataDir, { recursive: true })
  const path = lockFile(dataDir)
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(path, String(process.pid), { flag: 'wx' })
      const release = () => {
        try {
          if (fs.readFileSync(path, 'utf8') === String(process.pid)) fs.rmSync(path, { force: true })
        } catch {
          // already gone
        }
      }
      process.once('exit', release)
      return release
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      const owner = Number(fs.readFileSync(path, 'utf8'))
      if (Number.isInteger(owner) && owner > 0 && alive(owner)) {
        throw new Error(`嵌入式数据库目录 ${dataDir} 正由另一个 gridwatch 进程（pid ${owner}）使用，请先停止它，或用 GRIDWATCH_DATA_DIR 指定其他目录 / ` +
          `the embedded database folder ${dataDir} is in use by another gridwatch process (pid ${owner}): stop it first, or set GRIDWATCH_DATA_DIR to another folder`, { cause: e })
      }
      fs.rmSync(path, { force: true }) // left by a process that is gone
    }
  }
  throw new Error(`could not lock ${dataDir}`)
}

/** The socket URL of a gridwatch process serving the embedded database in `dataDir`, if one is running. */
export function runningEmbeddedUrl(dataDir: string): string | undefined {
  try {
    const { pid, port } = JSON.parse(fs.readFileSync(serverFile(dataDir), 'utf8')) as { pid: number; port: number }
    return alive(pid) ? `postgres://postgres@127.0.0.1:${port}/postgres` : undefined
  } catch {
    return undefined
  }
}

/**
 * PGlite with PostGIS behind a loopback socket, so that postgres.js talks to it
 * exactly as it talks to a real server. `dataDir` undefined → in memory.
 */
export async function startEmbedded(dataDir: string | undefined, opts: { quiet?: boolean } = {}): Promise<EmbeddedServer> {
  const firstStart = !dataDir || !fs.existsSync(dataDir) || fs.readdirSync(dataDir).length === 0
  const p = opts.quiet ? undefined : progress('embedded PostGIS')
  const expect = firstStart ? '~15 s on first start' : '~5 s'
  const ticker = p && setInterval(() => p.update(`starting PGlite + PostGIS (${expect})`), 1000)
  p?.update(`starting PGlite + PostGIS (${expect})${dataDir ? ` in ${dataDir}` : ', in memory'}`)
  const unlock = dataDir ? lockDataDir(dataDir) : () => {}
  try {
    const pglite = await PGlite.create({ dataDir, extensions: { postgis } })
    p?.update('loading the postgis extension')
    await pglite.exec('CREATE EXTENSION IF NOT EXISTS postgis')
    // Port 0: the OS picks a free loopback port; 5432 belongs to the machine's own server.
    const server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port: 0, maxConnections: 16 })
    await server.start()
    const address = (server as unknown as { server: { address(): { port: number } } }).server.address()
    p?.done(`ready on 127.0.0.1:${address.port}`)
    // Command-line tools (npm run user) reach a running server's database through its socket.
    if (dataDir) fs.writeFileSync(serverFile(dataDir), JSON.stringify({ pid: process.pid, port: address.port }))
    return {
      pglite,
      host: '127.0.0.1',
      port: address.port,
      async stop() {
        if (dataDir) fs.rmSync(serverFile(dataDir), { force: true })
        await server.stop()
        await pglite.close()
        unlock()
      },
    }
  } catch (err) {
    unlock()
    const msg = String((err as Error).message ?? err)
    if (dataDir && /Aborted\(\)/.test(msg)) {
      throw new Error(`嵌入式数据库无法打开目录 ${dataDir}：其中的文件可能已损坏（例如写入时进程被强行终止）。演示数据可删除该目录后重新启动以重新生成 / ` +
        `the embedded database could not open ${dataDir}: its files may be damaged (for instance by a process killed while writing). ` +
        `Demo data is regenerated if you delete the folder and start again. (${msg})`, { cause: err })
    }
    if (/lock|already/i.test(msg)) {
      throw new Error(`嵌入式数据库目录被占用 / the embedded database folder ${dataDir} is in use by another gridwatch process: ${msg}`, { cause: err })
    }
    throw err
  } finally {
    if (ticker) clearInterval(ticker)
  }
}
