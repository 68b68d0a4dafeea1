import { z } from 'zod'
import { deadline, startLevel, unitAt, urgencies, type Level } from '../../core/rules/escalation.ts'
import { forbiddenRole, forbiddenScope, type SessionUser } from '../auth/guard.ts'
import { roleMay } from '../../core/policy.ts'
import { inScope } from '../../core/units.ts'
import type { Sql } from '../../db/connect.ts'
import { writeTx, type Tx } from '../../db/write.ts'
import { HttpError } from '../../core/errors.ts'
import { publish } from '../events/publish.ts'
import { loadRules } from './rules.ts'

export const REPORT = { zh: '上报', en: 'report' }

export const fileBody = z.object({
  type: z.string().max(32),
  urgency: z.enum(urgencies),
  lng: z.number().finite(),
  lat: z.number().finite(),
  note: z.string().trim().max(500).default(''),
  hazardSiteId: z.number().int().positive().max(2147483647).optional(),
  /** Made on the phone: the same report sent again is the same report. */
  clientId: z.uuid().optional(),
  /** When it was seen, by the phone's clock (default: on arrival). */
  at: z.iso.datetime({ offset: true }).optional(),
  /** Taken on the duty phone (值班电话): who called, and their number. */
  caller: z.object({
    name: z.string().trim().min(1).max(40),
    phone: z.string().trim().regex(/^[0-9+\-() ]{3,20}$/).optional(),
  }).strict().optional(),
}).strict()

/** Mainland China's bounding box, with a margin: a point outside it is a mistake (swapped lat/lng, a zero). */
const china = { w: 73, s: 17, e: 136, n: 54 }

/** How far ahead of the server's clock a phone's time may run (its clock may be off a little, not hours). */
const CLOCK_SKEW_MS = 5 * 60_000

/** A report's row as feature functions use it. */
export interface ReportRow {
  id: number
  type: string
  urgency: (typeof urgencies)[number]
  state: 'reported' | 'acknowledged' | 'dispatched' | 'handled' | 'closed' | 'merged'
  level: Level
  gridCode: string
  unitCode: string
  levelSince: Date
  acknowledgedAt: Date | null
  version: number
}

export function mustMay(user: SessionUser, action: 'report.file' | 'report.handle') {
  if (!roleMay(user.role, action)) throw forbiddenRole(user.role, action)
}

export const actorName = (u: { displayName: string; username: string }) => `${u.displayName}（${u.username}）`

/**
 * A new report: placed in the basic grid holding its point, starting at the
 * level its type and urgency say, its clock started on arrival (a level
 * cannot acknowledge what has not reached it). A clientId seen before
 * returns that report unchanged (`created: false`).
 */
export async function fileReport(sql: Sql, user: SessionUser, b: z.infer<typeof fileBody>, now: Date) {
  return writeTx(sql, user, (tx) => fileReportIn(tx, user, b, now))
}

/**
 * fileReport inside the caller's transaction (the field app's outbox files a
 * report in the same transaction that claims the action's id): the same
 * checks, in the same order, nothing written when one fails.
 */
export async function fileReportIn(tx: Tx, user: SessionUser, b: z.infer<typeof fileBody>, now: Date) {
  mustMay(user, 'report.file')
  if (b.lng < china.w || b.lng > china.e || b.lat < china.s || b.lat > china.n) {
    throw new HttpError(400, 'outside_china', `位置（${b.lng}, ${b.lat}）不在中国境内，请检查经纬度`, `the place (${b.lng}, ${b.lat}) is not in China; check longitude and latitude`)
  }
  const rules = await loadRules(tx)
  const level = startLevel(rules, b.type, b.urgency)
  const kind = rules.types.find((t) => t.code === b.type)
  if (!level || !kind) {
    const known = rules.types.map((t) => t.zh).join('、')
    throw new HttpError(400, 'unknown_type', `不认识的问题类型"${b.type}"，可选：${known}`, `unknown problem type "${b.type}"; known: ${rules.types.map((t) => t.code).join(', ')}`)
  }
  const seenAt = b.at ? new Date(b.at) : now
  if (seenAt.getTime() > now.getTime() + CLOCK_SKEW_MS) {
    throw new HttpError(400, 'time_in_future', '上报时间晚于服务器时间，请检查手机时间', 'the report is dated in the future; check the phone’s clock')
  }
  if (b.clientId) {
    const [seen] = await tx<{ id: number; by: number | null; gridCode: string }[]>`SELECT id, reported_by AS by, grid_code AS "gridCode" FROM reports WHERE client_id = ${b.clientId}`
    if (seen) {
      if (seen.by !== user.id) throw new HttpError(409, 'client_id_taken', '该上报编号已被使用', 'this report id is already taken')
      return { id: seen.id, created: false, gridCode: seen.gridCode }
    }
  }
  const [g] = await tx<{ code: string; name: string }[]>`
    SELECT code, name FROM grids WHERE kind = 'basic' AND ST_Intersects(geom, ST_SetSRID(ST_MakePoint(${b.lng}, ${b.lat}), 4326)) ORDER BY code LIMIT 1`
  if (!g) throw new HttpError(400, 'outside_grids', '该位置不在任何网格内', 'the place is in no grid')
  if (!inScope(user.unitCode, g.code)) throw outsideArea(user, g)
  if (b.hazardSiteId) await siteInScope(tx, user, b.hazardSiteId)
  const due = deadline({ state: 'reported', urgency: b.urgency, level, levelSince: now, acknowledgedAt: null }, rules)
  const [r] = await tx<{ id: number }[]>`
    INSERT INTO reports (client_id, type, urgency, geom, grid_code, level, unit_code, note, hazard_site_id, reported_by, reported_by_name,
                         reported_at, received_at, level_since, due_at, caller_name, caller_phone)
    VALUES (${b.clientId ?? null}, ${b.type}, ${b.urgency}, ST_SetSRID(ST_MakePoint(${b.lng}, ${b.lat}), 4326), ${g.code}, ${level},
            ${unitAt(g.code, level)}, ${b.note}, ${b.hazardSiteId ?? null}, ${user.id}, ${actorName(user)}, ${seenAt}, ${now}, ${now}, ${due},
            ${b.caller?.name ?? null}, ${b.caller?.phone ?? null})
    RETURNING id`
  await tx`
    INSERT INTO report_steps (report_id, at, action, to_level, to_state, actor_id, actor_name)
    VALUES (${r.id}, ${now}, 'filed', ${level}, 'reported', ${user.id}, ${actorName(user)})`
  await publish(tx, 'report', g.code, { id: r.id, action: 'filed', type: b.type, name: { zh: kind.zh, en: kind.en }, urgency: b.urgency, level, state: 'reported', by: user.displayName })
  return { id: r.id, created: true, gridCode: g.code }
}

/**
 * 403 for a place in another grid, said so that someone on a phone knows what
 * to do (the code stays forbidden_scope, as for every write outside the area).
 */
const outsideArea = (user: SessionUser, g: { code: string; name: string }) =>
  new HttpError(403, 'forbidden_scope', `上报位置在"${g.name}"，不在您的管辖范围（${user.unitCode}）内；请选择您负责区域内的位置`,
    `the place is in "${g.name}", outside your area (${user.unitCode}); choose a place inside your area`)

async function siteInScope(tx: Tx, user: SessionUser, id: number) {
  const [s] = await tx<{ code: string | null }[]>`
    SELECT (SELECT g.code FROM grids g WHERE g.kind = 'basic' AND ST_Intersects(g.geom, h.geom) ORDER BY g.code LIMIT 1) AS code
    FROM hazard_sites h WHERE h.id = ${id}`
  if (!s) throw new HttpError(400, 'unknown_hazard_site', `找不到隐患点：${id}`, `no hazard site ${id}`)
  if (!s.code || !inScope(user.unitCode, s.code)) throw forbiddenScope(user.unitCode, s.code ?? String(id))
}
