import { forbiddenRole, forbiddenScope, type SessionUser } from '../auth/guard.ts'
import { inScope, scopePrefix } from '../../core/units.ts'
import { fieldChainRoles } from '../../core/policy.ts'
import type { Sql } from '../../db/connect.ts'
import { notFound } from '../../core/errors.ts'
import { eventIds } from '../rain/events.ts'


/** The Beijing day `day` (YYYY-MM-DD) as an instant range. */
export function beijingDay(day: string): { from: Date; to: Date } {
  const from = new Date(`${day}T00:00:00+08:00`)
  return { from, to: new Date(from.getTime() + 86_400_000) }
}

/**
 * A grid's patrols, for township staff on the command map (issue #19): the
 * workers whose track has points that day (open one to draw it), and for each
 * 三查 phase of the grid's current storm event whether the grid was walked
 * while that phase's checklists were open — a track point inside the grid
 * between the first checklist's opening and the last one's end (done, or due).
 * Tracks are personal: only the chain above the grid sees them.
 */
export async function gridPatrols(sql: Sql, user: SessionUser, input: { grid: string; day: string }) {
  if (!fieldChainRoles.has(user.role)) throw forbiddenRole(user.role, 'personal.read')
  const [g] = await sql<{ id: number; code: string; name: string }[]>`SELECT id, code, name FROM grids WHERE code = ${input.grid}`
  if (!g) throw notFound({ zh: '网格', en: 'grid' }, input.grid)
  if (!inScope(user.unitCode, g.code)) throw forbiddenScope(user.unitCode, g.code)
  const { from, to } = beijingDay(input.day)
  // The grid's workers are the accounts of the grid (or of a micro-grid in it); as for a track, only points
  // sent while the worker was inside the reader's area are shown (tracks.ts).
  const workers = await sql<{ id: number; name: string; points: number; first: Date; last: Date }[]>`
    SELECT u.id, u.display_name AS name, count(t.id)::int AS points, min(t.at) AS first, max(t.at) AS last
    FROM users u JOIN field_tracks t ON t.user_id = u.id AND t.at >= ${from.toISOString()} AND t.at < ${to.toISOString()}
    WHERE u.role = 'grid_worker' AND u.unit_code LIKE ${g.code + '%'} AND t.unit_code LIKE ${scopePrefix(user.unitCode) + '%'}
    GROUP BY u.id ORDER BY min(t.at), u.id`
  const phases = await sql<{ event: number; phase: string; from: Date; to: Date; tasks: number; points: number }[]>`
    WITH p AS (
      SELECT t.event_id, t.phase, min(t.opened_at) AS from_at, max(coalesce(t.done_at, t.due_at)) AS to_at, count(*)::int AS tasks
      FROM tasks t
      WHERE t.unit_code LIKE ${g.code + '%'} AND t.event_id IN ${eventIds(sql, 'current')}
      GROUP BY t.event_id, t.phase
    )
    SELECT p.event_id AS event, p.phase, p.from_at AS from, p.to_at AS to, p.tasks,
           (SELECT count(*)::int FROM field_tracks f JOIN users u ON u.id = f.user_id
            WHERE f.at BETWEEN p.from_at AND p.to_at AND u.unit_code LIKE ${g.code + '%'}
              AND ST_Intersects(f.geom, (SELECT geom FROM grids WHERE id = ${g.id}))) AS points
    FROM p ORDER BY array_position(ARRAY['before', 'during', 'after'], p.phase)`
  return {
    grid: { code: g.code, name: g.name },
    day: input.day,
    workers,
    phases: phases.map((p) => ({ ...p, walked: p.points > 0 })),
  }
}
