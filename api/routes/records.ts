import { Hono } from 'hono'
import { GRID, HAZARD, HOUSEHOLD, SHELTER, gridRecord, hazardRecord, householdRecord, shelterRecord } from '../records/read.ts'
import type { Sql } from '../../db/connect.ts'
import { parseId } from '../../core/errors.ts'

/** The records behind the map's features: a household, a grid, a hazard site, a shelter. */
export function recordRoutes(sql: Sql) {
  const app = new Hono()
  app.get('/api/households/:id', async (c) => c.json(await householdRecord(sql, c.get('user'), parseId(c.req.param('id'), HOUSEHOLD))))
  app.get('/api/grids/:id', async (c) => c.json(await gridRecord(sql, c.get('user'), parseId(c.req.param('id'), GRID))))
  app.get('/api/hazards/:id', async (c) => c.json(await hazardRecord(sql, parseId(c.req.param('id'), HAZARD))))
  app.get('/api/shelters/:id', async (c) => c.json(await shelterRecord(sql, parseId(c.req.param('id'), SHELTER))))
  return app
}
