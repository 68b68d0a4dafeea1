import type postgres from 'postgres'
import type { Sql } from '../../db/connect.ts'
import { transaction } from '../../db/transaction.ts'
import { auditEvent, type Tx } from '../../db/write.ts'
import type { RainConfig } from './config.ts'

/**
 * The end of a storm event (rain_events.over_at). Tasks belong to an event;
 * while it lasts its unfinished checklists are owed (and overdue once due).
 * It is over when its after-rain checks are all done, or when it ran out of
 * time: after.timeoutHours after its after-rain checks opened (or, for an
 * event that never opened them, after its last rain or forecast and the dry
 * hours that close it). Then every checklist of it not done is closed as
 * `missed`: kept, with whatever items were ticked, for the record and the
 * statistics, but no longer overdue, no longer on the map's 三查 colours.
 */

export type EventSelector = 'current' | 'all' | number

/**
 * SQL: the events a selector means. `current` is each county's latest event
 * (over or not): the storm the 三查 screens are about unless another is chosen.
 */
export function eventIds(sql: Sql | Tx, sel: EventSelector): postgres.Fragment {
  if (sel === 'all') return sql`(SELECT id FROM rain_events)`
  if (typeof sel === 'number') return sql`(SELECT ${sel}::int)`
  return sql`(SELECT DISTINCT ON (county_code) id FROM rain_events ORDER BY county_code, started_at DESC, id DESC)`
}

/**
 * Ends the events that are over at `now` (all of them, or only `only`), and
 * closes their unfinished tasks as missed. Idempotent; cheap when nothing is
 * due (partial index on events not over). Returns what it changed.
 */
export async function endEvents(tx: Tx, cfg: RainConfig, now: Date, only?: number): Promise<{ events: number; tasks: number }> {
  const at = now.toISOString()
  const dry = cfg.after.dryHours
  const timeout = cfg.after.timeoutHours
  const ended = await tx<{ id: number }[]>`
    WITH e AS (
      SELECT e.id, e.closed_at, e.after_opened_at,
             -- Every after-rain check done: over when the last was.
             (e.closed_at IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM tasks t WHERE t.event_id = e.id AND t.phase = 'after' AND t.status <> 'done')) AS finished,
             (SELECT max(t.done_at) FROM tasks t WHERE t.event_id = e.id AND t.phase = 'after') AS last_done,
             coalesce(e.after_opened_at, e.closed_at,
                      greatest(e.started_at, e.last_wet_at, e.expect_until) + ${dry} * interval '1 hour')
               + ${timeout} * interval '1 hour' AS deadline
      FROM rain_events e
      WHERE e.over_at IS NULL ${only === undefined ? tx`` : tx`AND e.id = ${only}`}
    )
    , f AS (
      SELECT e.*, CASE WHEN e.finished THEN least(greatest(e.closed_at, e.last_done), ${at}::timestamptz) END AS finished_at FROM e
    )
    UPDATE rain_events r SET
      over_at = least(f.finished_at, f.deadline),
      over_reason = CASE WHEN f.finished_at <= f.deadline THEN 'done' ELSE 'timeout' END,
      -- An event that timed out before its rain was over (no data came any more) closes too: new rain opens a new one.
      closed_at = coalesce(r.closed_at, f.deadline)
    FROM f
    WHERE r.id = f.id AND (f.finished OR f.deadline <= ${at}::timestamptz)
    RETURNING r.id`
  // Also tasks of events ended before (a late reading may have added to one): nothing stays open in an ended event.
  await tx`SELECT set_config('gridwatch.skip_audit', 'on', true)`
  const missed = await tx<{ event_id: number; n: number }[]>`
    WITH m AS (
      UPDATE tasks t SET status = 'missed', version = t.version + 1
      FROM rain_events e
      WHERE e.id = t.event_id AND e.over_at IS NOT NULL AND e.over_at <= ${at}::timestamptz
        AND t.status IN ('not_started', 'in_progress')
        ${only === undefined ? tx`` : tx`AND e.id = ${only}`}
      RETURNING t.event_id)
    SELECT event_id, count(*)::int AS n FROM m GROUP BY 1 ORDER BY 1`
  await tx`SELECT set_config('gridwatch.skip_audit', 'off', true)`
  const tasks = missed.reduce((a, m) => a + m.n, 0)
  // One audit row for the batch (thousands of tasks), as for generated tasks.
  if (ended.length || tasks) {
    await auditEvent(tx, { action: 'rain_events_ended', table: 'tasks', after: { events: ended.map((e) => e.id), missed: Object.fromEntries(missed.map((m) => [m.event_id, m.n])), at } })
  }
  return { events: ended.length, tasks }
}

/** endEvents in a transaction of its own (the server's sweep, the seed). */
export async function endEventsNow(sql: Sql, cfg: RainConfig, now: Date) {
  return transaction(sql, async (tx) => {
    // The rain update's lock: an event is not ended while a rain update is writing to it.
    await tx`SELECT 1 FROM rain_cache FOR UPDATE`
    await tx`SELECT set_config('gridwatch.actor', ${JSON.stringify({ id: null, username: 'system:events', role: 'system' })}, true)`
    return endEvents(tx, cfg, now)
  })
}
