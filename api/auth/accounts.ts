import { z } from 'zod'
import type { Sql } from '../../db/connect.ts'
import { writeTx, type Actor, type Tx } from '../../db/write.ts'
import { HttpError } from '../../core/errors.ts'
import { checkPasswordRules, hashPassword } from './passwords.ts'
import { levelWords, orList, roleWords } from '../../core/words.ts'
import { roles, type Role } from '../../core/policy.ts'
import { scopeLevel, type ScopeLevel } from '../../core/units.ts'

export const usernameSchema = z.string().regex(/^[a-z0-9][a-z0-9_.-]{2,31}$/, '3–32 lower-case letters, digits, . _ -')
export const unitCodeSchema = z.string().regex(/^[0-9]{12}([0-9]{3})?$/, 'a 12-digit admin code or a 15-digit grid code')

export const newAccountSchema = z.object({
  username: usernameSchema,
  displayName: z.string().trim().min(1).max(40),
  role: z.enum(roles),
  unitCode: unitCodeSchema,
  password: z.string(),
  /** A cadre's account (包保责任人): their roster entry in the grid; they see the households they answer for. */
  workerId: z.number().int().positive().max(2147483647).optional(),
})
export type NewAccount = z.infer<typeof newAccountSchema>

/** Which kinds of place each role may be given: a township officer belongs to a township, and so on. */
const scopeLevels: Record<Role, readonly ScopeLevel[]> = {
  admin: ['city', 'county'],
  commander: ['city', 'county'],
  township: ['township'],
  grid_worker: ['village', 'grid'],
  planner: ['city', 'county', 'township'],
  viewer: ['city', 'county', 'township'],
}

/** The 400 for a role given a kind of place it does not fit (a township officer on a village), in words; null when it fits. */
export function roleScopeProblem(role: Role, unitCode: string): HttpError | null {
  const level = scopeLevel(unitCode)
  if (scopeLevels[role].includes(level)) return null
  const want = orList(scopeLevels[role].map((l) => levelWords[l]))
  return new HttpError(400, 'bad_scope', `${roleWords[role].zh}不能分配到${levelWords[level].zh}（${unitCode}），应为${want.zh}`,
    `a ${roleWords[role].en} cannot be placed on a ${levelWords[level].en} (${unitCode}); expected a ${want.en}`)
}

/** 400 unless the role fits the place and the place exists. */
export async function checkRoleScope(sql: Sql | Tx, role: Role, unitCode: string) {
  const level = scopeLevel(unitCode)
  const problem = roleScopeProblem(role, unitCode)
  if (problem) throw problem
  const [found] = level === 'grid'
    ? await sql`SELECT 1 FROM grids WHERE code = ${unitCode} AND kind = 'basic'`
    : await sql`SELECT 1 FROM admin_units WHERE code = ${unitCode} AND level = ${level}`
  if (!found) throw new HttpError(400, 'unknown_unit', `没有这个区划或网格：${unitCode}`, `no admin unit or grid ${unitCode}`)
}

/** 400 unless `workerId` is a cadre (包保责任人) of the account's grid, on a grid worker's account; 409 when it has an account. */
async function checkCadre(sql: Sql | Tx, role: Role, unitCode: string, workerId: number) {
  const [w] = await sql`
    SELECT w.role, g.code, (SELECT 1 FROM users u WHERE u.worker_id = w.id) AS taken
    FROM grid_workers w JOIN grids g ON g.id = w.grid_id WHERE w.id = ${workerId}`
  if (role !== 'grid_worker' || !w || w.role !== '包保责任人' || w.code !== unitCode) {
    throw new HttpError(400, 'bad_cadre', `${workerId} 号不是网格 ${unitCode} 的包保责任人，或账号不是网格员账号`,
      `roster entry ${workerId} is not a cadre (包保责任人) of grid ${unitCode}, or the account is not a grid worker's`)
  }
  if (w.taken) throw new HttpError(409, 'cadre_taken', `${workerId} 号包保责任人已有账号`, `cadre ${workerId} already has an account`)
}

export const accountColumns = (sql: Sql | Tx) =>
  sql`id, username, display_name AS "displayName", role, unit_code AS "unitCode", disabled,
      must_change_password AS "mustChangePassword", created_at AS "createdAt", version`

/** Creates an account (checked as an admin's request would be); `by` is recorded in the audit log. */
export async function createAccount(sql: Sql, input: NewAccount, by: Actor, opts: { mustChange?: boolean } = {}) {
  const a = newAccountSchema.parse(input)
  checkPasswordRules(a.password, a.username)
  await checkRoleScope(sql, a.role, a.unitCode)
  if (a.workerId !== undefined) await checkCadre(sql, a.role, a.unitCode, a.workerId)
  const passwordHash = await hashPassword(a.password)
  return writeTx(sql, by, async (tx) => {
    const [taken] = await tx`SELECT 1 FROM users WHERE username = ${a.username}`
    if (taken) throw new HttpError(409, 'username_taken', `用户名已存在：${a.username}`, `username already taken: ${a.username}`)
    const [row] = await tx`
      INSERT INTO users (username, display_name, role, unit_code, password_hash, must_change_password, worker_id)
      VALUES (${a.username}, ${a.displayName}, ${a.role}, ${a.unitCode}, ${passwordHash}, ${opts.mustChange ?? false}, ${a.workerId ?? null})
      RETURNING ${accountColumns(tx)}`
    return row
  })
}

/** The actor for writes made from the command line rather than by a logged-in person. */
export const cliActor = (what: string): Actor => ({ id: null, username: `cli:${what}`, role: 'admin' })
