import { authorizeUser, type SessionUser } from '../auth/guard.ts'
import type { Tx } from '../../db/write.ts'
import { notFound } from '../../core/errors.ts'
import { HOUSEHOLD } from '../records/read.ts'

/** The grid code a household belongs to (its scope), locked for the write. */
export async function householdForWrite(tx: Tx, id: number) {
  const [h] = await tx`SELECT h.version, g.code AS grid_code FROM households h JOIN grids g ON g.id = h.grid_id WHERE h.id = ${id} FOR UPDATE OF h`
  if (!h) throw notFound(HOUSEHOLD, String(id))
  return h as { version: number; grid_code: string }
}

/**
 * Records a visit to a household in the writer's area. `at`: when it was made
 * (the field app sends the phone's time; default now). A visit recorded late
 * never moves the household's last visit back.
 */
export async function recordVisit(tx: Tx, user: SessionUser, id: number, input: { note?: string | null; at?: Date }) {
  authorizeUser(user, 'household.visit')
  const h = await householdForWrite(tx, id)
  authorizeUser(user, 'household.visit', h.grid_code)
  const at = input.at ? input.at.toISOString() : null
  const [v] = await tx`
    INSERT INTO visits (household_id, note, visited_at) VALUES (${id}, ${input.note ?? null}, coalesce(${at}::timestamptz, now()))
    RETURNING id, visited_at`
  await tx`UPDATE households SET last_visit_at = greatest(last_visit_at, ${v.visited_at as Date}) WHERE id = ${id}`
  return { ...(v as { id: string; visited_at: Date }), gridCode: h.grid_code }
}
