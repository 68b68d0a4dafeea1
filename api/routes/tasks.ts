import { Hono } from 'hono'
import { z } from 'zod'
import { authorize, forbiddenScope, requireUser } from '../auth/guard.ts'
import { inScope } from '../../core/units.ts'
import type { Sql } from '../../db/connect.ts'
import { writeTx } from '../../db/write.ts'
import { HttpError, parseId } from '../../core/errors.ts'
import { phases, targetKinds, taskStatuses } from '../../core/rules/checks.ts'
import { checkChecklistKey, listChecklists, saveChecklist } from '../rain/checklists.ts'
import { eventsIn, gridProgress, listTasks, rollup, TASK, taskDetail, tickTaskItem } from '../rain/tasks.ts'
import { systemClock, type Clock } from '../clock.ts'
import { readJson, readQuery as query } from '../validate.ts'

const code = z.string().regex(/^[0-9]{12}([0-9]{3})?$/, 'a 12-digit admin code or a 15-digit grid code')
/** Which storm event: `current` (each county's latest, the default), `all`, or an event id. */
const event = z.union([z.enum(['current', 'all']), z.string().regex(/^[1-9][0-9]{0,9}$/, 'current, all or an event id').transform(Number)])
  .optional()
const listQuery = z.object({
  event,
  phase: z.enum(phases).optional(),
  status: z.enum(taskStatuses).optional(),
  kind: z.enum(targetKinds).optional(),
  unit: code.optional(),
  overdue: z.enum(['true', 'false']).optional(),
  assignee: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
}).strict()
const itemPatch = z.object({
  done: z.boolean().optional(),
  note: z.string().trim().max(500).nullable().optional(),
  version: z.number().int().positive().optional(),
}).strict()
const templatePut = z.object({
  version: z.number().int().positive(),
  titleZh: z.string().trim().min(1).max(60),
  titleEn: z.string().trim().min(1).max(80),
  items: z.array(z.object({ zh: z.string().trim().min(1).max(200), en: z.string().trim().min(1).max(300) }).strict()).min(1).max(30),
}).strict()


const areaQuery = z.object({ unit: code.optional(), phase: z.enum(phases).optional(), event }).strict()

/** 三查 tasks: list, detail, tick items, completion roll-ups; checklist templates. `clock` is now (tests fix it). */
export function taskRoutes(sql: Sql, clock: Clock = systemClock) {
  const app = new Hono()

  app.get('/api/tasks', async (c) => {
    const user = requireUser(c)
    const q = query(listQuery, c.req.query())
    return c.json(await listTasks(sql, user.unitCode, { ...q, overdue: q.overdue === undefined ? undefined : q.overdue === 'true' }, clock()))
  })

  app.get('/api/tasks/rollup', async (c) => {
    const user = requireUser(c)
    const q = query(areaQuery, c.req.query())
    const unit = q.unit ?? user.unitCode
    if (!inScope(user.unitCode, unit)) throw forbiddenScope(user.unitCode, unit)
    return c.json(await rollup(sql, unit, q, clock()))
  })

  // Per basic grid: the state of its checklists (the map's 三查进度 colours).
  app.get('/api/tasks/grid-progress', async (c) => {
    const user = requireUser(c)
    const q = query(areaQuery, c.req.query())
    const unit = q.unit ?? user.unitCode
    if (!inScope(user.unitCode, unit)) throw forbiddenScope(user.unitCode, unit)
    return c.json(await gridProgress(sql, unit, q, clock()))
  })

  // The storm events with tasks in an area, newest first: the 三查 panel's event selector.
  app.get('/api/tasks/events', async (c) => {
    const user = requireUser(c)
    const q = query(z.object({ unit: code.optional() }).strict(), c.req.query())
    const unit = q.unit ?? user.unitCode
    if (!inScope(user.unitCode, unit)) throw forbiddenScope(user.unitCode, unit)
    return c.json({ unit, events: await eventsIn(sql, unit) })
  })

  app.get('/api/tasks/:id', async (c) => {
    const user = requireUser(c)
    const t = await taskDetail(sql, parseId(c.req.param('id'), TASK), clock())
    if (!inScope(user.unitCode, t.unitCode as string)) throw forbiddenScope(user.unitCode, t.unitCode as string)
    return c.json(t)
  })

  // Tick / untick an item (1-based), or write its note.
  app.patch('/api/tasks/:id/items/:n', async (c) => {
    const id = parseId(c.req.param('id'), TASK)
    const n = parseId(c.req.param('n'), { zh: '检查项', en: 'item' })
    const change = await readJson(c, itemPatch)
    if (change.done === undefined && change.note === undefined) throw new HttpError(400, 'nothing_to_change', '没有要修改的字段（done 或 note）', 'nothing to change (done or note)')
    const user = authorize(c, 'task.complete')
    await writeTx(sql, user, (tx) => tickTaskItem(tx, user, { task: id, item: n, ...change }, clock()))
    return c.json(await taskDetail(sql, id, clock()))
  })

  app.get('/api/checklists', async (c) => {
    requireUser(c)
    return c.json({ templates: await listChecklists(sql) })
  })

  app.put('/api/checklists/:phase/:kind', async (c) => {
    const [phase, kind] = [c.req.param('phase'), c.req.param('kind')]
    checkChecklistKey(phase, kind) // a 404 before the body is read
    const body = await readJson(c, templatePut)
    return c.json(await saveChecklist(sql, requireUser(c), { phase, kind, ...body }))
  })
  return app
}
