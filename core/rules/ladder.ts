import type { RiskLevel } from './risk.ts'
import { scopePrefix } from '../units.ts'

/**
 * Yunnan's 1262 ladder (“1262”精细化预报与响应联动机制): heavy rain (> 50 mm)
 * forecast 12 h ahead down to the county, 6 h and 2 h ahead down to the
 * township, each opening steps: at 12 h patrols check hazard sites and grids;
 * at 6 h vulnerable people move first; at 2 h everyone under threat moves,
 * and at night, when the risk cannot be judged, everyone moves.
 *
 * The ladder is rain_config 'ladder' (data/migrations/005_rain.sql seeds it as
 * ladder1262; a flood office may tune it). The rain engine opens the
 * before-rain checks in one SQL statement (api/rain/engine.ts openBeforeRain);
 * tests/db/rain.test.ts holds it to ladderCall on a replayed storm.
 */

/** Which households a step calls: the vulnerable (elderly alone, left-behind children, disabled), or also every red one. */
export type HouseholdSet = 'vulnerable' | 'everyone' | null
export type Lead = 12 | 6 | 2

export interface LadderStep {
  lead: Lead
  level: 'county' | 'township'
  targets: ('hazard_site' | 'grid')[]
  households: HouseholdSet
  /** The checks are due this long before the rain starts (never sooner than 30 minutes after the forecast). */
  dueBeforeStartHours: number
}

export interface Ladder {
  heavyRainMm: number
  steps: LadderStep[]
  /** Rain starting at night (fromHour–toHour local time) calls `households` at every step that calls any. */
  night: { fromHour: number; toHour: number; timeZone: string; households: HouseholdSet }
}

/** The ladder as the flood office of Yunnan runs it, and as the first migration seeds it. */
export const ladder1262: Ladder = {
  heavyRainMm: 50,
  steps: [
    { lead: 12, level: 'county', targets: ['hazard_site', 'grid'], households: null, dueBeforeStartHours: 6 },
    { lead: 6, level: 'township', targets: ['hazard_site', 'grid'], households: 'vulnerable', dueBeforeStartHours: 2 },
    { lead: 2, level: 'township', targets: ['hazard_site', 'grid'], households: 'everyone', dueBeforeStartHours: 0 },
  ],
  night: { fromHour: 20, toHour: 6, timeZone: 'Asia/Shanghai', households: 'everyone' },
}

/** A forecast of rain for an area (rain_forecasts). */
export interface Forecast {
  areaCode: string
  leadHours: number
  mm: number
  issuedAt: Date
  periodStart: Date
}

/** What a forecast calls for: the step, the area (a code prefix), the targets and households, and when the checks are due. */
export interface LadderCall {
  step: `${Lead}h`
  prefix: string
  targets: LadderStep['targets']
  households: HouseholdSet
  dueAt: Date
}

const HOUR = 3600_000

/** The hour (0–23) of `at` on the clock of `timeZone`. */
function localHour(at: Date, timeZone: string): number {
  const h = new Intl.DateTimeFormat('en-GB', { timeZone, hour: 'numeric', hourCycle: 'h23' }).formatToParts(at).find((p) => p.type === 'hour')
  return Number(h!.value)
}

/** Whether rain starting at `at` starts at night by the ladder's clock (a night may run past midnight). */
export function atNight(night: Ladder['night'], at: Date): boolean {
  const h = localHour(at, night.timeZone)
  return night.fromHour > night.toHour ? h >= night.fromHour || h < night.toHour : h >= night.fromHour && h < night.toHour
}

/** The step a forecast opens; null when it is not heavy rain or not at a lead time of the ladder. */
export function ladderCall(ladder: Ladder, f: Forecast): LadderCall | null {
  const step = ladder.steps.find((s) => s.lead === f.leadHours)
  if (!step || f.mm < ladder.heavyRainMm) return null
  const households = step.households && atNight(ladder.night, f.periodStart) ? (ladder.night.households ?? step.households) : step.households
  const dueAt = new Date(Math.max(f.periodStart.getTime() - step.dueBeforeStartHours * HOUR, f.issuedAt.getTime() + HOUR / 2))
  return { step: `${step.lead}h`, prefix: scopePrefix(f.areaCode), targets: step.targets, households, dueAt }
}

/** Whether a household is among those a step calls. */
export function householdCalled(set: HouseholdSet, h: { risk: RiskLevel; vulnerable: number }): boolean {
  if (!set) return false
  return h.vulnerable > 0 || (set === 'everyone' && h.risk === 'red')
}

/**
 * The transfer a commander is offered once a step's checks are open
 * (api/evac/cards.ts ladderProposals): the 2 h step, or a step that called
 * everyone (night), moves everyone threatened; the 6 h step the vulnerable first.
 */
export function proposedStage(step: '6h' | '2h', calledEveryone: boolean): 'vulnerable' | 'everyone' {
  return step === '2h' || calledEveryone ? 'everyone' : 'vulnerable'
}
