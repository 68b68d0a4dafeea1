import fs from 'node:fs'
import { PGlite } from '@electric-sql/pglite'
import { postgis } from '@electric-sql/pglite-postgis'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'
import { progress } from '../log.ts'

export interface EmbeddedServer {
  pglite: PGlite
  host: string
  port: number
  stop(): Promise<void>
}

const serverFile = (dataDir: string) => `${dataDir}/gridwatch-server.json`

/** The socket URL of a gridwatch process serving the embedded database in `dataDir`, if one is running. */
export function runningEmbeddedUrl(dataDir: string): string | undefined {
  try {
    const { pid, port } = JSON.parse(fs.readFileSync(serverFile(dataDir), 'utf8')) as { pid: number; port: number }
    process.kill(pid, 0)
    return `postgres://postgres@127.0.0.1:${port}/postgres`
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
  try {
    if (dataDir) fs.mkdirSync(dataDir, { recursive: true })
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
      },
    }
  } catch (err) {
    const msg = String((err as Error).message ?? err)
    if (/lock|already/i.test(msg)) {
      throw new Error(`嵌入式数据库目录被占用 / the embedded database folder ${dataDir} is in use by another gridwatch process: ${msg}`)
    }
    throw err
  } finally {
    if (ticker) clearInterval(ticker)
  }
}
