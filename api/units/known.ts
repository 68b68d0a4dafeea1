import type { Sql } from '../../db/connect.ts'
import type { Tx } from '../../db/write.ts'
import { HttpError } from '../../core/errors.ts'

export interface KnownUnit { code: string; name: string; level: string }

/** The admin unit of this code, or a 404 naming it. */
export async function requireUnit(sql: Sql | Tx, code: string): Promise<KnownUnit> {
  const [u] = await sql<KnownUnit[]>`SELECT code, name, level FROM admin_units WHERE code = ${code}`
  if (!u) throw new HttpError(404, 'unknown_unit', `没有这个区划：${code}`, `no admin unit ${code}`)
  return u
}
