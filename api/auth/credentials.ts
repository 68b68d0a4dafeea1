/**
 * Checking a username and password: one code path for the login form and for HTTP Basic on /ogc, so
 * that both are slowed by the same throttles (throttle.ts) and audit failed attempts alike.
 */
import { getConnInfo } from '@hono/node-server/conninfo'
import type { Context } from 'hono'
import type { Sql } from '../../db/connect.ts'
import { auditEvent, writeTx } from '../../db/write.ts'
import { HttpError } from '../../core/errors.ts'
import { verifyPassword } from './passwords.ts'
import type { Attempt, LoginThrottle, Ticket } from './throttle.ts'
import { TooManyAttempts } from './throttle-rules.ts'

/** The client's address as the edge worked it out (api/proxy.ts: X-Forwarded-For only from a trusted proxy), else the peer's. */
export function clientAddress(c: Context): string {
  const known = c.get('clientAddress')
  if (known) return known
  try {
    return getConnInfo(c).remote.address ?? 'unknown'
  } catch {
    return 'unknown'
  }
}

/** Takes an attempt from the throttle; a wait is a 429 with Retry-After. */
export async function takeAttempt(c: Context, throttle: LoginThrottle, attempt: Attempt, what: 'login' | 'password'): Promise<Ticket> {
  try {
    return await throttle.take(attempt, what)
  } catch (e) {
    if (e instanceof TooManyAttempts) c.header('Retry-After', String(e.retryAfter))
    throw e
  }
}

export interface CheckedAccount {
  id: number
  username: string
  role: string
  passwordHash: string
}

/**
 * The account when the password is right and it is not disabled; otherwise the failure is audited
 * and a 429/401/403 thrown. A known name and an unknown one take the same path (the same counts,
 * argon2 on a decoy hash), so neither the answer nor its time tells which names exist.
 * `device`: the browser's device cookie, when it has one (the login form; HTTP Basic has none).
 */
export async function checkCredentials(
  c: Context, sql: Sql, throttle: LoginThrottle, username: string, password: string, device?: string,
): Promise<CheckedAccount> {
  const ip = clientAddress(c)
  const ticket = await takeAttempt(c, throttle, { username, address: ip, device }, 'login')
  const [u] = await sql`SELECT id, username, role, password_hash, disabled FROM users WHERE username = ${username}`
  const ok = await verifyPassword((u?.password_hash as string) ?? null, password)
  if (!ok) {
    const actor = { id: (u?.id as number) ?? null, username: u ? username : `anonymous:${username.slice(0, 32)}`, role: (u?.role as string) ?? 'none' }
    await writeTx(sql, actor, (tx) => auditEvent(tx, { action: 'login_failed', table: 'users', rowId: u ? String(u.id) : null, after: { ip } }))
    throw new HttpError(401, 'bad_credentials', '用户名或密码错误', 'wrong username or password')
  }
  // The password was right, so this was no guess; a disabled account's place is not remembered.
  await throttle.succeeded(ticket, u.disabled ? null : (u.id as number))
  if (u.disabled) throw new HttpError(403, 'account_disabled', '该账号已停用，请联系管理员', 'this account is disabled; ask an administrator')
  return { id: u.id as number, username: u.username as string, role: u.role as string, passwordHash: u.password_hash as string }
}
