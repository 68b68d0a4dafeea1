import { randomBytes } from 'node:crypto'
import { cliActor, createAccount } from '../../api/auth/accounts.ts'
import type { RunningServer } from '../../api/server.ts'
import { writeTx } from '../../api/db/write.ts'

/**
 * A viewer account for one benchmark run, logged in: the data is behind a
 * login, so the benchmark pays for the session check as a person would.
 * `end()` removes the account.
 */
export async function benchSession(server: RunningServer): Promise<{ cookie: string; end(): Promise<void> }> {
  const [city] = await server.db.sql`SELECT code FROM admin_units WHERE level = 'city'`
  const password = `Bench-${randomBytes(9).toString('base64url')}`
  const username = `bench-${randomBytes(4).toString('hex')}`
  const acc = await createAccount(server.db.sql, { username, displayName: '基准测试', role: 'viewer', unitCode: city.code as string, password }, cliActor('bench'))
  const r = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password }) })
  if (r.status !== 200) throw new Error(`bench login failed: ${r.status} ${await r.text()}`)
  const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0]
  return {
    cookie,
    end: () => writeTx(server.db.sql, cliActor('bench'), async (tx) => void (await tx`DELETE FROM users WHERE id = ${acc.id as number}`)),
  }
}
