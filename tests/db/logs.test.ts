/**
 * The log of a running server (issue #21): JSON lines when not on a terminal, one access line per
 * request with its request id, route, status, time and user; an error line keeps its stack and the
 * request id; and no password or session cookie in any line — the demo password printed once, at the
 * start that creates the demo accounts, never again. Everything the process writes is read, from a real
 * process started as production starts it (not quiet, stdout a pipe).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_PASSWORD } from '../../api/auth/demo-accounts.ts'
import { SESSION_COOKIE } from '../../api/auth/sessions.ts'
import { fetchFrom, freshAddress } from '../helpers/from-address.ts'

const root = path.resolve(import.meta.dirname, '../..')

interface Server {
  proc: ChildProcess
  url: string
  out: () => string
  stop(): Promise<void>
}

/** Starts tests/helpers/serve-logged.ts on `dataDir` and waits until it is ready. */
async function start(dataDir: string): Promise<Server> {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'tests/helpers/serve-logged.ts')], {
    cwd: root,
    // Only 127.0.0.1 is our "nginx": its X-Request-Id is believed, another address's is not.
    env: { ...process.env, GRIDWATCH_DATA_DIR: dataDir, LOG_LEVEL: 'info', GRIDWATCH_LOG_FORMAT: '', GRIDWATCH_TRUST_PROXY: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()))
  const exit = new Promise<void>((r) => proc.once('exit', () => r()))
  const deadline = Date.now() + 400_000
  while (!/"msg":"ready"/.test(out)) {
    if (proc.exitCode !== null) throw new Error(`server exited: ${out}`)
    if (Date.now() > deadline) throw new Error(`server did not start: ${out}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  const url = /"msg":"listening (http:\/\/[^"]+)"/.exec(out)![1]
  return {
    proc, url, out: () => out,
    async stop() {
      proc.kill('SIGTERM')
      await exit
    },
  }
}

/** Every line of the output, each of which must be JSON. */
function lines(out: string): Record<string, unknown>[] {
  return out.split('\n').filter((l) => l.trim()).map((l) => {
    try {
      return JSON.parse(l) as Record<string, unknown>
    } catch {
      throw new Error(`not a JSON line: ${l}`)
    }
  })
}

const accessLines = (out: string) => lines(out).filter((l) => l.access === true)

describe('the log: JSON lines, access lines, no secrets', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridwatch-logs-'))
  let first: Server
  let firstOut = ''
  const WRONG = 'Wrong-guess-58213'
  const NEW_PASSWORD = 'Brand-new-secret-7731'
  const TYPED_AS_NAME = 'Oops-password-in-name-4409'
  const secrets: string[] = [WRONG, NEW_PASSWORD, TYPED_AS_NAME]
  let userId = 0

  beforeAll(async () => {
    first = await start(dataDir)
  })
  afterAll(async () => {
    if (first?.proc.exitCode === null) first.proc.kill('SIGKILL')
    fs.rmSync(dataDir, { recursive: true, force: true })
  })

  it('logs in (wrong, then right), changes the password, fails once; every request has its line and nothing secret', async () => {
    const post = (p: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(first.url + p, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) })

    const wrong = await post('/api/auth/login', { username: 'admin', password: WRONG })
    expect(wrong.status).toBe(401)
    const typo = await post('/api/auth/login', { username: TYPED_AS_NAME, password: WRONG })
    expect(typo.status).toBe(401)

    // Our nginx's request id is kept, and answered back.
    const nginxId = 'f3a9c0de1b2a4c5d9e8f7a6b5c4d3e2f'
    const ok = await post('/api/auth/login', { username: 'admin', password: DEMO_PASSWORD }, { 'X-Request-Id': nginxId })
    expect(ok.status).toBe(200)
    expect(ok.headers.get('X-Request-Id')).toBe(nginxId)
    const me = await ok.json()
    userId = me.user.id
    const session = ok.headers.getSetCookie().map((c) => c.split(';')[0]).find((c) => c.startsWith(`${SESSION_COOKIE}=`))!
    const cookies = ok.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
    secrets.push(session.split('=')[1], me.csrfToken)
    const authed = { Cookie: cookies, 'X-CSRF-Token': me.csrfToken }

    const badCurrent = await post('/api/auth/password', { current: WRONG, next: NEW_PASSWORD }, authed)
    expect(badCurrent.status).toBe(400)
    const changed = await post('/api/auth/password', { current: DEMO_PASSWORD, next: NEW_PASSWORD }, authed)
    expect(changed.status).toBe(200)

    // An id that is not a short safe token is replaced; so is a safe one from a peer that is not our proxy.
    const unsafe = await fetch(`${first.url}/api/health`, { headers: { 'X-Request-Id': `x${'a'.repeat(100)}` } })
    expect(unsafe.headers.get('X-Request-Id')).toMatch(/^[0-9a-f-]{36}$/)
    const stranger = await fetchFrom(freshAddress())(`${first.url}/api/health`, { headers: { 'X-Request-Id': 'from-a-stranger-123' } })
    expect(stranger.headers.get('X-Request-Id')).not.toBe('from-a-stranger-123')

    const units = await fetch(`${first.url}/api/units/530626000000`, { headers: { Cookie: cookies } })
    // A tile: answered by the fast path in front of Hono (api/tile-fast-path.ts), logged all the same.
    const tile = await fetch(`${first.url}/tiles/admin/8/202/110.mvt`, { headers: { Cookie: cookies } })
    expect([200, 204]).toContain(tile.status)
    const failed = await fetch(`${first.url}/test-only/fail`, { headers: { Cookie: cookies } })
    expect(failed.status).toBe(500)
    const failedId = failed.headers.get('X-Request-Id')!
    await first.stop()
    firstOut = first.out()

    const access = accessLines(firstOut)
    const line = (id: string) => access.find((l) => l.reqId === id)!
    // One access line per request, each with its own id.
    const ids = [wrong, typo, ok, badCurrent, changed, unsafe, stranger, units, failed, tile].map((r) => r.headers.get('X-Request-Id')!)
    expect(new Set(ids).size).toBe(ids.length)
    for (const id of ids) expect(access.filter((l) => l.reqId === id), id).toHaveLength(1)

    expect(line(nginxId)).toMatchObject({ method: 'POST', path: '/api/auth/login', route: '/api/auth/login', status: 200, user: { id: userId, username: 'admin' } })
    expect(line(ids[0])).toMatchObject({ route: '/api/auth/login', status: 401 })
    expect(line(ids[0]).user).toBeUndefined()
    expect(line(ids[4])).toMatchObject({ route: '/api/auth/password', status: 200, user: { id: userId, username: 'admin' } })
    expect(line(ids[7])).toMatchObject({ path: '/api/units/530626000000', route: '/api/units/:code', status: units.status, user: { username: 'admin' } })
    expect(line(ids[9])).toMatchObject({ method: 'GET', path: '/tiles/admin/8/202/110.mvt', route: '/tiles/:layer/:z/:x/:file', status: tile.status, user: { id: userId, username: 'admin' } })
    for (const l of access) {
      expect(typeof l.ms).toBe('number')
      expect(l.level).toBe('info')
      expect(typeof l.time).toBe('string')
    }

    // The 500: its access line, and an error line with the stack and the same request id.
    // (Outside /api and /tiles no session is looked up: no user on this one.)
    expect(line(failedId)).toMatchObject({ status: 500, route: '/test-only/fail', path: '/test-only/fail' })
    const error = lines(firstOut).find((l) => l.level === 'error' && l.reqId === failedId)
    expect(error, firstOut).toBeDefined()
    expect((error!.err as { stack: string }).stack).toContain('a bug, for the log test')

    // No password, session cookie or CSRF token in any line.
    for (const secret of secrets) expect(firstOut, secret).not.toContain(secret)
  })

  it('prints the demo password once, at the start that created the accounts, and never again', async () => {
    const withPassword = lines(firstOut).filter((l) => JSON.stringify(l).includes(DEMO_PASSWORD))
    expect(withPassword).toHaveLength(1)
    expect(withPassword[0].msg).toMatch(/demo password/)
    expect(lines(firstOut).some((l) => String(l.msg).includes('admin') && String(l.msg).includes('530600000000'))).toBe(true)

    const second = await start(dataDir)
    try {
      await fetch(`${second.url}/api/health`)
    } finally {
      await second.stop()
    }
    const out = second.out()
    expect(out).not.toContain(DEMO_PASSWORD)
    expect(out).not.toContain(NEW_PASSWORD)
    // The accounts are still listed, with where the password went.
    expect(lines(out).some((l) => String(l.msg).includes('shown at the first start only'))).toBe(true)
    expect(accessLines(out).some((l) => l.path === '/api/health' && l.status === 200)).toBe(true)
  })
})
