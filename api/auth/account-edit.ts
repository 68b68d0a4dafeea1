import { z } from 'zod'
import { accountColumns, checkRoleScope, unitCodeSchema } from './accounts.ts'
import { authorizeUser, type SessionUser } from './guard.ts'
import { checkPasswordRules, hashPassword } from './passwords.ts'
import type { SessionStore } from './sessions.ts'
import { roles } from '../../core/policy.ts'
import { scopePrefix } from '../../core/units.ts'
import type { Sql } from '../../db/connect.ts'
import { writeTx } from '../../db/write.ts'
import { HttpError, notFound } from '../../core/errors.ts'

export const USER = { zh: '账号', en: 'account' }

export const accountPatch = z
  .object({
    version: z.number().int().positive(),
    displayName: z.string().trim().min(1).max(40).optional(),
    role: z.enum(roles).optional(),
    unitCode: unitCodeSchema.optional(),
    disabled: z.boolean().optional(),
    /** A new password set by the admin; the person must change it at next login. */
    password: z.string().optional(),
  })
  .strict()

/** The accounts inside the admin's own area. */
export async function listAccounts(sql: Sql, user: SessionUser) {
  const admin = authorizeUser(user, 'user.manage')
  return sql`SELECT ${accountColumns(sql)} FROM users WHERE unit_code LIKE ${scopePrefix(admin.unitCode) + '%'} ORDER BY username`
}

/**
 * Changes an account the admin's area holds, and keeps it there; a new role,
 * place or password, or a disabled account, ends its open sessions.
 */
export async function editAccount(sql: Sql, user: SessionUser, sessions: SessionStore, input: { id: number; patch: z.infer<typeof accountPatch> }) {
  const { id, patch: p } = input
  const [cur] = await sql`SELECT username, role, unit_code, disabled, version FROM users WHERE id = ${id}`
  if (!cur) throw notFound(USER, String(id))
  // Where the account is, and where it would go.
  authorizeUser(user, 'user.manage', cur.unit_code as string)
  const admin = authorizeUser(user, 'user.manage', p.unitCode)
  if (cur.version !== p.version) {
    throw new HttpError(409, 'version_conflict', `账号已被他人修改（当前版本 ${cur.version}），请刷新后重试`, `the account was changed meanwhile (now version ${cur.version}); reload and retry`)
  }
  const role = p.role ?? (cur.role as typeof roles[number])
  const unitCode = p.unitCode ?? (cur.unit_code as string)
  if (p.role || p.unitCode) await checkRoleScope(sql, role, unitCode)
  if (id === admin.id && (p.disabled || (p.role && p.role !== 'admin'))) {
    throw new HttpError(400, 'self_lockout', '不能停用自己的账号或取消自己的管理员角色', 'you cannot disable your own account or drop your own admin role')
  }
  if (p.password !== undefined) checkPasswordRules(p.password, cur.username as string)
  const passwordHash = p.password === undefined ? undefined : await hashPassword(p.password)
  const set: Record<string, unknown> = {}
  if (p.displayName !== undefined) set.display_name = p.displayName
  if (p.role !== undefined) set.role = p.role
  if (p.unitCode !== undefined) set.unit_code = p.unitCode
  if (p.disabled !== undefined) set.disabled = p.disabled
  if (passwordHash) Object.assign(set, { password_hash: passwordHash, must_change_password: true })
  if (!Object.keys(set).length) throw new HttpError(400, 'nothing_to_change', '没有要修改的字段', 'no field to change')
  const row = await writeTx(sql, admin, async (tx) => {
    const [r] = await tx`UPDATE users SET ${tx(set)}, version = version + 1 WHERE id = ${id} AND version = ${p.version}
                         RETURNING ${accountColumns(tx)}`
    if (!r) throw new HttpError(409, 'version_conflict', '账号已被他人修改，请刷新后重试', 'the account was changed meanwhile; reload and retry')
    return r
  })
  // A new role, place or password, or a disabled account: their open sessions end now.
  if (p.role || p.unitCode || p.disabled || passwordHash) await sessions.endAllOf(id)
  return row
}
