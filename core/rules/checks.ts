import type { Colour } from './rain-signal.ts'

/**
 * 三查: before rain, check prevention (雨前查预防, opened by the 1262 ladder's
 * forecasts, core/rules/ladder.ts); during rain, check hazards (雨中查隐患);
 * after rain, check damage (雨后查灾情). Each is a checklist (a task) for a
 * hazard site, a grid or a household, belonging to a county's storm event.
 *
 * The rain engine and the task queries apply these rules in SQL over every
 * unit at once (api/rain/engine.ts, api/rain/tasks.ts); tests/db/rain.test.ts
 * and tests/db/rain-progress.test.ts hold that SQL to the functions here.
 */

export const phases = ['before', 'during', 'after'] as const
export type Phase = (typeof phases)[number]
export const targetKinds = ['hazard_site', 'household', 'grid'] as const
export type TargetKind = (typeof targetKinds)[number]

/** `missed`: closed unfinished when its storm event ended; kept for the record. */
export const taskStatuses = ['not_started', 'in_progress', 'done', 'missed'] as const
export type TaskStatus = (typeof taskStatuses)[number]

/** A task's status from its items: none ticked, some, or all. */
export function statusOfItems(items: readonly { done: boolean }[]): Exclude<TaskStatus, 'missed'> {
  const done = items.filter((i) => i.done).length
  return done === 0 ? 'not_started' : done === items.length ? 'done' : 'in_progress'
}

/**
 * Overdue: still open and past due, worked out when asked (never stored by a
 * cron, so it is right at any moment). A missed task is not overdue: nobody
 * can do it any more.
 */
export function isOverdue(t: { status: TaskStatus; dueAt: Date }, now: Date): boolean {
  return (t.status === 'not_started' || t.status === 'in_progress') && t.dueAt.getTime() < now.getTime()
}

/**
 * A grid's 三查 state on the map. `missed`: its event is over with checklists
 * left undone; it is counted but not coloured (the storm is history).
 */
export const gridStates = ['done', 'in_progress', 'not_started', 'overdue', 'missed'] as const
export type GridState = (typeof gridStates)[number]

/**
 * From the counts of a grid's tasks: done when all are, else overdue when one
 * is open past due, else missed when one was closed unfinished, else not
 * started when none has begun, else in progress.
 */
export function gridCheckState(c: { total: number; done: number; overdue: number; missed: number; notStarted: number }): GridState {
  if (c.done === c.total) return 'done'
  if (c.overdue > 0) return 'overdue'
  if (c.missed > 0) return 'missed'
  if (c.notStarted === c.total) return 'not_started'
  return 'in_progress'
}

/**
 * Whether a grid's or site's rain calls for during-rain checks: while it rains
 * (at least `wetMm` in the last hour) and there is a signal from what fell, a
 * warning in force, or the site is past its critical rainfall. Sums stay high
 * for hours after the rain stops; that is after rain, not during. Rain that is
 * not current (core/rules/rain-current.ts) opens nothing.
 */
export function duringRain(
  u: { current: boolean; rain1h: number; signal: Colour | null; warning: Colour | null; pastCritical: boolean },
  wetMm: number,
): boolean {
  return u.current && u.rain1h >= wetMm && (u.pastCritical || u.signal !== null || u.warning !== null)
}

/** A site is past its critical rainfall (临界雨量) when its 1 h or 24 h rain reaches the site's own threshold. */
export function pastCritical(rain: { h1: number; h24: number }, critical: { h1: number; h24: number }): boolean {
  return rain.h1 >= critical.h1 || rain.h24 >= critical.h24
}
