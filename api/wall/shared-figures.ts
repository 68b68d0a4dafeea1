import type { Sql } from '../../db/connect.ts'
import { transaction } from '../../db/transaction.ts'
import type { Tx } from '../../db/write.ts'
import type { Clock } from '../clock.ts'
import { requireUnit } from '../units/known.ts'
import { wallStateIn } from './state.ts'

/**
 * The live figures of an area, computed once for every API process (data/migrations/025_wall_figures.sql).
 *
 * Every wall asks for its area's figures after each live event. FreshShared (fresh-shared.ts) folds the asks of
 * one process into one computation, but with two or three processes behind nginx each computed the same figures
 * again: on the storm-night run the walls were the largest CPU consumer, in PostgreSQL and in Node.
 *
 * A question may be answered with figures that hold every change committed before it was asked. Every change a
 * wall shows publishes a live event in its own transaction, and live_events ids become visible in id order
 * (migration 022), so the newest event id committed says how new the data is: figures computed after reading
 * that id as E hold every change up to event E, and figures begun after a question hold every change before it.
 * A question that finds E still the newest, or a row begun after it was asked (FreshShared's callers may have
 * waited for a computation of their own process meanwhile), takes the row as it is; otherwise one process takes
 * the area's advisory lock and computes, and the others wait for the lock and take its row if it fits them so,
 * else the first of them to get the lock computes the next one. On a storm night an event comes every few ms, so
 * the rows are mostly taken for having begun after the question: each computation of an area answers every wall
 * of every process that asked while the one before it ran.
 *
 * A row is taken only while it is at most REUSE_MS old, so figures never pass for live long after their moment:
 * what changes with the clock alone (a warning running out, the rain hour) or without a live event (an outline
 * edited, a warning received) is on the wall at most REUSE_MS later than a computation of its own would have had
 * it. The figures say their moment (`at`) as before.
 */
export const REUSE_MS = 2000

/**
 * The figures (JSON text, as the wall receives it) for `unit` at now, for callers the first of whom asked at
 * `askedAt` (Date.now(); FreshShared's callers may have waited for the computation before).
 */
export async function sharedFigures(sql: Sql, unit: string, clock: Clock, askedAt = Date.now()): Promise<string> {
  // The question's moment on this process's clock (a test's fixed clock stands still) and on the server's, each
  // taken back by the time waited since. On the server's: its now() at the look below less a duration measured
  // before the look was sent, so never before the true moment, whatever another machine's clock says.
  const waited = Math.max(0, Date.now() - askedAt)
  const asked = new Date(clock().getTime() - waited)
  /**
   * Whether row `w` may answer: of `need` (the newest event id at the look) or later, or begun after the question
   * (it saw every commit before it); young enough, begun at most REUSE_MS before the question, and not of a
   * moment after this process's now; an event id above the newest means the events were emptied and numbered
   * afresh (a storm history written again), and says nothing.
   */
  const fits = (q: Sql | Tx, need: string | null, askedOnServer: string | null) => {
    const n = need === null ? q`e.id` : q`${need}::int8`
    const t = askedOnServer === null ? q`e.asked` : q`${askedOnServer}::timestamptz`
    return q`
      w.event_id <= (SELECT coalesce(max(id), 0) FROM live_events) AND (w.event_id >= ${n} OR w.begun_at >= ${t})
      AND w.begun_at >= ${t} - ${REUSE_MS} * interval '1 millisecond'
      AND w.at >= ${new Date(asked.getTime() - REUSE_MS).toISOString()}::timestamptz AND w.at <= ${clock().toISOString()}::timestamptz`
  }
  const [row] = await sql<{ need: string; asked: string; figures: string | null }[]>`
    WITH e AS (SELECT coalesce(max(id), 0) AS id, now() - ${waited} * interval '1 millisecond' AS asked FROM live_events)
    SELECT e.id::text AS need, e.asked::text AS asked, w.figures::text AS figures
    FROM e LEFT JOIN wall_figures w ON w.unit_code = ${unit} AND ${fits(sql, null, null)}`
  if (row.figures !== null) return row.figures
  return transaction(sql, async (tx) => {
    await requireUnit(tx, unit)
    const key = `gridwatch.wall_figures:${unit}`
    const [{ got }] = await tx<{ got: boolean }[]>`SELECT pg_try_advisory_xact_lock(hashtextextended(${key}, 0)) AS got`
    // Another process computes them: wait for its commit, then see whether it had begun after this question.
    if (!got) await tx`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`
    // Also when the lock was free: a computation may have ended between the look above and the lock.
    const [done] = await tx<{ figures: string }[]>`
      SELECT w.figures::text AS figures FROM wall_figures w WHERE w.unit_code = ${unit} AND ${fits(tx, row.need, row.asked)}`
    if (done) return done.figures
    return compute(tx, unit, clock)
  })
}

async function compute(tx: Tx, unit: string, clock: Clock): Promise<string> {
  // Read before the moment is taken: every event up to it was committed before `at` (its rows are dated by then)
  // and before each statement of the figures began (read committed: each sees it).
  const [{ id, begun }] = await tx<{ id: string; begun: Date }[]>`
    SELECT coalesce(max(id), 0)::text AS id, clock_timestamp() AS begun FROM live_events`
  const at = clock()
  const figures = JSON.stringify(await wallStateIn(tx, unit, at, at))
  await tx`
    INSERT INTO wall_figures (unit_code, event_id, at, figures, begun_at)
    VALUES (${unit}, ${id}::int8, ${at.toISOString()}::timestamptz, ${figures}::text::json, ${begun.toISOString()}::timestamptz)
    ON CONFLICT (unit_code) DO UPDATE SET event_id = EXCLUDED.event_id, at = EXCLUDED.at, figures = EXCLUDED.figures, begun_at = EXCLUDED.begun_at`
  return figures
}
