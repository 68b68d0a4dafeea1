import { randomBytes } from 'node:crypto'
import { cliActor, createAccount } from '../../api/auth/accounts.ts'
import type { RunningServer } from '../../api/server.ts'
import { writeTx } from '../../db/write.ts'

/**
 * A viewer account for one benchmark run (of the city, or of `unitCode`),
 * logged in: the data is behind a login, so the benchmark pays for the
 * session check as a person would. Its name and password serve a login form.
 * `end()` removes the account.
 */
export async function benchSession(
  server: RunningServer, opts: { unitCode?: string } = {},
): Promise<{ cookie: string; username: string; password: string; end(): Promise<void> }> {
  const [city] = opts.unitCode ? [{ code: opts.unitCode }] : await server.db.sql`SELECT code FROM admin_units WHERE level = 'city'`
  const password = `Bench-${randomBytes(9).toString('base64url')}`
  const username = `bench-${randomBytes(4).toString('hex')}`
  const acc = await createAccount(server.db.sql, { username, displayName: '基准测试', role: 'viewer', unitCode: city.code as string, password }, cliActor('bench'))
  const r = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password }) })
  if (r.status !== 200) throw new Error(`bench login failed: ${r.status} ${await r.text()}`)
  const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0]
  return {
    cookie,
    username,
    password,
    end: () => writeTx(server.db.sql, cliActor('bench'), async (tx) => void (await tx`DELETE FROM users WHERE id = ${acc.id as number}`)),
  }
}
