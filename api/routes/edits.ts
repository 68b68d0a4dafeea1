import { Hono } from 'hono'
import { z } from 'zod'
import { authorize } from '../auth/guard.ts'
import type { Sql } from '../db/connect.ts'
import { writeTx, type Tx } from '../db/write.ts'
import { HttpError, notFound, parseId } from '../errors.ts'
import { readJson } from '../validate.ts'
import { GRID, HOUSEHOLD } from './records.ts'

const count = z.number().int().min(0).max(30)
const householdPatch = z
  .object({
    version: z.number().int().positive(),
    risk_level: z.enum(['red', 'yellow', 'green']).optional(),
    measures: z.string().max(500).nullable().optional(),
    phone: z.string().regex(/^[0-9+\- ]{5,20}$/).nullable().optional(),
    members: z.number().int().min(1).max(30).optional(),
    elderly_alone: count.optional(),
    left_behind_children: count.optional(),
    disabled: count.optional(),
    flood_exposed: z.boolean().optional(),
  })
  .strict()
const visitBody = z.object({ note: z.string().max(500).optional() }).strict()
const gridPatch = z.object({ version: z.number().int().positive(), name: z.string().trim().min(1).max(60) }).strict()

const stale = (what: { zh: string; en: string }, current: number, sent: number) =>
  new HttpError(409, 'version_conflict', `${what.zh}已被他人修改（当前版本 ${current}，您的版本 ${sent}），请刷新后重试`,
    `the ${what.en} was changed meanwhile (now version ${current}, yours ${sent}); reload and retry`)

/** The grid code a household belongs to (its scope), locked for the write. */
async function householdForWrite(tx: Tx, id: number) {
  const [h] = await tx`SELECT h.version, g.code AS grid_code FROM households h JOIN grids g ON g.id = h.grid_id WHERE h.id = ${id} FOR UPDATE OF h`
  if (!h) throw notFound(HOUSEHOLD, String(id))
  return h as { version: number; grid_code: string }
}

/** Writes to household ledgers and grids; each checks role and scope, and is audited. */
export function editRoutes(sql: Sql) {
  const app = new Hono()

  app.patch('/api/households/:id', async (c) => {
    const id = parseId(c.req.param('id'), HOUSEHOLD)
    const { version, ...fields } = await readJson(c, householdPatch)
    if (!Object.keys(fields).length) throw new HttpError(400, 'nothing_to_change', '没有要修改的字段', 'no field to change')
    // Who may is known before the body is acted on; where needs the row.
    authorize(c, 'household.edit')
    const row = await writeTx(sql, c.get('user')!, async (tx) => {
      const h = await householdForWrite(tx, id)
      authorize(c, 'household.edit', h.grid_code)
      if (h.version !== version) throw stale(HOUSEHOLD, h.version, version)
      const [r] = await tx`UPDATE households SET ${tx(fields as Record<string, unknown>)}, version = version + 1 WHERE id = ${id}
                           RETURNING id, version`
      return r
    })
    return c.json(row)
  })

  app.post('/api/households/:id/visits', async (c) => {
    const id = parseId(c.req.param('id'), HOUSEHOLD)
    const body = await readJson(c, visitBody)
    authorize(c, 'household.visit')
    const visit = await writeTx(sql, c.get('user')!, async (tx) => {
      const h = await householdForWrite(tx, id)
      authorize(c, 'household.visit', h.grid_code)
      const [v] = await tx`INSERT INTO visits (household_id, note) VALUES (${id}, ${body.note ?? null}) RETURNING id, visited_at`
      await tx`UPDATE households SET last_visit_at = ${v.visited_at as Date} WHERE id = ${id}`
      return v
    })
    return c.json(visit, 201)
  })

  app.patch('/api/grids/:id', async (c) => {
    const id = parseId(c.req.param('id'), GRID)
    const body = await readJson(c, gridPatch)
    authorize(c, 'grid.edit')
    const row = await writeTx(sql, c.get('user')!, async (tx) => {
      const [g] = await tx`SELECT code, version FROM grids WHERE id = ${id} FOR UPDATE`
      if (!g) throw notFound(GRID, String(id))
      authorize(c, 'grid.edit', g.code as string)
      if (g.version !== body.version) throw stale(GRID, g.version as number, body.version)
      const [r] = await tx`UPDATE grids SET name = ${body.name}, version = version + 1, updated_at = now() WHERE id = ${id} RETURNING id, version`
      return r
    })
    return c.json(row)
  })
  return app
}
