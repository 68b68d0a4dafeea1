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

/** Sets the user's own new password (the current one already checked), held to the password rules. */
export async function setOwnPassword(sql: Sql, user: SessionUser, input: { current: string; next: string }) {
  if (input.next === input.current) throw new HttpError(400, 'same_password', '新密码不能与当前密码相同', 'the new password must differ from the current one')
  checkPasswordRules(input.next, user.username)
  const hash = await hashPassword(input.next)
  await writeTx(sql, user, (tx) => tx`UPDATE users SET password_hash = ${hash}, must_change_password = false,
                                        password_changed_at = now(), version = version + 1 WHERE id = ${user.id}`)
}
