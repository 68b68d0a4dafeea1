import type { Phase } from '../rules/checks.ts'
import type { Level, Urgency } from '../rules/escalation.ts'
import type { RainAsOf } from '../rules/rain-current.ts'
import type { Colour } from '../rules/rain-signal.ts'
import type { Status } from '../rules/transfer.ts'

/**
 * The answer of GET /api/wall/state (api/wall/state.ts makes it, the command
 * wall in web/src/wall reads it): what the wall shows for an area at a moment.
 */
export interface PhaseCount { total: number; done: number; inProgress: number }
export interface WallState {
  at: string
  /**
   * How old the rain is (core/rules/rain-current.ts rainAsOf, the same as the map’s
   * legend): figures of rain that is not current are history, so no grid is
   * counted under a signal and no site past its critical rainfall then.
   */
  rain: RainAsOf
  /** The storm (replay window) `at` lies in, if any: the ticker shows its events only. */
  storm: { from: string; to: string } | null
  unit: { code: string; name: string; level: string }
  warnings: { issued: Record<Colour, number>; grids: Record<Colour, number> }
  sites: { active: number; overCritical: number; top: AlertSite[] }
  checks: Record<Phase, PhaseCount>
  transfer: Record<Status, number> & {
    orders: number; households: number; people: number; peopleAtShelter: number
    vulnerable: number; vulnerableNotSafe: number
  }
  shelters: { id: number; name: string; lon: number; lat: number; capacity: number; people: number; assigned: number }[]
  townships: { code: string; name: string; households: number; safe: number; checks: number; checksDone: number }[]
  stations: { code: string; lon: number; lat: number; mm1: number; mm24: number }[]
  villages: { code: string; name: string; lon: number; lat: number; colour: Colour | null; households: number; safe: number }[]
  counties: { code: string; name: string; bbox: [number, number, number, number]; severity: number }[]
  reports: WallReports
  ticker: { id: number; at: string; kind: string; unitCode: string; unitName: string | null; payload: Record<string, unknown> }[]
}
export interface AlertSite { code: string; name: string; lon: number; lat: number; rain1h: number; rain24h: number; critical1h: number; critical24h: number }

/**
 * Problem reports (上报) at the moment: each report as its steps up to then
 * left it (state, level, and so its clock and whether it was overdue).
 */
export interface WallReports {
  /** Where the window for 办结率 and time to acknowledge starts: the storm's start, else a week before the moment. */
  since: string
  /** Open reports (waiting, acknowledged, dispatched) by the level owning them and urgency. */
  open: Record<Level, Record<Urgency, number>>
  openTotal: number
  /** Open reports past their level's time (core/rules/escalation.ts isOverdue), by level. */
  overdue: Record<Level, number>
  overdueTotal: number
  /**
   * Townships with reports filed in the window or open: filed in the window (duplicates merged into
   * another not counted), of which closed by the moment (办结率 = closed / filed), open, overdue, and the
   * median minutes from filing to the first acknowledgement of those filed in the window (null: none yet).
   */
  townships: { code: string; name: string; filed: number; closed: number; open: number; overdue: number; ackMedianMinutes: number | null }[]
}
