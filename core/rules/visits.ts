import type { RiskLevel } from './risk.ts'

/**
 * How often a grid worker visits a household, by its risk level: red daily,
 * yellow weekly, green monthly. A household not visited within its interval
 * (or never) is overdue, and the ledger says so.
 */
export const visitIntervalDays: Record<RiskLevel, number> = { red: 1, yellow: 7, green: 30 }

const DAY = 86_400_000

/** Whether a household of `risk` last visited at `lastVisit` (null: never) is overdue at `now`. */
export function visitOverdue(risk: RiskLevel, lastVisit: Date | null, now: Date): boolean {
  return !lastVisit || now.getTime() - lastVisit.getTime() > visitIntervalDays[risk] * DAY
}
