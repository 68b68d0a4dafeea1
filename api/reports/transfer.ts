import { z } from 'zod'
import { transferRefusal } from '../../core/rules/report-links.ts'
import { forbiddenRole, type SessionUser } from '../auth/guard.ts'
import { roleMay } from '../../core/policy.ts'
import { inScope } from '../../core/units.ts'
import type { Sql } from '../../db/connect.ts'
import { HttpError, notFound } from '../../core/errors.ts'
import { issueOrder } from '../evac/orders.ts'
import { publish } from '../events/publish.ts'
import { actorName, REPORT, type ReportRow } from './file.ts'

/** What the issuer still chooses; who and where come from the report. */
export const transferBody = z.object({
  stage: z.enum(['vulnerable', 'everyone']).default('everyone'),
  /** Minutes from now (as an order's deadline). */
  deadline: z.number().int().min(5).max(7 * 24 * 60).default(60),
  title: z.string().trim().min(1).max(80).optional(),
  dryRun: z.boolean().default(false),
}).strict()

interface Source extends ReportRow { note: string; gridId: number; gridName: string; siteId: number | null }

/** The open transfer orders a report started. */
export async function ordersFromReport(sql: Sql, id: number) {
  return sql<{ id: number; title: string; status: string; issuedAt: Date }[]>`
    SELECT id, title, status, issued_at AS "issuedAt" FROM evac_orders
    WHERE trigger_kind = 'report' AND (trigger_ref ->> 'reportId')::int = ${id} ORDER BY id`
}

/**
 * A transfer order started from a report that people are in danger (who may
 * issue orders, within their area): everyone in the report's grid, and those
 * an active hazard site the report is at threatens; trigger 'report' naming it,
 * so the order links back, and a step on the report's timeline in the same
 * transaction. `dryRun` previews it as the command map's form does. While an
 * order started from the report is still open, another is refused.
 */
export async function transferFromReport(sql: Sql, user: SessionUser, id: number, b: z.infer<typeof transferBody>, now: Date, opts: { copy: boolean }) {
  if (!roleMay(user.role, 'order.issue')) throw forbiddenRole(user.role, 'order.issue')
  const [r] = await sql<Source[]>`
    SELECT r.id, r.type, r.urgency, r.state, r.level, r.grid_code AS "gridCode", r.unit_code AS "unitCode", r.version, r.note,
           g.id AS "gridId", g.name AS "gridName", s.id AS "siteId"
    FROM reports r JOIN grids g ON g.code = r.grid_code
    LEFT JOIN hazard_sites s ON s.id = r.hazard_site_id AND s.status = 'active'
    WHERE r.id = ${id}`
  if (!r || !inScope(user.unitCode, r.gridCode)) throw notFound(REPORT, String(id))
  const refusal = transferRefusal(r)
  if (refusal === 'no_people_in_danger') {
    throw new HttpError(409, 'no_people_in_danger', '该类上报不涉及人员转移', 'this kind of report does not call for moving people')
  }
  if (refusal === 'not_open') throw new HttpError(409, 'report_not_open', '该上报已处置或办结，不能再发起转移', 'this report is handled or closed; it cannot start a transfer')
  const open = (await ordersFromReport(sql, id)).find((o) => o.status === 'active')
  if (open) {
    throw new HttpError(409, 'already_ordered', `该上报已发起转移指令"${open.title}"（第 ${open.id} 号），尚未结束`,
      `this report already started the transfer order "${open.title}" (no. ${open.id}), still open`)
  }
  const title = b.title ?? `${r.gridName}群众转移（上报第 ${id} 号）`.slice(0, 80)
  return issueOrder(sql, user, {
    stage: b.stage,
    trigger: { kind: 'report', ref: { reportId: id } },
    sites: r.siteId ? [r.siteId] : [],
    sitesIn: [],
    grids: [r.gridId],
    units: [],
    deadline: b.deadline,
    title,
    note: r.note ? `上报：${r.note}`.slice(0, 500) : undefined,
    dryRun: b.dryRun,
  }, opts, async (tx, order) => {
    // Two issuers at once: the second waited on issueOrder's lock and finds the first's order here.
    const [twice] = await tx`SELECT id FROM evac_orders WHERE trigger_kind = 'report' AND (trigger_ref ->> 'reportId')::int = ${id} AND status = 'active' AND id <> ${order.id}`
    if (twice) throw new HttpError(409, 'already_ordered', `该上报已发起转移指令（第 ${twice.id} 号），尚未结束`, `this report already started the transfer order no. ${twice.id}, still open`)
    // The step is the report's record that it was acted on; the order's trigger is the link back.
    await tx`
      INSERT INTO report_steps (report_id, at, action, from_level, to_level, from_state, to_state, reason, actor_id, actor_name)
      SELECT id, ${now}, 'transfer', level, level, state, state, ${`${order.title}（第 ${order.id} 号）`}, ${user.id}, ${actorName(user)}
      FROM reports WHERE id = ${id}`
    await publish(tx, 'report', r.gridCode, { id, action: 'transfer', urgency: r.urgency, level: r.level, state: r.state, by: user.displayName, orderId: order.id })
  })
}
