import { z } from 'zod'
import { actions, actsFor, deadline, levels, mayEscalate, move, nextLevel, urgencies, type Action, type ReportRules } from '../../core/rules/escalation.ts'
import { forbiddenScope, mayReadPersonal, type SessionUser } from '../auth/guard.ts'
import { maskName, maskPhone } from '../auth/mask.ts'
import { roleMay } from '../../core/policy.ts'
import { inScope, scopePrefix } from '../../core/units.ts'
import type { Sql } from '../../db/connect.ts'
import { notFound } from '../../core/errors.ts'
import { confirmsSites, siteProposalRefusal, transferRefusal } from '../../core/rules/report-links.ts'
import { REPORT, type ReportRow } from './file.ts'
import { ordersFromReport } from './transfer.ts'
import { loadRules, rulesVersion } from './rules.ts'

export const listQuery = z.object({
  unit: z.string().regex(/^[0-9]{12}([0-9]{3})?$/).optional(),
  state: z.enum(['open', 'closed', 'all']).default('open'),
  level: z.enum(levels).optional(),
  urgency: z.enum(urgencies).optional(),
  overdue: z.enum(['true', 'false']).optional(),
  /** Only the reader's own reports (the field app's list). */
  mine: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
}).strict()

const columns = (sql: Sql) => sql`
  r.id, r.type, r.urgency, r.state, r.level, r.grid_code AS "gridCode", r.unit_code AS "unitCode", r.level_since AS "levelSince",
  r.acknowledged_at AS "acknowledgedAt", r.version, r.note, ST_X(r.geom) AS lng, ST_Y(r.geom) AS lat, r.reported_by_name AS "reportedBy",
  r.reported_at AS "reportedAt", r.received_at AS "receivedAt", r.due_at AS "dueAt", r.assignee, r.assignee_due_at AS "assigneeDueAt",
  r.handled_note AS "handledNote", r.closed_at AS "closedAt", r.merged_into AS "mergedInto", r.hazard_site_id AS "hazardSiteId",
  r.caller_name AS "callerName", r.caller_phone AS "callerPhone",
  (SELECT name FROM grids g WHERE g.code = r.grid_code) AS "gridName",
  (SELECT name FROM admin_units a WHERE a.code = r.unit_code UNION ALL SELECT name FROM grids g WHERE g.code = r.unit_code LIMIT 1) AS "unitName"`

type Listed = ReportRow & { dueAt: Date | null; callerName: string | null; callerPhone: string | null; hazardSiteId: number | null }

/** A caller's name and number are personal data: masked as a household's for a reader who may not see them. */
const masked = <R extends Listed>(r: R, user: SessionUser): R =>
  mayReadPersonal(user, r.gridCode) ? r : { ...r, callerName: maskName(r.callerName), callerPhone: maskPhone(r.callerPhone) }

/** Whether a report is past its level's time now (the SQL reads due_at, which the rule set; at the top level it stays). */
const withClock = <R extends Listed>(r: R, rules: ReportRules, now: Date) => {
  const due = deadline(r, rules)
  return { ...r, dueAt: due, overdue: !!due && due.getTime() <= now.getTime() }
}

/**
 * Reports in an area (default the reader's), overdue first, then by urgency; open ones by default.
 * `total`: how many match (the list stops at `limit`); `counts`: the area's open reports, whatever the filters.
 */
export async function listReports(sql: Sql, user: SessionUser, q: z.infer<typeof listQuery>, now: Date) {
  const unit = q.unit ?? user.unitCode
  if (!inScope(user.unitCode, unit)) throw forbiddenScope(user.unitCode, unit)
  const rules = await loadRules(sql)
  const state = q.state === 'open' ? sql`AND r.state IN ('reported', 'acknowledged', 'dispatched')`
    : q.state === 'closed' ? sql`AND r.state IN ('handled', 'closed', 'merged')` : sql``
  const filters = sql`
      ${q.level ? sql`AND r.level = ${q.level}` : sql``} ${q.urgency ? sql`AND r.urgency = ${q.urgency}` : sql``}
      ${q.overdue === 'true' ? sql`AND r.due_at <= ${now}` : q.overdue === 'false' ? sql`AND (r.due_at IS NULL OR r.due_at > ${now})` : sql``}
      ${q.mine === 'true' ? sql`AND r.reported_by = ${user.id}` : sql``}`
  const rows = await sql<Listed[]>`
    SELECT ${columns(sql)} FROM reports r
    WHERE r.grid_code LIKE ${`${scopePrefix(unit)}%`} ${state} ${filters}
    ORDER BY (r.due_at <= ${now}) DESC NULLS LAST, CASE r.urgency WHEN 'critical' THEN 0 WHEN 'urgent' THEN 1 ELSE 2 END, r.id DESC
    LIMIT ${q.limit}`
  const [c] = await sql<{ total: number; open: number; overdue: number; critical: number; urgent: number; normal: number }[]>`
    SELECT count(*) FILTER (WHERE TRUE ${state} ${filters})::int AS total,
           count(*) FILTER (WHERE r.state IN ('reported', 'acknowledged', 'dispatched'))::int AS open,
           count(*) FILTER (WHERE r.state IN ('reported', 'acknowledged', 'dispatched') AND r.due_at <= ${now})::int AS overdue,
           count(*) FILTER (WHERE r.state IN ('reported', 'acknowledged', 'dispatched') AND r.urgency = 'critical')::int AS critical,
           count(*) FILTER (WHERE r.state IN ('reported', 'acknowledged', 'dispatched') AND r.urgency = 'urgent')::int AS urgent,
           count(*) FILTER (WHERE r.state IN ('reported', 'acknowledged', 'dispatched') AND r.urgency = 'normal')::int AS normal
    FROM reports r WHERE r.grid_code LIKE ${`${scopePrefix(unit)}%`}`
  const { total, ...counts } = c
  // Their photos' ids (thumbnails in the lists: GET /api/field/photos/{id}/thumb); a report has at most 3.
  const photoRows = rows.length ? await sql<{ report: number; ids: number[] }[]>`
    SELECT substr(target, 8)::int AS report, array_agg(id::int ORDER BY id) AS ids FROM field_photos
    WHERE target = ANY(${rows.map((r) => `report:${r.id}`)}::text[]) GROUP BY target` : []
  const photos = new Map(photoRows.map((p) => [Number(p.report), p.ids.map(Number)]))
  return { unit, total, counts, reports: rows.map((r) => ({ ...masked(withClock(r, rules, now), user), photos: photos.get(Number(r.id)) ?? [] })) }
}

/** One report with its timeline and what the reader may do with it now. Out of the reader's area it does not exist. */
export async function reportDetail(sql: Sql, user: SessionUser, id: number, now: Date) {
  const [r] = await sql<Listed[]>`SELECT ${columns(sql)} FROM reports r WHERE r.id = ${id}`
  if (!r || !inScope(user.unitCode, r.gridCode)) throw notFound(REPORT, String(id))
  const rules = await loadRules(sql)
  const steps = await sql`
    SELECT at, action, from_level AS "fromLevel", to_level AS "toLevel", from_state AS "fromState", to_state AS "toState",
           reason, actor_name AS "actorName", actor_id IS NULL AS auto
    FROM report_steps WHERE report_id = ${id} ORDER BY id`
  // Photos sent with it from the field app (GET /api/field/photos/{id}).
  const photos = (await sql<{ id: string }[]>`SELECT id FROM field_photos WHERE target = ${`report:${id}`} ORDER BY id`).map((p) => Number(p.id))
  const handles = roleMay(user.role, 'report.handle')
  const may = actions.filter((a: Action) => handles && move(r.state, a) !== null && (a === 'escalate' ? !!nextLevel(r.level) && mayEscalate(user.unitCode, r) : actsFor(user.unitCode, r)))
  // The hazard site it is at (or proposed from it), and the transfer orders it started (api/reports/propose-site.ts, transfer.ts).
  const [site] = r.hazardSiteId === null ? [] : await sql<{ id: number; code: string; name: string; type: string; status: 'active' | 'proposed' | 'cancelled'; proposed: boolean }[]>`
    SELECT id, code, name, type, status, coalesce(proposed_from = ${id}, false) AS proposed FROM hazard_sites WHERE id = ${r.hazardSiteId}`
  const orders = await ordersFromReport(sql, id)
  const edits = roleMay(user.role, 'grid.edit')
  const offers = {
    proposeSite: edits && siteProposalRefusal(r) === null,
    confirmSite: edits && site?.status === 'proposed' && confirmsSites(user.unitCode),
    transfer: roleMay(user.role, 'order.issue') && transferRefusal(r) === null && !orders.some((o) => o.status === 'active'),
  }
  return { ...masked(withClock(r, rules, now), user), steps, may, photos, site: site ?? null, orders, offers }
}

/** The problem types and urgencies a form offers, in both languages. */
export async function reportTypes(sql: Sql) {
  const rules = await loadRules(sql)
  return { types: rules.types.map(({ code, zh, en }) => ({ code, zh, en })), urgencies, ackMinutes: rules.ackMinutes, handleMinutes: rules.handleMinutes, version: await rulesVersion(sql) }
}
