import { z } from 'zod'
import { confirmsSites, siteProposalRefusal, siteScales, siteTypes } from '../../core/rules/report-links.ts'
import { forbiddenRole, type SessionUser } from '../auth/guard.ts'
import { roleMay } from '../../core/policy.ts'
import { inScope } from '../../core/units.ts'
import type { Sql } from '../../db/connect.ts'
import { writeTx, type Tx } from '../../db/write.ts'
import { HttpError, notFound } from '../../core/errors.ts'
import { publish } from '../events/publish.ts'
import { actorName, REPORT, type ReportRow } from './file.ts'

/** What the officer sets on the proposed site; the place and what was seen come from the report. */
export const proposeSiteBody = z.object({
  type: z.enum(siteTypes),
  name: z.string().trim().min(2).max(60).optional(),
  scale: z.enum(siteScales).default('小型'),
  threatObject: z.string().trim().max(100).optional(),
}).strict()

export const SITE = { zh: '隐患点', en: 'hazard site' }

interface Linkable extends ReportRow { hazardSiteId: number | null; note: string; gridName: string | null }

async function lockLinkable(tx: Tx, user: SessionUser, id: number): Promise<Linkable> {
  const [r] = await tx<Linkable[]>`
    SELECT r.id, r.type, r.urgency, r.state, r.level, r.grid_code AS "gridCode", r.unit_code AS "unitCode", r.version,
           r.hazard_site_id AS "hazardSiteId", r.note, (SELECT name FROM grids g WHERE g.code = r.grid_code) AS "gridName"
    FROM reports r WHERE r.id = ${id} FOR UPDATE`
  // Out of the reader's area a report does not exist (as for every other step on it).
  if (!r || !inScope(user.unitCode, r.gridCode)) throw notFound(REPORT, String(id))
  return r
}

/**
 * A new hazard site proposed for the register from a report of a crack or a
 * slide (township or county staff: the right to change the grid map, within
 * their area): at the report's place, in its village, with the reporter's note,
 * status 'proposed' — in the register, on no map, in no roll-up or rain watch
 * until the county confirms it. The report links to it and its timeline says so.
 * One site a report: a report at a site already is refused.
 */
export async function proposeSite(sql: Sql, user: SessionUser, id: number, b: z.infer<typeof proposeSiteBody>, now: Date) {
  if (!roleMay(user.role, 'grid.edit')) throw forbiddenRole(user.role, 'grid.edit')
  return writeTx(sql, user, async (tx) => {
    const r = await lockLinkable(tx, user, id)
    const refusal = siteProposalRefusal(r)
    if (refusal === 'not_a_site_report') {
      throw new HttpError(409, 'not_a_site_report', '只有地质灾害险情的上报可以新增隐患点', 'only a report of a geological hazard can propose a hazard site')
    }
    if (refusal === 'merged') throw new HttpError(409, 'report_merged', '该上报已合并到其他上报，请在那一条上操作', 'this report is merged into another; act on that one')
    if (refusal === 'already_linked') {
      const [s] = await tx<{ code: string; name: string }[]>`SELECT code, name FROM hazard_sites WHERE id = ${r.hazardSiteId}`
      throw new HttpError(409, 'already_linked', `该上报已关联隐患点"${s?.name ?? r.hazardSiteId}"（${s?.code ?? ''}）`,
        `this report is already linked to the hazard site "${s?.name ?? r.hazardSiteId}" (${s?.code ?? ''})`)
    }
    // A register code like the county's own (county + DZ + number), marked as from a report: SB (上报) + report id.
    const code = `${r.gridCode.slice(0, 6)}SB${String(id).padStart(7, '0')}`
    const name = b.name ?? `${r.gridName ?? ''}${b.type}隐患点`.slice(0, 60)
    const [site] = await tx<{ id: number }[]>`
      INSERT INTO hazard_sites (code, name, admin_code, type, scale, threat_object, status, geom, proposed_from, note)
      SELECT ${code}, ${name}, ${r.gridCode.slice(0, 12)}, ${b.type}, ${b.scale}, ${b.threatObject ?? null}, 'proposed', r.geom, r.id, nullif(r.note, '')
      FROM reports r WHERE r.id = ${id}
      RETURNING id`
    await tx`UPDATE reports SET hazard_site_id = ${site.id}, version = version + 1 WHERE id = ${id}`
    await tx`
      INSERT INTO report_steps (report_id, at, action, from_level, to_level, from_state, to_state, reason, actor_id, actor_name)
      VALUES (${id}, ${now}, 'propose_site', ${r.level}, ${r.level}, ${r.state}, ${r.state}, ${name}, ${user.id}, ${actorName(user)})`
    await publish(tx, 'report', r.gridCode, { id, action: 'propose_site', urgency: r.urgency, level: r.level, state: r.state, by: user.displayName })
    return { id, site: { id: site.id, code, name, type: b.type, status: 'proposed' as const } }
  })
}

/**
 * The county confirms a site proposed from a report into the register: from
 * then on it is on the map, in the roll-ups and watched for rain like any
 * other. Township staff propose; the county (or the city) confirms.
 */
export async function confirmSite(sql: Sql, user: SessionUser, id: number, now: Date) {
  if (!roleMay(user.role, 'grid.edit')) throw forbiddenRole(user.role, 'grid.edit')
  return writeTx(sql, user, async (tx) => {
    const r = await lockLinkable(tx, user, id)
    if (!confirmsSites(user.unitCode)) {
      throw new HttpError(403, 'county_confirms', '新增隐患点须由县级（或市级）核实入库', 'a proposed hazard site is confirmed by the county (or the city)')
    }
    const [s] = r.hazardSiteId === null ? [] : await tx<{ id: number; code: string; name: string; status: string }[]>`
      SELECT id, code, name, status FROM hazard_sites WHERE id = ${r.hazardSiteId} FOR UPDATE`
    if (!s) throw notFound(SITE, String(r.hazardSiteId ?? '—'))
    if (s.status !== 'proposed') throw new HttpError(409, 'site_not_proposed', `隐患点"${s.name}"不是待核实状态`, `the hazard site "${s.name}" is not waiting for confirmation`)
    await tx`UPDATE hazard_sites SET status = 'active', version = version + 1 WHERE id = ${s.id}`
    await tx`
      INSERT INTO report_steps (report_id, at, action, from_level, to_level, from_state, to_state, reason, actor_id, actor_name)
      VALUES (${id}, ${now}, 'confirm_site', ${r.level}, ${r.level}, ${r.state}, ${r.state}, ${s.name}, ${user.id}, ${actorName(user)})`
    await publish(tx, 'report', r.gridCode, { id, action: 'confirm_site', urgency: r.urgency, level: r.level, state: r.state, by: user.displayName })
    return { id, site: { id: s.id, code: s.code, name: s.name, status: 'active' as const } }
  })
}
