import { authorizeUserCityWide, type SessionUser } from '../auth/guard.ts'
import type { Sql } from '../../db/connect.ts'
import { writeTx } from '../../db/write.ts'
import { HttpError } from '../../core/errors.ts'
import { phases, targetKinds } from '../../core/rules/checks.ts'

/** The 三查 checklist templates, by phase (before, during, after) and target kind. */
export async function listChecklists(sql: Sql) {
  return sql`
    SELECT phase, target_kind AS "targetKind", title_zh AS "titleZh", title_en AS "titleEn", items, version, updated_at AS "updatedAt"
    FROM checklist_templates ORDER BY array_position(ARRAY['before', 'during', 'after'], phase), target_kind`
}

export interface ChecklistEdit {
  phase: string
  kind: string
  version: number
  titleZh: string
  titleEn: string
  items: { zh: string; en: string }[]
}

/** A 404 unless there is a checklist template for this phase and target kind. */
export function checkChecklistKey(phase: string, kind: string) {
  if (!(phases as readonly string[]).includes(phase) || !(targetKinds as readonly string[]).includes(kind)) {
    throw new HttpError(404, 'not_found', `没有这个清单：${phase}/${kind}`, `no such checklist: ${phase}/${kind}`)
  }
}

/** Replaces a checklist template (city-wide: only a city-level commander) when the version sent is current. */
export async function saveChecklist(sql: Sql, user: SessionUser, input: ChecklistEdit) {
  const { phase, kind } = input
  checkChecklistKey(phase, kind)
  authorizeUserCityWide(user, 'task.manage', { zh: '三查清单模板', en: 'checklist templates' })
  return writeTx(sql, user, async (tx) => {
    const [cur] = await tx`SELECT version FROM checklist_templates WHERE phase = ${phase} AND target_kind = ${kind} FOR UPDATE`
    if (cur.version !== input.version) {
      throw new HttpError(409, 'version_conflict', `清单已被他人修改（当前版本 ${cur.version}），请刷新后重试`, `the checklist was changed meanwhile (now version ${cur.version}); reload and retry`)
    }
    const [r] = await tx`
      UPDATE checklist_templates SET title_zh = ${input.titleZh}, title_en = ${input.titleEn}, items = ${tx.json(input.items as never)},
             version = version + 1, updated_at = now()
      WHERE phase = ${phase} AND target_kind = ${kind}
      RETURNING phase, target_kind AS "targetKind", title_zh AS "titleZh", title_en AS "titleEn", items, version`
    return r
  })
}
