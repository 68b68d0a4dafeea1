import { z } from 'zod'
import { actsFor, deadline, escalated, mayEscalate, move, nextLevel, unitAt, type Action, type Level } from '../../core/rules/escalation.ts'
import type { SessionUser } from '../auth/guard.ts'
import { inScope } from '../../core/units.ts'
import type { Sql } from '../../db/connect.ts'
import { writeTx, type Tx } from '../../db/write.ts'
import { HttpError, notFound } from '../../core/errors.ts'
import { publish } from '../events/publish.ts'
import { levelWords } from '../../core/words.ts'
import { actorName, mustMay, REPORT, type ReportRow } from './file.ts'
import { loadRules } from './rules.ts'

const reason = z.string().trim().min(2).max(300)
export const actBodies = {
  acknowledge: z.object({}).strict(),
  dispatch: z.object({ assignee: z.string().trim().min(1).max(60), due: z.iso.datetime({ offset: true }) }).strict(),
  handled: z.object({ note: z.string().trim().min(2).max(500) }).strict(),
  close: z.object({}).strict(),
  escalate: z.object({ reason }).strict(),
  merge: z.object({ into: z.number().int().positive().max(2147483647), reason: reason.optional() }).strict(),
} satisfies Record<Action, z.ZodType>
export type ActBody<A extends Action> = z.infer<(typeof actBodies)[A]>

const stateWords = {
  reported: { zh: '待受理', en: 'waiting to be acknowledged' },
  acknowledged: { zh: '已受理', en: 'acknowledged' },
  dispatched: { zh: '已派遣', en: 'dispatched' },
  handled: { zh: '已处置', en: 'handled' },
  closed: { zh: '已办结', en: 'closed' },
  merged: { zh: '已合并', en: 'merged' },
}
const actionWords: Record<Action, { zh: string; en: string }> = {
  acknowledge: { zh: '受理', en: 'acknowledge' },
  dispatch: { zh: '派遣', en: 'dispatch' },
  handled: { zh: '标记为已处置', en: 'mark as handled' },
  close: { zh: '办结', en: 'close' },
  escalate: { zh: '上报上级', en: 'escalate' },
  merge: { zh: '合并', en: 'merge' },
}

export async function lockReport(tx: Tx, id: number): Promise<ReportRow> {
  const [r] = await tx<ReportRow[]>`
    SELECT id, type, urgency, state, level, grid_code AS "gridCode", unit_code AS "unitCode", level_since AS "levelSince",
           acknowledged_at AS "acknowledgedAt", version
    FROM reports WHERE id = ${id} FOR UPDATE`
  if (!r) throw notFound(REPORT, String(id))
  return r
}

/**
 * One step on a report by the level that owns it (or, to escalate, by it or
 * a level below on the report's chain). Someone who cannot see the report
 * is told it does not exist; someone who sees it at another level is told
 * which level owns it.
 */
export async function actOnReport<A extends Action>(sql: Sql, user: SessionUser, id: number, action: A, b: ActBody<A>, now: Date) {
  mustMay(user, 'report.handle')
  const rules = await loadRules(sql)
  return writeTx(sql, user, async (tx) => {
    const r = await lockReport(tx, id)
    if (!inScope(user.unitCode, r.gridCode)) throw notFound(REPORT, String(id))
    const may = action === 'escalate' ? mayEscalate(user.unitCode, r) : actsFor(user.unitCode, r)
    if (!may) {
      const [u] = await tx<{ name: string }[]>`SELECT name FROM admin_units WHERE code = ${r.unitCode} UNION ALL SELECT name FROM grids WHERE code = ${r.unitCode} LIMIT 1`
      const owner = `${levelWords[r.level].zh}（${u?.name ?? r.unitCode}）`
      throw new HttpError(403, 'not_your_level', `该上报现由${owner}负责，您不能${actionWords[action].zh}`,
        `this report is owned by the ${levelWords[r.level].en} level (${u?.name ?? r.unitCode}) now; you may not ${actionWords[action].en} it`)
    }
    const to = move(r.state, action)
    if (!to) {
      throw new HttpError(409, 'bad_state', `该上报${stateWords[r.state].zh}，不能${actionWords[action].zh}`,
        `this report is ${stateWords[r.state].en}; it cannot be ${actionWords[action].en}d now`)
    }
    let level: Level = r.level
    let after = { ...r, state: to }
    const set: Record<string, unknown> = { state: to }
    let why: string | null = null
    if (action === 'acknowledge') {
      after = { ...after, acknowledgedAt: now }
      set.acknowledged_at = now
    } else if (action === 'dispatch') {
      const d = b as ActBody<'dispatch'>
      if (new Date(d.due).getTime() <= now.getTime()) throw new HttpError(400, 'due_in_past', '完成时限须晚于现在', 'the due time must be later than now')
      set.assignee = d.assignee
      set.assignee_due_at = new Date(d.due)
      why = d.assignee
    } else if (action === 'handled') {
      set.handled_note = (b as ActBody<'handled'>).note
      why = set.handled_note as string
    } else if (action === 'close') {
      set.closed_at = now
    } else if (action === 'escalate') {
      const up = nextLevel(r.level)
      if (!up) throw new HttpError(409, 'at_top', '已是最高一级，不能再上报', 'this report is at the highest level already')
      level = up
      after = escalated(r, up, now)
      Object.assign(set, { level: up, unit_code: unitAt(r.gridCode, up), level_since: now, acknowledged_at: null })
      why = (b as ActBody<'escalate'>).reason
    } else if (action === 'merge') {
      const m = b as ActBody<'merge'>
      if (m.into === id) throw new HttpError(400, 'merge_into_itself', '不能与自己合并', 'a report cannot be merged into itself')
      const [target] = await tx<{ gridCode: string; state: string }[]>`SELECT grid_code AS "gridCode", state FROM reports WHERE id = ${m.into}`
      if (!target || !inScope(user.unitCode, target.gridCode)) throw notFound(REPORT, String(m.into))
      if (target.state === 'merged') throw new HttpError(409, 'merge_into_merged', '目标上报本身已被合并', 'the target report is itself merged into another')
      set.merged_into = m.into
      why = m.reason ?? null
    }
    set.due_at = deadline(after, rules)
    const [row] = await tx<{ version: number }[]>`
      UPDATE reports SET ${tx(set as Record<string, never>)}, version = version + 1 WHERE id = ${id} RETURNING version`
    await tx`
      INSERT INTO report_steps (report_id, at, action, from_level, to_level, from_state, to_state, reason, actor_id, actor_name)
      VALUES (${id}, ${now}, ${action}, ${r.level}, ${level}, ${r.state}, ${to}, ${why}, ${user.id}, ${actorName(user)})`
    await publish(tx, 'report', r.gridCode, { id, action, urgency: r.urgency, level, state: to, by: user.displayName })
    return { id, state: to, level, version: row.version }
  })
}
