import { forbiddenScope, type SessionUser } from '../auth/guard.ts'
import type { Sql } from '../../db/connect.ts'
import { notFound } from '../../core/errors.ts'
import { inScope } from '../../core/units.ts'

export const PHOTO = { zh: '照片', en: 'photo' }

/**
 * A photo sent from the field (a visit's, a 三查 item's or a report's), for a
 * reader whose area holds where it was taken; `thumb`: its thumbnail (made on
 * the phone, kept beside it), or the photo itself when it came without one
 * (phones before thumbnails) — `thumb` then says false.
 */
export async function fieldPhoto(sql: Sql, user: SessionUser, id: number, size: 'full' | 'thumb' = 'full') {
  const [p] = size === 'thumb'
    ? await sql<{ mime: string; bytes: Buffer; unit_code: string; thumb: boolean }[]>`
        SELECT coalesce(thumb_mime, mime) AS mime, coalesce(thumb, bytes) AS bytes, unit_code, thumb IS NOT NULL AS thumb FROM field_photos WHERE id = ${id}`
    : await sql<{ mime: string; bytes: Buffer; unit_code: string; thumb: boolean }[]>`SELECT mime, bytes, unit_code, false AS thumb FROM field_photos WHERE id = ${id}`
  if (!p) throw notFound(PHOTO, String(id))
  if (!inScope(user.unitCode, p.unit_code)) throw forbiddenScope(user.unitCode, p.unit_code)
  return { mime: p.mime, bytes: new Uint8Array(p.bytes), thumb: p.thumb }
}

/** The photos of a household (its visits' and the 三查 items of tasks on it), newest first, for a reader whose area holds it. */
export async function householdPhotos(sql: Sql, user: SessionUser | undefined, householdId: number, householdCode: string, gridCode: string, limit = 12) {
  if (!user || !inScope(user.unitCode, gridCode)) return []
  return sql<{ id: number; at: Date; kind: 'visit' | 'check' }[]>`
    SELECT p.id::int AS id, p.taken_at AS at, CASE WHEN p.target LIKE 'household:%' THEN 'visit' ELSE 'check' END AS kind
    FROM field_photos p
    WHERE p.target = ${`household:${householdId}`}
       OR p.target LIKE ANY (SELECT 'task:' || t.id || '/%' FROM tasks t WHERE t.target_kind = 'household' AND t.target_code = ${householdCode})
    ORDER BY p.taken_at DESC, p.id DESC LIMIT ${limit}`
}
