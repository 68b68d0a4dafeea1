import { forbiddenScope, type SessionUser } from '../auth/guard.ts'
import type { Sql } from '../../db/connect.ts'
import { notFound } from '../../core/errors.ts'
import { inScope } from '../../core/units.ts'

export const PHOTO = { zh: '照片', en: 'photo' }

/** A photo sent from the field (a 三查 item's or a report's), for a reader whose area holds where it was taken. */
export async function fieldPhoto(sql: Sql, user: SessionUser, id: number) {
  const [p] = await sql<{ mime: string; bytes: Buffer; unit_code: string }[]>`SELECT mime, bytes, unit_code FROM field_photos WHERE id = ${id}`
  if (!p) throw notFound(PHOTO, String(id))
  if (!inScope(user.unitCode, p.unit_code)) throw forbiddenScope(user.unitCode, p.unit_code)
  return { mime: p.mime, bytes: new Uint8Array(p.bytes) }
}
