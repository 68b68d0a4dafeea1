/**
 * Stopping the server loses nothing (issue #16 item 10): SIGTERM during a
 * county export let the download finish and the process exit cleanly; before,
 * the file was cut mid-way and PGlite died under the running cursor. And the
 * port says "starting" while the first start generates data (/api/ready).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import http from 'node:http'
import path from 'node:path'
import postgres from 'postgres'
import { afterAll, describe, expect, it } from 'vitest'

const root = path.resolve(import.meta.dirname, '../..')

interface Child {
  proc: ChildProcess
  out: () => string
  exit: Promise<number | null>
  /** Resolves with the first match of `re` in the output. */
  wait(re: RegExp, ms?: number): Promise<RegExpExecArray>
}

function spawnServer(env: Record<string, string> = {}): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'tests/helpers/serve-embedded.ts')], {
    cwd: root, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  const waiters: (() => void)[] = []
  const onData = (d: Buffer) => {
    out += d.toString()
    for (const w of waiters.splice(0)) w()
  }
  proc.stdout!.on('data', onData)
  proc.stderr!.on('data', onData)
  const exit = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)))
  return {
    proc, out: () => out, exit,
    wait(re, ms = 400_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${re} in: ${out}`)), ms)
        const check = () => {
          const m = re.exec(out)
          if (m) {
            clearTimeout(timer)
            resolve(m)
          } else waiters.push(check)
        }
        check()
        void exit.then(() => setTimeout(() => reject(new Error(`exited before ${re}: ${out}`)), 50))
      })
    },
  }
}

const children: Child[] = []
afterAll(() => {
  for (const c of children) c.proc.kill('SIGKILL')
})

describe('a stop that loses nothing, and a start that says what it does', () => {
  it('answers /api/ready 503 "starting" while seeding, then 200; /api/health all along', async () => {
    const child = spawnServer()
    children.push(child)
    const [, url] = await child.wait(/listening (http:\/\/\S+)/)
    const early = await fetch(`${url}/api/ready`)
    expect(early.status).toBe(503)
    expect(await early.json()).toMatchObject({ ready: false, stage: 'starting' })
    expect((await fetch(`${url}/api/health`)).status).toBe(200)
    const page = await fetch(`${url}/`)
    expect(page.status).toBe(503)
    expect(await page.text()).toContain('正在启动')
    const api = await fetch(`${url}/api/units/530600000000`)
    expect(api.status).toBe(503)
    expect((await api.json()).error.code).toBe('starting')
    await child.wait(/^ready$/m)
    const ready = await fetch(`${url}/api/ready`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({ ready: true, database: 'embedded' })
    child.proc.kill('SIGTERM')
    expect(await child.exit).toBe(0)
  }, 480_000)

  it('lets a running export finish on SIGTERM, refuses new requests meanwhile, and exits 0', async () => {
    const child = spawnServer()
    children.push(child)
    const [, url] = await child.wait(/listening (http:\/\/\S+)/)
    const [, dbUrl] = await child.wait(/database (postgres:\/\/\S+)/)
    await child.wait(/^ready$/m)
    // Rows of ~6 KB: the county's file (tens of MB) cannot sit in the sockets' buffers, so the cursor is mid-way at the stop.
    const sql = postgres(dbUrl, { max: 1, onnotice: () => {} })
    await sql`UPDATE households SET measures = repeat('加固房屋，', 400)`
    const [{ n }] = await sql`SELECT count(*)::int AS n FROM households`
    await sql.end()
    const login = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'commander', password: 'Zhaotong-2026' }) })
    expect(login.status).toBe(200)
    const cookie = (login.headers.get('Set-Cookie') ?? '').split(';')[0]
    const county = (await login.json()).user.unitCode as string

    const u = new URL(`${url}/api/export/households.csv?unit=${county}`)
    const download = await new Promise<{ res: http.IncomingMessage; first: Buffer }>((resolve, reject) => {
      http.get({ host: u.hostname, port: u.port, path: u.pathname + u.search, headers: { Cookie: cookie } }, (res) => {
        res.once('data', (first: Buffer) => {
          res.pause()
          resolve({ res, first })
        })
      }).on('error', reject)
    })
    expect(download.res.statusCode).toBe(200)
    const features = Number(download.res.headers['x-feature-count'])
    expect(features).toBe(n)

    child.proc.kill('SIGTERM')
    // A new request while stopping is refused (or the port is already closed): never half-served.
    let late: number | string = 200
    for (let i = 0; i < 100 && late === 200; i++) {
      await new Promise((r) => setTimeout(r, 50))
      late = await fetch(`${url}/api/ready`).then((r) => r.status, () => 'closed')
    }
    expect([503, 'closed']).toContain(late)

    // Read the rest slowly: the whole file arrives.
    const chunks = [download.first]
    download.res.on('data', (d: Buffer) => chunks.push(d))
    const complete = new Promise<boolean>((resolve) => {
      download.res.once('end', () => resolve(download.res.complete))
      download.res.once('error', () => resolve(false))
      download.res.once('aborted', () => resolve(false))
    })
    download.res.resume()
    expect(await complete).toBe(true)
    const text = Buffer.concat(chunks).toString('utf8')
    // Header + one line a household (measures hold no line breaks).
    expect(text.trimEnd().split('\n').length).toBe(n + 1)
    expect(await child.exit).toBe(0)
    expect(child.out()).not.toMatch(/unexpected state|Uncaught|RuntimeError/)
  }, 480_000)
})
