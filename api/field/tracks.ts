import { forbiddenScope, type SessionUser } from '../auth/guard.ts'
import { inScope, scopePrefix } from '../../core/units.ts'
import { fieldChainRoles } from '../../core/policy.ts'
import type { Sql } from '../../db/connect.ts'
import { HttpError, notFound } from '../../core/errors.ts'
import { beijingDay } from './patrols.ts'

/** Tracks are personal data: kept this long, then swept. */
export const TRACK_KEEP_DAYS = 90


/**
 * Whether `reader` may see the track of a worker whose area is `workerUnit`:
 * the worker themself, or township staff / command / an admin whose area holds
 * the worker's. Never another grid worker, a planner or the wall.
 */
export function mayReadTrack(reader: Pick<SessionUser, 'id' | 'role' | 'unitCode'>, worker: { id: number; unitCode: string }): boolean {
  if (reader.id === worker.id) return true
  return fieldChainRoles.has(reader.role) && inScope(reader.unitCode, worker.unitCode)
}

/** One Beijing day of a worker's patrol: its points in time order and the line they make. */
export async function trackOfDay(sql: Sql, reader: SessionUser, workerId: number, day: string) {
  const [w] = await sql<{ id: number; name: string; role: string; unitCode: string }[]>`
    SELECT id, display_name AS name, role, unit_code AS "unitCode" FROM users WHERE id = ${workerId}`
  if (!w) throw notFound({ zh: '账号', en: 'account' }, String(workerId))
  if (!mayReadTrack(reader, w)) {
    if (!fieldChainRoles.has(reader.role) && reader.id !== w.id) {
      throw new HttpError(403, 'forbidden_role', '巡查轨迹是个人信息，只有本人及其所属乡镇、县、市的干部可以查看',
        'patrol tracks are personal: only the worker and the staff of their township, county and city may see them')
    }
    throw forbiddenScope(reader.unitCode, w.unitCode)
  }
  const { from, to } = beijingDay(day)
  const points = await sql`
    SELECT at, round(ST_X(geom)::numeric, 6)::float8 AS lon, round(ST_Y(geom)::numeric, 6)::float8 AS lat, accuracy_m AS accuracy
    FROM field_tracks WHERE user_id = ${workerId} AND at >= ${from.toISOString()} AND at < ${to.toISOString()}
      AND unit_code LIKE ${reader.id === w.id ? '%' : scopePrefix(reader.unitCode) + '%'}
    ORDER BY at, id`
  return {
    worker: { id: w.id, name: w.name, unitCode: w.unitCode }, day, points,
    line: points.length > 1 ? { type: 'LineString', coordinates: points.map((p) => [p.lon, p.lat]) } : null,
  }
}

/** Deletes what is kept for a limited time: track points and the phones' action receipts older than 90 days. */
export async function sweepField(sql: Sql, now: Date) {
  const before = new Date(now.getTime() - TRACK_KEEP_DAYS * 86_400_000).toISOString()
  const tracks = await sql`DELETE FROM field_tracks WHERE at < ${before}`
  const actions = await sql`DELETE FROM field_actions WHERE received_at < ${before}`
  return { tracks: tracks.count, actions: actions.count }
}
