import { Hono } from 'hono'
import { z } from 'zod'
import { authorize, requireUser } from '../auth/guard.ts'
import type { Sql } from '../../db/connect.ts'
import { HttpError, parseId } from '../../core/errors.ts'
import { readJson } from '../validate.ts'
import { cadreLists, householdCard, ladderProposals, sitePlan } from '../evac/cards.ts'
import { ORDER, orderBody } from '../evac/order-body.ts'
import { issueOrder } from '../evac/orders.ts'
import { listOrders, orderHouseholds, orderProgress } from '../evac/progress.ts'
import { statuses } from '../../core/rules/transfer.ts'
import { bulkBody, closeOrder, setGridStatus, setStatus, statusBody, TRANSFER } from '../evac/updates.ts'
import { HOUSEHOLD } from '../records/read.ts'

const HAZARD = { zh: '隐患点', en: 'hazard site' }
const unitCode = z.string().regex(/^[0-9]{12}([0-9]{3})?$/)

/** A query parameter checked against `schema`, or a 400 naming it. */
function query<S extends z.ZodType>(raw: string | undefined, name: string, schema: S): z.infer<S> | undefined {
  if (raw === undefined) return undefined
  const r = schema.safeParse(raw)
  if (!r.success) throw new HttpError(400, 'bad_query', `参数 ${name} 有误："${raw}"`, `bad query parameter ${name}: "${raw}"`)
  return r.data
}
const count = (max: number) => z.coerce.number().int().min(0).max(max)

/** Transfer orders (转移指令), household transfer status, cards and plans. Roles and scope: api/README.md. */
/** `copy`: the database takes COPY FROM STDIN (PostgreSQL; not the embedded one over its socket). */
export function evacuationRoutes(sql: Sql, opts: { copy: boolean }) {
  const app = new Hono()

  app.post('/api/evacuation/orders', async (c) => {
    authorize(c, 'order.issue')
    const body = await readJson(c, orderBody)
    const out = await issueOrder(sql, c.get('user')!, body, opts)
    return c.json(out, body.dryRun ? 200 : 201)
  })

  app.get('/api/evacuation/orders', async (c) => {
    const status = query(c.req.query('status'), 'status', z.enum(['active', 'closed']))
    return c.json({ orders: await listOrders(sql, requireUser(c), status) })
  })

  app.get('/api/evacuation/proposals', async (c) => c.json({ proposals: await ladderProposals(sql, requireUser(c)) }))

  app.get('/api/evacuation/orders/:id', async (c) => {
    const id = parseId(c.req.param('id'), ORDER)
    const unit = query(c.req.query('unit'), 'unit', unitCode)
    return c.json(await orderProgress(sql, requireUser(c), id, unit))
  })

  app.get('/api/evacuation/orders/:id/households', async (c) => {
    const id = parseId(c.req.param('id'), ORDER)
    const q = (k: string) => c.req.query(k)
    return c.json(
      await orderHouseholds(sql, requireUser(c), id, {
        grid: query(q('unit'), 'unit', unitCode),
        status: query(q('status'), 'status', z.enum(statuses)),
        exceptions: query(q('exceptions'), 'exceptions', z.enum(['true', 'false'])) === 'true',
        cadre: query(q('cadre'), 'cadre', z.coerce.number().int().positive().max(2147483647)),
        limit: query(q('limit'), 'limit', count(1000)) ?? 100,
        offset: query(q('offset'), 'offset', count(10_000_000)) ?? 0,
      }),
    )
  })

  app.get('/api/evacuation/orders/:id/cards', async (c) => {
    const id = parseId(c.req.param('id'), ORDER)
    return c.json(await cadreLists(sql, requireUser(c), id, query(c.req.query('unit'), 'unit', unitCode)))
  })

  app.patch('/api/evacuation/orders/:id/households/:hid', async (c) => {
    const id = parseId(c.req.param('id'), ORDER)
    const hid = parseId(c.req.param('hid'), TRANSFER)
    const body = await readJson(c, statusBody)
    return c.json(await setStatus(sql, requireUser(c), id, hid, body))
  })

  app.post('/api/evacuation/orders/:id/bulk', async (c) => {
    const id = parseId(c.req.param('id'), ORDER)
    const body = await readJson(c, bulkBody)
    return c.json(await setGridStatus(sql, requireUser(c), id, body))
  })

  app.post('/api/evacuation/orders/:id/close', async (c) => {
    const id = parseId(c.req.param('id'), ORDER)
    const { version } = await readJson(c, z.object({ version: z.number().int().positive() }).strict())
    return c.json(await closeOrder(sql, requireUser(c), id, version))
  })

  app.get('/api/households/:id/card', async (c) => {
    const id = parseId(c.req.param('id'), HOUSEHOLD)
    return c.json(await householdCard(sql, c.get('user'), id))
  })

  app.get('/api/hazards/:id/plan', async (c) => c.json(await sitePlan(sql, parseId(c.req.param('id'), HAZARD))))
  return app
}
