import type { SessionUser } from './guard.ts'
import { checkPasswordRules, hashPassword, verifyPassword } from './passwords.ts'
import type { Sql } from '../../db/connect.ts'
import { auditEvent, writeTx } from '../../db/write.ts'
import { HttpError } from '../../core/errors.ts'

/** A 400 unless `current` is the user's password; a wrong one is audited with the address it came from. */
export async function checkOwnPassword(sql: Sql, user: SessionUser, input: { current: string; ip: string }) {
  const [row] = await sql`SELECT password_hash FROM users WHERE id = ${user.id}`
  if (!(await verifyPassword(row?.password_hash as string, input.current))) {
    await writeTx(sql, user, (tx) => auditEvent(tx, { action: 'password_check_failed', table: 'users', rowId: String(user.id), after: { ip: input.ip } }))
    throw new HttpError(400, 'bad_current_password', '当前密码不正确', 'the current password is wrong')
  }
}

/**
 * Sets the user's own new password (the current one already checked), held to the password rules, and revokes
 * the user's personal access tokens in the same transaction: a password is changed because it may be known to
 * someone else, who may have made a token with it. Returns how many tokens were revoked. The caller ends the
 * other sessions, which also drops the tokens' cached user in every process (sessions.endAllOf).
 */
export async function setOwnPassword(sql: Sql, user: SessionUser, input: { current: string; next: string }): Promise<{ revokedTokens: number }> {
  if (input.next === input.current) throw new HttpError(400, 'same_password', '新密码不能与当前密码相同', 'the new password must differ from the current one')
  checkPasswordRules(input.next, user.username)
  const hash = await hashPassword(input.next)
  return writeTx(sql, user, async (tx) => {
    await tx`UPDATE users SET password_hash = ${hash}, must_change_password = false,
               password_changed_at = now(), version = version + 1 WHERE id = ${user.id}`
    // Audited one by one by the trigger of migration 019, as a revoke in the page is.
    const revoked = await tx`UPDATE access_tokens SET revoked_at = now() WHERE user_id = ${user.id} AND revoked_at IS NULL RETURNING id`
    return { revokedTokens: revoked.length }
  })
}
