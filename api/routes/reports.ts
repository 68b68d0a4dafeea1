import { Hono } from 'hono'
import { z } from 'zod'
import { actions, type Action } from '../../core/rules/escalation.ts'
import { requireUser } from '../auth/guard.ts'
import type { Clock } from '../clock.ts'
import type { Sql } from '../../db/connect.ts'
import { notFound, parseId } from '../../core/errors.ts'
import { actBodies, actOnReport } from '../reports/act.ts'
import { fileBody, fileReport, REPORT } from '../reports/file.ts'
import { confirmSite, proposeSite, proposeSiteBody } from '../reports/propose-site.ts'
import { listQuery, listReports, reportDetail, reportTypes } from '../reports/read.ts'
import { rulesBody, saveRules } from '../reports/rules.ts'
import { importBody, importReports } from '../reports/import.ts'
import { transferBody, transferFromReport } from '../reports/transfer.ts'
import { readJson, readQuery } from '../validate.ts'

/** Problem reports (上报) and their handling; rules in core/rules/escalation.ts, roles and levels in api/README.md. */
/** `copy`: as for transfer orders (routes/evacuation.ts), for an order started from a report. */
export function reportRoutes(sql: Sql, clock: Clock, opts: { copy: boolean }) {
  const app = new Hono()

  app.get('/api/reports/types', async (c) => {
    requireUser(c)
    return c.json(await reportTypes(sql))
  })

  app.get('/api/reports', async (c) => c.json(await listReports(sql, requireUser(c), readQuery(listQuery, c.req.query()), clock())))

  app.post('/api/reports', async (c) => {
    const user = requireUser(c)
    const out = await fileReport(sql, user, await readJson(c, fileBody), clock())
    return c.json(out, out.created ? 201 : 200)
  })

  app.get('/api/reports/:id', async (c) => c.json(await reportDetail(sql, requireUser(c), parseId(c.req.param('id'), REPORT), clock())))

  app.post('/api/reports/import', async (c) => c.json(await importReports(sql, requireUser(c), await readJson(c, importBody), clock())))

  app.put('/api/reports/rules', async (c) => c.json(await saveRules(sql, requireUser(c), await readJson(c, rulesBody))))

  // What a report can start (api/reports/propose-site.ts, transfer.ts): before the steps' route, which takes any name.
  app.post('/api/reports/:id/propose-site', async (c) => {
    const user = requireUser(c)
    const id = parseId(c.req.param('id'), REPORT)
    return c.json(await proposeSite(sql, user, id, await readJson(c, proposeSiteBody), clock()), 201)
  })
  app.post('/api/reports/:id/confirm-site', async (c) => {
    const user = requireUser(c)
    const id = parseId(c.req.param('id'), REPORT)
    await readJson(c, z.object({}).strict())
    return c.json(await confirmSite(sql, user, id, clock()))
  })
  app.post('/api/reports/:id/transfer', async (c) => {
    const user = requireUser(c)
    const id = parseId(c.req.param('id'), REPORT)
    const body = await readJson(c, transferBody)
    return c.json(await transferFromReport(sql, user, id, body, clock(), opts), body.dryRun ? 200 : 201)
  })

  app.post('/api/reports/:id/:action', async (c) => {
    const user = requireUser(c)
    const id = parseId(c.req.param('id'), REPORT)
    const action = c.req.param('action') as Action
    if (!actions.includes(action)) throw notFound({ zh: '操作', en: 'action' }, action)
    return c.json(await actOnReport(sql, user, id, action, await readJson(c, actBodies[action]), clock()))
  })

  return app
}
