import { Hono } from 'hono'
import { auditedTable, objectChanges } from '../audit/changes.ts'
import { requireUser } from '../auth/guard.ts'
import type { Sql } from '../../db/connect.ts'
import { parseId } from '../../core/errors.ts'

/** Who changed an object, when, from what to what. */
export function auditRoutes(sql: Sql) {
  const app = new Hono()
  app.get('/api/audit/:table/:id', async (c) => {
    const table = c.req.param('table')
    const id = parseId(c.req.param('id'), auditedTable(table))
    return c.json(await objectChanges(sql, requireUser(c), { table, id }))
  })
  return app
}
