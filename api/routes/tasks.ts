import { Hono } from 'hono'
import { z } from 'zod'
import { authorize, authorizeCityWide, forbiddenScope, requireUser } from '../auth/guard.ts'
import { inScope } from '../auth/policy.ts'
import type { Sql } from '../db/connect.ts'
import { writeTx } from '../db/write.ts'
import { HttpError, notFound, parseId } from '../errors.ts'
import { phases, targetKinds } from '../rain/config.ts'
import { gridProgress, listTasks, rollup, TASK, taskDetail, updateItem } from '../rain/tasks.ts'
import { readJson, readQuery as query } from '../validate.ts'
import { publish } from '../events/publish.ts'

const code = z.string().regex(/^[0-9]{12}([0-9]{3})?$/, 'a 12-digit admin code or a 15-digit grid code')
const listQuery = z.object({
  phase: z.enum(phases).optional(),
  status: z.enum(['not_started', 'in_progress', 'done']).optional(),
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


/** 三查 tasks: list, detail, tick items, completion roll-ups; checklist templates. */
export function taskRoutes(sql: Sql) {
  const app = new Hono()

  app.get('/api/tasks', async (c) => {
    const user = requireUser(c)
    const q = query(listQuery, c.req.query())
    return c.json(await listTasks(sql, user.unitCode, { ...q, overdue: q.overdue === undefined ? undefined : q.overdue === 'true' }))
  })

  app.get('/api/tasks/rollup', async (c) => {
    const user = requireUser(c)
    const q = query(z.object({ unit: code.optional(), phase: z.enum(phases).optional() }).strict(), c.req.query())
    const unit = q.unit ?? user.unitCode
    if (!inScope(user.unitCode, unit)) throw forbiddenScope(user.unitCode, unit)
    return c.json(await rollup(sql, unit, q.phase))
  })

  // Per basic grid: the state of its checklists (the map's 三查进度 colours).
  app.get('/api/tasks/grid-progress', async (c) => {
    const user = requireUser(c)
    const q = query(z.object({ unit: code.optional(), phase: z.enum(phases).optional() }).strict(), c.req.query())
    const unit = q.unit ?? user.unitCode
    if (!inScope(user.unitCode, unit)) throw forbiddenScope(user.unitCode, unit)
    return c.json(await gridProgress(sql, unit, q.phase))
  })

  app.get('/api/tasks/:id', async (c) => {
    const user = requireUser(c)
    const t = await taskDetail(sql, parseId(c.req.param('id'), TASK))
    if (!inScope(user.unitCode, t.unitCode as string)) throw forbiddenScope(user.unitCode, t.unitCode as string)
    return c.json(t)
  })

  // Tick / untick an item (1-based), or write its note.
  app.patch('/api/tasks/:id/items/:n', async (c) => {
    const id = parseId(c.req.param('id'), TASK)
    const n = parseId(c.req.param('n'), { zh: '检查项', en: 'item' })
    const change = await readJson(c, itemPatch)
    if (change.done === undefined && change.note === undefined) throw new HttpError(400, 'nothing_to_change', '没有要修改的字段（done 或 note）', 'nothing to change (done or note)')
    authorize(c, 'task.complete')
    const user = c.get('user')!
    await writeTx(sql, user, async (tx) => {
      const [t] = await tx<{ unit_code: string }[]>`SELECT unit_code FROM tasks WHERE id = ${id}`
      if (!t) throw notFound(TASK, String(id))
      // Where: a grid worker ticks only the tasks of their own grid.
      authorize(c, 'task.complete', t.unit_code)
      const r = await updateItem(tx, id, n, change, { id: user.id, name: user.displayName })
      if (r.ticked) await publish(tx, 'task.item', t.unit_code, { taskId: id, item: n, done: change.done, status: r.status, by: user.displayName })
    })
    return c.json(await taskDetail(sql, id))
  })

  app.get('/api/checklists', async (c) => {
    requireUser(c)
    const templates = await sql`
      SELECT phase, target_kind AS "targetKind", title_zh AS "titleZh", title_en AS "titleEn", items, version, updated_at AS "updatedAt"
      FROM checklist_templates ORDER BY array_position(ARRAY['before', 'during', 'after'], phase), target_kind`
    return c.json({ templates })
  })

  app.put('/api/checklists/:phase/:kind', async (c) => {
    const phase = c.req.param('phase')
    const kind = c.req.param('kind')
    if (!(phases as readonly string[]).includes(phase) || !(targetKinds as readonly string[]).includes(kind)) {
      throw new HttpError(404, 'not_found', `没有这个清单：${phase}/${kind}`, `no such checklist: ${phase}/${kind}`)
    }
    const body = await readJson(c, templatePut)
    const user = authorizeCityWide(c, 'task.manage', { zh: '三查清单模板', en: 'checklist templates' })
    const row = await writeTx(sql, user, async (tx) => {
      const [cur] = await tx`SELECT version FROM checklist_templates WHERE phase = ${phase} AND target_kind = ${kind} FOR UPDATE`
      if (cur.version !== body.version) {
        throw new HttpError(409, 'version_conflict', `清单已被他人修改（当前版本 ${cur.version}），请刷新后重试`, `the checklist was changed meanwhile (now version ${cur.version}); reload and retry`)
      }
      const [r] = await tx`
        UPDATE checklist_templates SET title_zh = ${body.titleZh}, title_en = ${body.titleEn}, items = ${tx.json(body.items as never)},
               version = version + 1, updated_at = now()
        WHERE phase = ${phase} AND target_kind = ${kind}
        RETURNING phase, target_kind AS "targetKind", title_zh AS "titleZh", title_en AS "titleEn", items, version`
      return r
    })
    return c.json(row)
  })
  return app
}
