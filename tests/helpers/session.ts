import { randomBytes } from 'node:crypto'
import { cliActor, createAccount } from '../../api/auth/accounts.ts'
import type { Role } from '../../core/policy.ts'
import { SESSION_COOKIE } from '../../api/auth/sessions.ts'
import type { RunningServer } from '../../api/server.ts'
import { fetchFrom } from './from-address.ts'
import { roleWords } from '../../core/words.ts'

export const TEST_PASSWORD = 'Test-password-2026'

export interface Client {
  username: string
  userId: number
  csrfToken: string
  /** The session cookie (name=value). */
  cookie: string
  /** The Cookie header it sends: the session and the device cookie set at login, as a browser would. */
  cookies: string
  /** fetch against the server, with the session cookie; writes carry the CSRF token unless `csrf: false`. */
  fetch(path: string, init?: RequestInit & { csrf?: boolean }): Promise<Response>
  /** JSON request helpers. */
  get(path: string): Promise<Response>
  send(method: string, path: string, body: unknown, opts?: { csrf?: string | false }): Promise<Response>
}

/** Where a test client connects from: a loopback address (127.0.0.1 when not given). */
export interface From {
  from?: string
}

/** Creates an account with a fresh name and logs it in over HTTP. */
export async function loginAs(s: RunningServer, role: Role, unitCode: string, opts: From = {}): Promise<Client> {
  const username = `t${role.replace('_', '')}${randomBytes(4).toString('hex')}`
  // A person's name, in Chinese as on a real roster: the suites share a database, and the accounts screen of another
  // suite lists every account (tests/browser/words-and-contrast.test.ts finds Latin letters on screen).
  const acc = await createAccount(s.db.sql, { username, displayName: `测试${roleWords[role].zh}`, role, unitCode, password: TEST_PASSWORD }, cliActor('test'))
  return login(s, username, TEST_PASSWORD, acc.id as number, opts)
}

export async function login(s: RunningServer, username: string, password: string, userId = 0, opts: From = {}): Promise<Client> {
  const fetch = opts.from ? fetchFrom(opts.from) : globalThis.fetch
  const r = await fetch(`${s.url}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password }) })
  if (r.status !== 200) throw new Error(`login as ${username} failed: ${r.status} ${await r.text()}`)
  const body = await r.json()
  const set = r.headers.getSetCookie().map((c) => c.split(';')[0])
  const cookie = set.find((c) => c.startsWith(`${SESSION_COOKIE}=`)) ?? ''
  const cookies = set.join('; ')
  const client: Client = {
    username,
    userId: userId || body.user.id,
    csrfToken: body.csrfToken,
    cookie,
    cookies,
    fetch: (path, init = {}) => {
      const headers = new Headers(init.headers)
      headers.set('Cookie', cookies)
      if (init.csrf !== false && init.method && init.method !== 'GET') headers.set('X-CSRF-Token', body.csrfToken)
      return fetch(s.url + path, { ...init, headers })
    },
    get: (path) => client.fetch(path),
    send: (method, path, payload, opts = {}) => {
      const headers: Record<string, string> = { 'Content-Type': 'application/json', Cookie: cookies }
      if (opts.csrf !== false) headers['X-CSRF-Token'] = opts.csrf ?? body.csrfToken
      return fetch(s.url + path, { method, headers, body: JSON.stringify(payload) })
    },
  }
  return client
}
