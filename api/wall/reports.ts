import type { Tx } from '../../db/write.ts'
import type { WallReports } from '../../core/contracts/wall.ts'
import { levels, openStates, urgencies, type Level, type Urgency } from '../../core/rules/escalation.ts'
import { loadRules } from '../reports/rules.ts'

/** Outside a storm, 办结率 and time to acknowledge are counted over the week before the moment. */
export const CALM_REPORT_WINDOW_MS = 7 * 24 * 3600_000

const byLevel = <V>(f: () => V) => Object.fromEntries(levels.map((l) => [l, f()])) as Record<Level, V>
const byUrgency = () => Object.fromEntries(urgencies.map((u) => [u, 0])) as Record<Urgency, number>

/**
 * Problem reports on the wall at T (now, or a replayed moment), from their
 * steps up to T only (report_steps: every filing, acknowledgement,
 * escalation… with its time), so a past moment shows the figures of then:
 * each report's state and level as its last step by T left them, its level's
 * clock from the step that brought it there and the acknowledgement after it.
 */
export async function reportsPart(tx: Tx, T: string, since: string, like: string): Promise<WallReports> {
  const rules = await loadRules(tx)
  const minutes = (m: Record<Urgency, number>) => tx`CASE s.urgency WHEN 'critical' THEN ${m.critical}::int WHEN 'urgent' THEN ${m.urgent}::int ELSE ${m.normal}::int END`
  const open = openStates as string[]
  await tx`DROP TABLE IF EXISTS pg_temp.wall_reports`
  await tx`
    CREATE TEMP TABLE wall_reports ON COMMIT DROP AS
    WITH r AS (
      -- Those that can count at T: open then (open now, or something happened to them after T), or filed in the window.
      SELECT r.id, r.urgency, r.grid_code FROM reports r
      WHERE r.grid_code LIKE ${like} AND r.received_at <= ${T}::timestamptz
        AND (r.received_at >= ${since}::timestamptz OR r.state = ANY(${open}::text[])
             OR EXISTS (SELECT 1 FROM report_steps x WHERE x.report_id = r.id AND x.at > ${T}::timestamptz))
    ), s AS (
      SELECT r.id, r.urgency, r.grid_code,
             (array_agg(s.to_state ORDER BY s.at DESC, s.id DESC))[1] AS state,
             (array_agg(s.to_level ORDER BY s.at DESC, s.id DESC))[1] AS level,
             min(s.at) FILTER (WHERE s.action = 'filed') AS filed_at,
             max(s.at) FILTER (WHERE s.action IN ('filed', 'escalate')) AS level_since,
             min(s.at) FILTER (WHERE s.action = 'acknowledge') AS first_ack,
             max(s.at) FILTER (WHERE s.action = 'acknowledge') AS last_ack
      FROM r JOIN report_steps s ON s.report_id = r.id AND s.at <= ${T}::timestamptz
      GROUP BY r.id, r.urgency, r.grid_code
    )
    SELECT s.*,
           -- core/rules/escalation.ts deadline: acknowledge within ackMinutes of reaching the level; once
           -- acknowledged there, handle within handleMinutes of it; no clock once handled, closed or merged.
           CASE WHEN s.state <> ALL(${open}::text[]) THEN NULL
                WHEN s.state = 'reported' OR s.last_ack IS NULL OR s.last_ack < s.level_since
                  THEN s.level_since + ${minutes(rules.ackMinutes)} * interval '1 minute'
                ELSE s.last_ack + ${minutes(rules.handleMinutes)} * interval '1 minute' END AS due_at
    FROM s`
  const out: WallReports = {
    since, open: byLevel(byUrgency), openTotal: 0, overdue: byLevel(() => 0), overdueTotal: 0, townships: [],
  }
  for (const x of await tx<{ level: Level; urgency: Urgency; n: number; overdue: number }[]>`
    SELECT level, urgency, count(*)::int AS n, count(*) FILTER (WHERE due_at <= ${T}::timestamptz)::int AS overdue
    FROM wall_reports WHERE state = ANY(${open}::text[]) GROUP BY 1, 2`) {
    out.open[x.level][x.urgency] = x.n
    out.overdue[x.level] += x.overdue
    out.openTotal += x.n
    out.overdueTotal += x.overdue
  }
  out.townships = await tx<WallReports['townships']>`
    WITH t AS (
      SELECT left(grid_code, 9) || '000' AS code,
             count(*) FILTER (WHERE filed_at >= ${since}::timestamptz AND state <> 'merged')::int AS filed,
             count(*) FILTER (WHERE filed_at >= ${since}::timestamptz AND state = 'closed')::int AS closed,
             count(*) FILTER (WHERE state = ANY(${open}::text[]))::int AS open,
             count(*) FILTER (WHERE due_at <= ${T}::timestamptz)::int AS overdue,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_ack - filed_at) / 60)
               FILTER (WHERE filed_at >= ${since}::timestamptz AND first_ack IS NOT NULL) AS ack
      FROM wall_reports GROUP BY 1
    )
    SELECT t.code, coalesce(a.name, t.code) AS name, t.filed, t.closed, t.open, t.overdue,
           CASE WHEN t.ack IS NULL THEN NULL ELSE round(t.ack::numeric, 1)::float8 END AS "ackMedianMinutes"
    FROM t LEFT JOIN admin_units a ON a.code = t.code
    WHERE t.filed > 0 OR t.open > 0
    ORDER BY t.code`
  return out
}
