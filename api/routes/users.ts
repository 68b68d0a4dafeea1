import { Hono } from 'hono'
import { z } from 'zod'
import { accountColumns, checkRoleScope, createAccount, newAccountSchema, unitCodeSchema } from '../auth/accounts.ts'
import { authorize } from '../auth/guard.ts'
import { checkPasswordRules, hashPassword } from '../auth/passwords.ts'
import { roles, scopePrefix } from '../auth/policy.ts'
import type { SessionStore } from '../auth/sessions.ts'
import type { Sql } from '../db/connect.ts'
import { writeTx } from '../db/write.ts'
import { HttpError, notFound, parseId } from '../errors.ts'
import { readJson } from '../validate.ts'

const USER = { zh: '账号', en: 'account' }

const accountPatch = z
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

/**
 * Account management, for admins, inside their own area: an admin of a
 * county lists and manages that county's accounts only, and cannot place an
 * account (least of all an admin or a commander) outside it.
 */
export function userRoutes(sql: Sql, sessions: SessionStore) {
  const app = new Hono()

  app.get('/api/users', async (c) => {
    const admin = authorize(c, 'user.manage')
    return c.json(await sql`SELECT ${accountColumns(sql)} FROM users WHERE unit_code LIKE ${scopePrefix(admin.unitCode) + '%'} ORDER BY username`)
  })

  app.post('/api/users', async (c) => {
    authorize(c, 'user.manage')
    const body = await readJson(c, newAccountSchema)
    const admin = authorize(c, 'user.manage', body.unitCode)
    return c.json(await createAccount(sql, body, admin, { mustChange: true }), 201)
  })

  app.patch('/api/users/:id', async (c) => {
    authorize(c, 'user.manage')
    const id = parseId(c.req.param('id'), USER)
    const p = await readJson(c, accountPatch)
    const [cur] = await sql`SELECT username, role, unit_code, disabled, version FROM users WHERE id = ${id}`
    if (!cur) throw notFound(USER, String(id))
    // Where the account is, and where it would go.
    authorize(c, 'user.manage', cur.unit_code as string)
    const admin = authorize(c, 'user.manage', p.unitCode)
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
    return c.json(row)
  })
  return app
}
