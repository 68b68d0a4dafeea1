import { Hono } from 'hono'
import { authorize } from '../auth/guard.ts'
import { maskName, maskPhone } from '../auth/mask.ts'
import { roleMay } from '../auth/policy.ts'
import type { Sql } from '../db/connect.ts'
import { HttpError, notFound, parseId } from '../errors.ts'

/** For each table whose history can be asked for: how to find an object's code (its scope). */
const scopeOf: Record<string, { what: { zh: string; en: string }; code: (sql: Sql, id: number) => Promise<string | undefined> }> = {
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

function maskEntry(values: Record<string, unknown> | null) {
  if (!values) return values
  const out = { ...values }
  if (typeof out.householder === 'string') out.householder = maskName(out.householder)
  if (typeof out.phone === 'string') out.phone = maskPhone(out.phone)
  return out
}

/** Who changed an object, when, from what to what. */
export function auditRoutes(sql: Sql) {
  const app = new Hono()
  app.get('/api/audit/:table/:id', async (c) => {
    const table = c.req.param('table')
    const entry = scopeOf[table]
    if (!entry) {
      throw new HttpError(404, 'unknown_table', `没有这类对象的历史：${table}（可选 ${Object.keys(scopeOf).join('、')}）`,
        `no history for "${table}" (one of ${Object.keys(scopeOf).join(', ')})`)
    }
    const id = parseId(c.req.param('id'), entry.what)
    authorize(c, table === 'users' ? 'user.manage' : 'audit.read')
    const code = await entry.code(sql, id)
    if (code === undefined) throw notFound(entry.what, String(id))
    const user = authorize(c, table === 'users' ? 'user.manage' : 'audit.read', code)
    const rows = await sql`
      SELECT id, at, actor, actor_role AS "actorRole", action, before, after FROM audit_log
      WHERE table_name = ${table} AND row_id = ${String(id)} ORDER BY at DESC, id DESC LIMIT 200`
    const open = roleMay(user.role, 'personal.read')
    return c.json(open ? rows : rows.map((r) => ({ ...r, before: maskEntry(r.before as never), after: maskEntry(r.after as never) })))
  })
  return app
}
