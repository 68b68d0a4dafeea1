import { deadline, escalated, escalation, unitAt, type ReportRules } from '../../core/rules/escalation.ts'
import type { Clock } from '../clock.ts'
import type { Sql } from '../../db/connect.ts'
import { writeTx, type Actor } from '../../db/write.ts'
import { publishMany } from '../events/publish.ts'
import { periodic, type Periodic } from '../lifecycle/periodic.ts'
import { log } from '../../core/log.ts'
import type { ReportRow } from './file.ts'
import { loadRules } from './rules.ts'

/** Steps the clock takes are written as this actor (no person did them). */
export const clockActor: Actor = { id: null, username: 'system:clock', role: 'system' }
const CLOCK_NAME = '系统（超时自动上报）'

/** How many due reports one pass moves at most; the rest wait for the next pass, a few seconds later. */
const BATCH = 2000

/**
 * One escalation pass: every open report whose level's time has run out goes
 * up one level (core/rules/escalation.ts), with a step and a live event each.
 * Runs once however many API processes sweep: a process that finds the
 * sweep's lock taken does nothing, and rows are taken FOR UPDATE so a person
 * acknowledging at the same moment either wins or waits.
 */
export async function escalateDue(sql: Sql, now: Date, rules?: ReportRules): Promise<{ escalated: number; skipped: boolean }> {
  const r = rules ?? (await loadRules(sql))
  return writeTx(sql, clockActor, async (tx) => {
    const [{ got }] = await tx<{ got: boolean }[]>`SELECT pg_try_advisory_xact_lock(hashtext('gridwatch.report_sweep')) AS got`
    if (!got) return { escalated: 0, skipped: true }
    // The top level cannot rise: it stays overdue (read time says so) and is not taken again.
    const due = await tx<ReportRow[]>`
      SELECT id, type, urgency, state, level, grid_code AS "gridCode", unit_code AS "unitCode", level_since AS "levelSince",
             acknowledged_at AS "acknowledgedAt", version
      FROM reports WHERE due_at <= ${now} AND level <> 'city'
      ORDER BY due_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`
    const moved: { id: number; from: ReportRow; to: ReturnType<typeof escalated<ReportRow>>; reason: string; due: Date | null }[] = []
    for (const row of due) {
      const e = escalation(row, r, now)
      if (!e) continue
      const to = escalated(row, e.to, now)
      moved.push({ id: row.id, from: row, to, reason: e.reason, due: deadline(to, r) })
    }
    if (!moved.length) return { escalated: 0, skipped: false }
    await tx`
      UPDATE reports AS t SET level = m.level, unit_code = m.unit, state = 'reported', level_since = ${now}, acknowledged_at = NULL,
             due_at = m.due, version = t.version + 1
      FROM unnest(${moved.map((m) => m.id)}::int[], ${moved.map((m) => m.to.level)}::text[],
                  ${moved.map((m) => unitAt(m.from.gridCode, m.to.level))}::text[], ${moved.map((m) => m.due?.toISOString() ?? null)}::timestamptz[])
           AS m(id, level, unit, due)
      WHERE t.id = m.id`
    await tx`
      INSERT INTO report_steps (report_id, at, action, from_level, to_level, from_state, to_state, reason, actor_id, actor_name)
      SELECT m.id, ${now}, 'escalate', m.from_level, m.to_level, m.from_state, 'reported', m.reason, NULL, ${CLOCK_NAME}
      FROM unnest(${moved.map((m) => m.id)}::int[], ${moved.map((m) => m.from.level)}::text[], ${moved.map((m) => m.to.level)}::text[],
                  ${moved.map((m) => m.from.state)}::text[], ${moved.map((m) => m.reason)}::text[])
           AS m(id, from_level, to_level, from_state, reason)`
    await publishMany(tx, moved.map((m) => ({
      kind: 'report', unitCode: m.from.gridCode,
      payload: { id: m.id, action: 'escalate', auto: true, reason: m.reason, urgency: m.from.urgency, level: m.to.level, state: 'reported' },
    })))
    return { escalated: moved.length, skipped: false }
  })
}

/**
 * The escalation clock of one API process: a pass every `everyMs` (reports
 * move with nobody watching; after a restart, at the first pass). Most passes
 * find nothing due: one cheap read, no transaction.
 */
export function startReportSweep(sql: Sql, clock: Clock, everyMs: number): Periodic {
  return periodic('report sweep', everyMs, async () => {
    const now = clock()
    const [due] = await sql`SELECT 1 FROM reports WHERE due_at <= ${now} AND level <> 'city' LIMIT 1`
    if (!due) return
    const out = await escalateDue(sql, now)
    if (out.escalated) log.info(`上报超时自动升级 ${out.escalated} 件 / reports escalated by the clock: ${out.escalated}`)
  }, { now: false })
}
