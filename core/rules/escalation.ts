/**
 * Problem reports (上报) and their escalation: a problem is handled at the
 * lowest level that can, and goes up one level when that level does not
 * acknowledge it or does not handle it in time ("小事不出村、大事不出乡镇、
 * 难事不出县"). Pure: the server's sweep and its SQL follow these functions
 * (tests/db/reports.test.ts holds them to it).
 */

export const levels = ['grid', 'village', 'township', 'county', 'city'] as const
export type Level = (typeof levels)[number]

export const urgencies = ['normal', 'urgent', 'critical'] as const
export type Urgency = (typeof urgencies)[number]

export const states = ['reported', 'acknowledged', 'dispatched', 'handled', 'closed', 'merged'] as const
export type State = (typeof states)[number]

/** States a report is still open in: its clock runs. */
export const openStates: readonly State[] = ['reported', 'acknowledged', 'dispatched']

export interface ReportType {
  code: string
  zh: string
  en: string
  /** The level a new report of this type starts at, by urgency. */
  start: Record<Urgency, Level>
}

export interface ReportRules {
  types: ReportType[]
  /** Minutes a level has to acknowledge a report, by urgency. */
  ackMinutes: Record<Urgency, number>
  /** Minutes from acknowledgement to handled, by urgency. */
  handleMinutes: Record<Urgency, number>
}

/** Flood-season defaults (DOMAIN.md "Field work and problem reports"); the table report_config can change them. */
export const defaultRules: ReportRules = {
  types: [
    { code: 'geohazard', zh: '地质灾害险情', en: 'Geological hazard', start: { normal: 'village', urgent: 'township', critical: 'county' } },
    { code: 'flash_flood', zh: '山洪/内涝', en: 'Flash flood / waterlogging', start: { normal: 'village', urgent: 'township', critical: 'county' } },
    { code: 'road_cut', zh: '道路/桥梁中断', en: 'Road or bridge cut', start: { normal: 'village', urgent: 'township', critical: 'township' } },
    { code: 'house_danger', zh: '房屋险情', en: 'House in danger', start: { normal: 'grid', urgent: 'village', critical: 'township' } },
    { code: 'refuses_transfer', zh: '人员拒不转移', en: 'Person refuses to move', start: { normal: 'village', urgent: 'village', critical: 'township' } },
    { code: 'other', zh: '其他', en: 'Other', start: { normal: 'grid', urgent: 'village', critical: 'township' } },
  ],
  ackMinutes: { critical: 15, urgent: 60, normal: 24 * 60 },
  handleMinutes: { critical: 2 * 60, urgent: 6 * 60, normal: 3 * 24 * 60 },
}

/** The level above, or null at the top. */
export function nextLevel(level: Level): Level | null {
  return levels[levels.indexOf(level) + 1] ?? null
}

/**
 * The unit that owns a report at `level`, from the 15-digit code of the grid
 * it lies in: codes nest, so this is arithmetic on the code (village = its
 * first 12 digits, township 9 + 000, county 6 + 000000, city 4 + 00000000).
 */
export function unitAt(gridCode: string, level: Level): string {
  if (!/^[0-9]{15}$/.test(gridCode)) throw new Error(`not a grid code: ${gridCode}`)
  switch (level) {
    case 'grid': return gridCode
    case 'village': return gridCode.slice(0, 12)
    case 'township': return `${gridCode.slice(0, 9)}000`
    case 'county': return `${gridCode.slice(0, 6)}000000`
    case 'city': return `${gridCode.slice(0, 4)}00000000`
  }
}

/** The level a unit code names (a 15-digit grid, or a 12-digit admin code by its trailing zeros). */
export function levelOf(code: string): Level {
  if (code.length === 15) return 'grid'
  if (code.endsWith('00000000')) return 'city'
  if (code.endsWith('000000')) return 'county'
  if (code.endsWith('000')) return 'township'
  return 'village'
}

export function startLevel(rules: ReportRules, type: string, urgency: Urgency): Level | null {
  return rules.types.find((t) => t.code === type)?.start[urgency] ?? null
}

/** What a report's clock needs to know. */
export interface Clocked {
  state: State
  urgency: Urgency
  level: Level
  /** When it reached its current level (filed there, or escalated to it). */
  levelSince: Date
  /** When its current level acknowledged it (null: not yet). */
  acknowledgedAt: Date | null
}

/**
 * When the current level's time runs out: acknowledge within ackMinutes of
 * reaching the level; once acknowledged, handle within handleMinutes of the
 * acknowledgement. Null when no clock runs (handled, closed, merged).
 */
export function deadline(r: Clocked, rules: ReportRules): Date | null {
  if (!openStates.includes(r.state)) return null
  if (r.state === 'reported' || !r.acknowledgedAt) return addMinutes(r.levelSince, rules.ackMinutes[r.urgency])
  return addMinutes(r.acknowledgedAt, rules.handleMinutes[r.urgency])
}

export type EscalationReason = 'not_acknowledged' | 'not_handled' | 'by_hand'

/**
 * Whether the clock moves a report up now, and to where. At the top level it
 * stays (overdue, and says so) — there is no one higher to send it to.
 */
export function escalation(r: Clocked, rules: ReportRules, now: Date): { to: Level; reason: EscalationReason } | null {
  const due = deadline(r, rules)
  if (!due || due.getTime() > now.getTime()) return null
  const to = nextLevel(r.level)
  if (!to) return null
  return { to, reason: r.state === 'reported' ? 'not_acknowledged' : 'not_handled' }
}

/** Whether a report is past its current level's time (also at the top, where it cannot rise). */
export function isOverdue(r: Clocked, rules: ReportRules, now: Date): boolean {
  const due = deadline(r, rules)
  return !!due && due.getTime() <= now.getTime()
}

/** The report after an escalation: at its new level, waiting to be acknowledged there, its clock restarted. */
export function escalated<R extends Clocked>(r: R, to: Level, now: Date): R {
  return { ...r, level: to, levelSince: now, state: 'reported', acknowledgedAt: null }
}

export const actions = ['acknowledge', 'dispatch', 'handled', 'close', 'escalate', 'merge'] as const
export type Action = (typeof actions)[number]

/** The state each action moves a report to, and the states it may start from. */
const moves: Record<Action, { from: readonly State[]; to: State | null }> = {
  acknowledge: { from: ['reported'], to: 'acknowledged' },
  dispatch: { from: ['acknowledged', 'dispatched'], to: 'dispatched' },
  handled: { from: ['acknowledged', 'dispatched'], to: 'handled' },
  close: { from: ['handled'], to: 'closed' },
  // Escalating keeps the report open; its new level must acknowledge it again.
  escalate: { from: ['reported', 'acknowledged', 'dispatched'], to: 'reported' },
  merge: { from: ['reported', 'acknowledged', 'dispatched', 'handled'], to: 'merged' },
}

/** The state an action leads to, or null when the report's state does not allow it. */
export function move(state: State, action: Action): State | null {
  const m = moves[action]
  return m.from.includes(state) ? m.to : null
}

/**
 * Whether someone whose scope is `scope` acts for the level that owns the
 * report now: their scope is exactly that level's unit. A level above can
 * see it (and is told when it escalates) but the owner answers for it.
 */
export function actsFor(scope: string, r: { level: Level; gridCode: string }): boolean {
  return scope === unitAt(r.gridCode, r.level)
}

/**
 * Whether `scope` may escalate by hand: the owning level, or anyone below it
 * on the report's chain (a grid worker who sees the village is not acting).
 */
export function mayEscalate(scope: string, r: { level: Level; gridCode: string }): boolean {
  const own = levels.indexOf(r.level)
  return levels.some((l, i) => i <= own && unitAt(r.gridCode, l) === scope)
}

function addMinutes(d: Date, minutes: number): Date {
  return new Date(d.getTime() + minutes * 60_000)
}
