import { z } from 'zod'
import { defaultRules, levels, openStates, urgencies, type ReportRules, type Urgency } from '../../core/rules/escalation.ts'
import type { Sql } from '../../db/connect.ts'
import { writeTx, type Tx } from '../../db/write.ts'
import { HttpError } from '../../core/errors.ts'
import { authorizeUserCityWide, type SessionUser } from '../auth/guard.ts'

const perUrgency = <S extends z.ZodType>(s: S) => z.object({ normal: s, urgent: s, critical: s }).strict()
const minutes = z.number().int().min(1).max(30 * 24 * 60)

export const rulesSchema = z.object({
  types: z.array(z.object({
    code: z.string().regex(/^[a-z][a-z0-9_]{1,31}$/),
    zh: z.string().trim().min(1).max(20),
    en: z.string().trim().min(1).max(40),
    start: perUrgency(z.enum(levels)),
  }).strict()).min(1).max(30),
  ackMinutes: perUrgency(minutes),
  handleMinutes: perUrgency(minutes),
}).strict()

/** The report rules in force: the stored ones, or the defaults while none are stored. */
export async function loadRules(sql: Sql | Tx): Promise<ReportRules> {
  const [row] = await sql<{ value: unknown }[]>`SELECT value FROM report_config WHERE key = 'rules'`
  if (!row?.value) return defaultRules
  // Stored through PUT (checked there), but a hand edit of the table must not take the server down.
  const r = rulesSchema.safeParse(row.value)
  return r.success ? r.data : defaultRules
}

export const urgencyWords = {
  normal: { zh: '一般', en: 'normal' },
  urgent: { zh: '紧急', en: 'urgent' },
  critical: { zh: '特急', en: 'critical' },
} satisfies Record<(typeof urgencies)[number], { zh: string; en: string }>

/** A change of the time limits (the types stay as they are): `version` is the one read, so two editors do not overwrite each other. */
export const rulesBody = z.object({
  version: z.number().int().min(1),
  ackMinutes: perUrgency(minutes),
  handleMinutes: perUrgency(minutes),
}).strict()

/** The rules' stored version (what a PUT must send back). */
export async function rulesVersion(sql: Sql | Tx): Promise<number> {
  const [row] = await sql<{ version: number }[]>`SELECT version FROM report_config WHERE key = 'rules'`
  return row?.version ?? 1
}

/**
 * New time limits for acknowledging and handling reports, city-wide (a
 * city-level account with `task.manage`, as for the rain rules). A limit to
 * handle shorter than the one to acknowledge is refused: it would escalate a
 * report its level had just taken. Open reports' due times are worked out
 * again in the same transaction, so the sweep moves them by the new limits.
 */
export async function saveRules(sql: Sql, user: SessionUser, b: z.infer<typeof rulesBody>) {
  authorizeUserCityWide(user, 'task.manage', { zh: '上报处置时限', en: 'the report time limits' })
  for (const u of urgencies) {
    if (b.handleMinutes[u] < b.ackMinutes[u]) {
      throw new HttpError(400, 'bad_input', `${urgencyWords[u].zh}：处置时限不能短于受理时限`, `${urgencyWords[u].en}: the time to handle cannot be shorter than the time to acknowledge`)
    }
  }
  return writeTx(sql, user, async (tx) => {
    const [cur] = await tx<{ version: number }[]>`SELECT version FROM report_config WHERE key = 'rules' FOR UPDATE`
    if (cur.version !== b.version) {
      throw new HttpError(409, 'version_conflict', `上报规则已被他人修改（当前版本 ${cur.version}），请刷新后重试`, `the report rules were changed meanwhile (now version ${cur.version}); reload and retry`)
    }
    const value: ReportRules = { ...(await loadRules(tx)), ackMinutes: b.ackMinutes, handleMinutes: b.handleMinutes }
    const [u] = await tx<{ version: number }[]>`
      UPDATE report_config SET value = ${tx.json(value as never)}, version = version + 1, updated_at = now() WHERE key = 'rules' RETURNING version`
    // Open reports' clocks follow at once: the sweep takes rows by their stored due time. core/rules/escalation.ts
    // deadline: acknowledge within ackMinutes of reaching the level, then handle within handleMinutes of the acknowledgement.
    const by = (m: Record<Urgency, number>) => tx`CASE urgency WHEN 'critical' THEN ${m.critical}::int WHEN 'urgent' THEN ${m.urgent}::int ELSE ${m.normal}::int END`
    await tx`
      UPDATE reports SET due_at = CASE WHEN state = 'reported' OR acknowledged_at IS NULL THEN level_since + ${by(value.ackMinutes)} * interval '1 minute'
                                       ELSE acknowledged_at + ${by(value.handleMinutes)} * interval '1 minute' END
      WHERE state = ANY(${openStates as string[]}::text[])`
    return { ackMinutes: value.ackMinutes, handleMinutes: value.handleMinutes, version: u.version }
  })
}
