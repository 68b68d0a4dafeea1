import { authorizeUser, type SessionUser } from '../auth/guard.ts'
import { maskName, maskPhone } from '../auth/mask.ts'
import { roleMay } from '../../core/policy.ts'
import type { Sql } from '../../db/connect.ts'
import { HttpError, notFound } from '../../core/errors.ts'

type Words = { zh: string; en: string }

/** For each table whose changes can be asked for: how to find an object's code (its scope). */
const scopeOf: Record<string, { what: Words; code: (sql: Sql, id: number) => Promise<string | undefined> }> = {
  households: {
    what: { zh: '农户', en: 'household' },
    code: async (sql, id) => (await sql`SELECT g.code FROM households h JOIN grids g ON g.id = h.grid_id WHERE h.id = ${id}`)[0]?.code as string,
  },
  grids: { what: { zh: '网格', en: 'grid' }, code: async (sql, id) => (await sql`SELECT code FROM grids WHERE id = ${id}`)[0]?.code as string },
  hazard_sites: {
    what: { zh: '隐患点', en: 'hazard site' },
    code: async (sql, id) => (await sql`SELECT admin_code AS code FROM hazard_sites WHERE id = ${id}`)[0]?.code as string,
  },
  shelters: {
    what: { zh: '避险点', en: 'shelter' },
    code: async (sql, id) => (await sql`SELECT v.code FROM shelters s JOIN admin_units v ON v.id = s.village_id WHERE s.id = ${id}`)[0]?.code as string,
  },
  admin_units: { what: { zh: '行政区划', en: 'admin unit' }, code: async (sql, id) => (await sql`SELECT code FROM admin_units WHERE id = ${id}`)[0]?.code as string },
  users: { what: { zh: '账号', en: 'account' }, code: async (sql, id) => (await sql`SELECT unit_code AS code FROM users WHERE id = ${id}`)[0]?.code as string },
}

/** The words for an object of `table`, or a 404 naming the tables there are. */
export function auditedTable(table: string): Words {
  const entry = scopeOf[table]
  if (!entry) {
    throw new HttpError(404, 'unknown_table', `没有这类对象的历史：${table}（可选 ${Object.keys(scopeOf).join('、')}）`,
      `no history for "${table}" (one of ${Object.keys(scopeOf).join(', ')})`)
  }
  return entry.what
}

function maskEntry(values: Record<string, unknown> | null) {
  if (!values) return values
  const out = { ...values }
  if (typeof out.householder === 'string') out.householder = maskName(out.householder)
  if (typeof out.phone === 'string') out.phone = maskPhone(out.phone)
  return out
}

/**
 * Who changed an object, when, from what to what (newest first, up to 200);
 * names and phones masked for a role that may not read them.
 */
export async function objectChanges(sql: Sql, user: SessionUser, input: { table: string; id: number }) {
  const entry = scopeOf[input.table]
  const what = auditedTable(input.table)
  const action = input.table === 'users' ? 'user.manage' : 'audit.read'
  authorizeUser(user, action)
  const code = await entry.code(sql, input.id)
  if (code === undefined) throw notFound(what, String(input.id))
  authorizeUser(user, action, code)
  const rows = await sql`
    SELECT a.id, a.at, a.actor, u.display_name AS "actorName", a.actor_role AS "actorRole", a.action, a.before, a.after
    FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id
    WHERE a.table_name = ${input.table} AND a.row_id = ${String(input.id)} ORDER BY a.at DESC, a.id DESC LIMIT 200`
  if (roleMay(user.role, 'personal.read')) return rows
  return rows.map((r) => ({ ...r, before: maskEntry(r.before as never), after: maskEntry(r.after as never) }))
}
