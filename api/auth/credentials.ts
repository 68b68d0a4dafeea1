/**
 * Checking a username and password: one code path for the login form and for
 * HTTP Basic on /ogc, so that both count failures toward the same account
 * lockout and per-address limit, and audit failed attempts alike.
 */
import { getConnInfo } from '@hono/node-server/conninfo'
import type { Context } from 'hono'
import type { Sql } from '../db/connect.ts'
import { auditEvent, writeTx } from '../db/write.ts'
import { HttpError } from '../errors.ts'
import { verifyPassword } from './passwords.ts'
import type { AttemptLimiter } from './rate-limit.ts'

/** Failed logins in a row that lock an account, and for how long. */
export const LOCKOUT = { failures: 5, minutes: 15 }
/** Failed logins per client address per window, after which that address waits. */
export const LOGIN_RATE = { max: 20, windowMs: 10 * 60_000 }

export function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown'
  } catch {
    return 'unknown'
  }
}

const locked = (minutes: number) =>
  new HttpError(423, 'account_locked', `连续登录失败次数过多，账号已锁定，请 ${minutes} 分钟后再试`, `too many failed logins: account locked; retry in ${minutes} min`)

export interface CheckedAccount {
  id: number
  username: string
  role: string
  passwordHash: string
  failedLogins: number
}

/**
 * The account when the password is right, it is not locked and not disabled;
 * otherwise the failure is counted (account and address), audited, and a
 * 429/423/401/403 thrown. `c` gives the client address (and takes Retry-After).
 */
export async function checkCredentials(c: Context, sql: Sql, limiter: AttemptLimiter, username: string, password: string): Promise<CheckedAccount> {
  const ip = clientAddress(c)
  const wait = limiter.wait(ip)
  if (wait) {
    c.header('Retry-After', String(wait))
    throw new HttpError(429, 'too_many_attempts', `登录尝试过多，请 ${Math.ceil(wait / 60)} 分钟后再试`, `too many login attempts; retry in ${Math.ceil(wait / 60)} min`)
  }
  const [u] = await sql`SELECT id, username, role, password_hash, disabled, failed_logins, locked_until > now() AS locked,
                               ceil(extract(epoch FROM locked_until - now()) / 60)::int AS minutes
                        FROM users WHERE username = ${username}`
  if (u?.locked) throw locked(u.minutes as number)
  const ok = await verifyPassword((u?.password_hash as string) ?? null, password)
  const actor = { id: (u?.id as number) ?? null, username: u ? username : `anonymous:${username.slice(0, 32)}`, role: (u?.role as string) ?? 'none' }
  if (!ok) {
    limiter.fail(ip)
    let nowLocked = false
    await writeTx(sql, actor, async (tx) => {
      if (u) {
        const [r] = await tx`UPDATE users SET failed_logins = failed_logins + 1,
                               locked_until = CASE WHEN failed_logins + 1 >= ${LOCKOUT.failures}
                                                   THEN now() + ${LOCKOUT.minutes} * interval '1 minute' END
                             WHERE id = ${u.id as number} RETURNING locked_until IS NOT NULL AS locked`
        nowLocked = r.locked as boolean
      }
      await auditEvent(tx, { action: 'login_failed', table: 'users', rowId: u ? String(u.id) : null, after: { ip } })
    })
    if (nowLocked) throw locked(LOCKOUT.minutes)
    throw new HttpError(401, 'bad_credentials', '用户名或密码错误', 'wrong username or password')
  }
  if (u.disabled) throw new HttpError(403, 'account_disabled', '该账号已停用，请联系管理员', 'this account is disabled; ask an administrator')
  return { id: u.id as number, username: u.username as string, role: u.role as string, passwordHash: u.password_hash as string, failedLogins: u.failed_logins as number }
}
