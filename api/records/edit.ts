import { authorizeUser, type SessionUser } from '../auth/guard.ts'
import type { Sql } from '../../db/connect.ts'
import { writeTx } from '../../db/write.ts'
import { householdForWrite } from '../households/visits.ts'
import { HttpError, notFound } from '../../core/errors.ts'
import { GRID, HOUSEHOLD } from './read.ts'

const stale = (what: { zh: string; en: string }, current: number, sent: number) =>
  new HttpError(409, 'version_conflict', `${what.zh}已被他人修改（当前版本 ${current}，您的版本 ${sent}），请刷新后重试`,
    `the ${what.en} was changed meanwhile (now version ${current}, yours ${sent}); reload and retry`)

/** Fields of a household's ledger a township or grid worker may change (checked by the route's schema). */
export type HouseholdFields = Record<string, unknown>

/** Changes a household's ledger when the version sent is current; audited. */
export async function editHousehold(sql: Sql, user: SessionUser, input: { id: number; version: number; fields: HouseholdFields }) {
  if (!Object.keys(input.fields).length) throw new HttpError(400, 'nothing_to_change', '没有要修改的字段', 'no field to change')
  // Who may is known before the body is acted on; where needs the row.
  authorizeUser(user, 'household.edit')
  return writeTx(sql, user, async (tx) => {
    const h = await householdForWrite(tx, input.id)
    authorizeUser(user, 'household.edit', h.grid_code)
    if (h.version !== input.version) throw stale(HOUSEHOLD, h.version, input.version)
    const [r] = await tx`UPDATE households SET ${tx(input.fields)}, version = version + 1 WHERE id = ${input.id}
                         RETURNING id, version`
    return r
  })
}

/** Renames a grid when the version sent is current; audited. */
export async function renameGrid(sql: Sql, user: SessionUser, input: { id: number; version: number; name: string }) {
  authorizeUser(user, 'grid.edit')
  return writeTx(sql, user, async (tx) => {
    const [g] = await tx`SELECT code, version FROM grids WHERE id = ${input.id} FOR UPDATE`
    if (!g) throw notFound(GRID, String(input.id))
    authorizeUser(user, 'grid.edit', g.code as string)
    if (g.version !== input.version) throw stale(GRID, g.version as number, input.version)
    const [r] = await tx`UPDATE grids SET name = ${input.name}, version = version + 1, updated_at = now() WHERE id = ${input.id} RETURNING id, version`
    return r
  })
}
