import { z } from 'zod'
import type { Sql } from '../db/connect.ts'
import { writeTx, type Actor, type Tx } from '../db/write.ts'
import { HttpError } from '../errors.ts'
import { checkPasswordRules, hashPassword } from './passwords.ts'
import { roles, scopeLevel, type Role } from './policy.ts'

export const usernameSchema = z.string().regex(/^[a-z0-9][a-z0-9_.-]{2,31}$/, '3–32 lower-case letters, digits, . _ -')
export const unitCodeSchema = z.string().regex(/^[0-9]{12}([0-9]{3})?$/, 'a 12-digit admin code or a 15-digit grid code')

export const newAccountSchema = z.object({
  username: usernameSchema,
  displayName: z.string().trim().min(1).max(40),
  role: z.enum(roles),
  unitCode: unitCodeSchema,
  password: z.string(),
})
export type NewAccount = z.infer<typeof newAccountSchema>

/** Which kinds of place each role may be given: a township officer belongs to a township, and so on. */
const scopeLevels: Record<Role, readonly string[]> = {
  admin: ['city', 'county'],
  commander: ['city', 'county'],
  township: ['township'],
  grid_worker: ['village', 'grid'],
  planner: ['city', 'county', 'township'],
  viewer: ['city', 'county', 'township'],
}

/** 400 unless the role fits the place and the place exists. */
export async function checkRoleScope(sql: Sql | Tx, role: Role, unitCode: string) {
  const level = scopeLevel(unitCode)
  if (!scopeLevels[role].includes(level)) {
    throw new HttpError(400, 'bad_scope', `角色 ${role} 不能分配到${level}级（${unitCode}），应为：${scopeLevels[role].join('/')}`,
      `role ${role} cannot be scoped to a ${level} (${unitCode}); expected ${scopeLevels[role].join('/')}`)
  }
  const [found] = level === 'grid'
    ? await sql`SELECT 1 FROM grids WHERE code = ${unitCode} AND kind = 'basic'`
    : await sql`SELECT 1 FROM admin_units WHERE code = ${unitCode} AND level = ${level}`
  if (!found) throw new HttpError(400, 'unknown_unit', `没有这个区划或网格：${unitCode}`, `no admin unit or grid ${unitCode}`)
}

export const accountColumns = (sql: Sql | Tx) =>
  sql`id, username, display_name AS "displayName", role, unit_code AS "unitCode", disabled,
      must_change_password AS "mustChangePassword", created_at AS "createdAt", version`

/** Creates an account (checked as an admin's request would be); `by` is recorded in the audit log. */
export async function createAccount(sql: Sql, input: NewAccount, by: Actor, opts: { mustChange?: boolean } = {}) {
  const a = newAccountSchema.parse(input)
  checkPasswordRules(a.password, a.username)
  await checkRoleScope(sql, a.role, a.unitCode)
  const passwordHash = await hashPassword(a.password)
  return writeTx(sql, by, async (tx) => {
    const [taken] = await tx`SELECT 1 FROM users WHERE username = ${a.username}`
    if (taken) throw new HttpError(409, 'username_taken', `用户名已存在：${a.username}`, `username already taken: ${a.username}`)
    const [row] = await tx`
      INSERT INTO users (username, display_name, role, unit_code, password_hash, must_change_password)
      VALUES (${a.username}, ${a.displayName}, ${a.role}, ${a.unitCode}, ${passwordHash}, ${opts.mustChange ?? false})
      RETURNING ${accountColumns(tx)}`
    return row
  })
}

/** The actor for writes made from the command line rather than by a logged-in person. */
export const cliActor = (what: string): Actor => ({ id: null, username: `cli:${what}`, role: 'admin' })
