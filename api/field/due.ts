import { visitIntervalDays } from '../../core/rules/visits.ts'

export type Risk = keyof typeof visitIntervalDays

/** When a household's next visit is due, and whether that has passed: never visited is due now. */
export function visitDue(risk: Risk, lastVisitAt: Date | null, now: Date): { dueAt: Date; overdue: boolean } {
  const dueAt = lastVisitAt ? new Date(lastVisitAt.getTime() + visitIntervalDays[risk] * 86_400_000) : now
  return { dueAt, overdue: !lastVisitAt || dueAt.getTime() < now.getTime() }
}

const riskRank: Record<Risk, number> = { red: 0, yellow: 1, green: 2 }

/** Overdue first, then soonest due; among equals red before yellow before green, then by code. */
export function byDue<T extends { overdue: boolean; dueAt: Date; risk: Risk; code: string }>(a: T, b: T): number {
  return Number(b.overdue) - Number(a.overdue) || a.dueAt.getTime() - b.dueAt.getTime() || riskRank[a.risk] - riskRank[b.risk] || a.code.localeCompare(b.code)
}
