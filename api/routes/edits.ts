import { Hono } from 'hono'
import { z } from 'zod'
import { authorize, requireUser } from '../auth/guard.ts'
import type { Sql } from '../../db/connect.ts'
import { writeTx } from '../../db/write.ts'
import { recordVisit } from '../households/visits.ts'
import { editHousehold, renameGrid } from '../records/edit.ts'
import { GRID, HOUSEHOLD } from '../records/read.ts'
import { parseId } from '../../core/errors.ts'
import { readJson } from '../validate.ts'

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

/** Writes to household ledgers and grids; each checks role and scope, and is audited. */
export function editRoutes(sql: Sql) {
  const app = new Hono()

  app.patch('/api/households/:id', async (c) => {
    const id = parseId(c.req.param('id'), HOUSEHOLD)
    const { version, ...fields } = await readJson(c, householdPatch)
    return c.json(await editHousehold(sql, requireUser(c), { id, version, fields }))
  })

  app.post('/api/households/:id/visits', async (c) => {
    const id = parseId(c.req.param('id'), HOUSEHOLD)
    const body = await readJson(c, visitBody)
    authorize(c, 'household.visit')
    const { gridCode: _, ...visit } = await writeTx(sql, c.get('user')!, (tx) => recordVisit(tx, c.get('user')!, id, body))
    return c.json(visit, 201)
  })

  app.patch('/api/grids/:id', async (c) => {
    const id = parseId(c.req.param('id'), GRID)
    const body = await readJson(c, gridPatch)
    return c.json(await renameGrid(sql, requireUser(c), { id, ...body }))
  })
  return app
}
