import { randomBytes } from 'node:crypto'
import { cliActor, createAccount } from '../../api/auth/accounts.ts'
import type { Role } from '../../api/auth/policy.ts'
import type { RunningServer } from '../../api/server.ts'

export const TEST_PASSWORD = 'Test-password-2026'

export interface Client {
  username: string
  userId: number
  csrfToken: string
  cookie: string
  /** fetch against the server, with the session cookie; writes carry the CSRF token unless `csrf: false`. */
  fetch(path: string, init?: RequestInit & { csrf?: boolean }): Promise<Response>
  /** JSON request helpers. */
  get(path: string): Promise<Response>
  send(method: string, path: string, body: unknown, opts?: { csrf?: string | false }): Promise<Response>
}

/** Creates an account with a fresh name and logs it in over HTTP. */
export async function loginAs(s: RunningServer, role: Role, unitCode: string): Promise<Client> {
  const username = `t${role.replace('_', '')}${randomBytes(4).toString('hex')}`
  const acc = await createAccount(s.db.sql, { username, displayName: `测试${role}`, role, unitCode, password: TEST_PASSWORD }, cliActor('test'))
  return login(s, username, TEST_PASSWORD, acc.id as number)
}

export async function login(s: RunningServer, username: string, password: string, userId = 0): Promise<Client> {
  const r = await fetch(`${s.url}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password }) })
  if (r.status !== 200) throw new Error(`login as ${username} failed: ${r.status} ${await r.text()}`)
  const body = await r.json()
  const cookie = (r.headers.get('Set-Cookie') ?? '').split(';')[0]
  const client: Client = {
    username,
    userId: userId || body.user.id,
    csrfToken: body.csrfToken,
    cookie,
    fetch: (path, init = {}) => {
      const headers = new Headers(init.headers)
      headers.set('Cookie', cookie)
      if (init.csrf !== false && init.method && init.method !== 'GET') headers.set('X-CSRF-Token', body.csrfToken)
      return fetch(s.url + path, { ...init, headers })
    },
    get: (path) => client.fetch(path),
    send: (method, path, payload, opts = {}) => {
      const headers: Record<string, string> = { 'Content-Type': 'application/json', Cookie: cookie }
      if (opts.csrf !== false) headers['X-CSRF-Token'] = opts.csrf ?? body.csrfToken
      return fetch(s.url + path, { method, headers, body: JSON.stringify(payload) })
    },
  }
  return client
}
