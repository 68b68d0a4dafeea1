/** The reports API's JSON (api/reports/read.ts, api/README.md "Problem reports and escalation"). */
import type { Action, Level, State, Urgency } from '../../../core/rules/escalation.ts'

export type { Action, Level, State, Urgency }

export interface ReportRow {
  id: number
  type: string
  urgency: Urgency
  state: State
  level: Level
  gridCode: string
  unitCode: string
  gridName: string | null
  unitName: string | null
  note: string
  lng: number
  lat: number
  reportedBy: string
  reportedAt: string
  receivedAt: string
  levelSince: string
  acknowledgedAt: string | null
  dueAt: string | null
  overdue: boolean
  assignee: string | null
  assigneeDueAt: string | null
  handledNote: string | null
  closedAt: string | null
  mergedInto: number | null
  callerName: string | null
  callerPhone: string | null
  version: number
}

export interface ReportCounts { open: number; overdue: number; critical: number; urgent: number; normal: number }
export interface ReportList { unit: string; total: number; counts: ReportCounts; reports: ReportRow[] }

export interface ReportStep {
  at: string
  action: 'filed' | Action | 'propose_site' | 'confirm_site' | 'transfer'
  fromLevel: Level | null
  toLevel: Level | null
  fromState: State | null
  toState: State
  reason: string | null
  actorName: string
  auto: boolean
}
export interface ReportDetail extends ReportRow {
  steps: ReportStep[]
  /** What the reader may do now (role, level, state), as the server will check it. */
  may: Action[]
  /** Photos sent with it from the field app (GET /api/field/photos/{id}). */
  photos: number[]
  /** The hazard site it is at, or the one proposed from it (`proposed`). */
  site: { id: number; code: string; name: string; type: string; status: 'active' | 'proposed' | 'cancelled'; proposed: boolean } | null
  /** Transfer orders started from it. */
  orders: { id: number; title: string; status: 'active' | 'closed'; issuedAt: string }[]
  /** What else the reader may start from it now (api/reports/read.ts, core/rules/report-links.ts). */
  offers: { proposeSite: boolean; confirmSite: boolean; transfer: boolean }
}

export interface ReportTypes {
  types: { code: string; zh: string; en: string }[]
  urgencies: Urgency[]
  /** Minutes a level has to acknowledge, and then to handle, by urgency. */
  ackMinutes: Record<Urgency, number>
  handleMinutes: Record<Urgency, number>
  /** The rules' version, sent back with a change (PUT /api/reports/rules). */
  version: number
}

/** A live `report` event's data (api/reports/file.ts, act.ts, sweep.ts). */
export interface ReportEvent {
  id: number
  action: 'filed' | Action
  urgency: Urgency
  level: Level
  state: State
  /** The grid the report lies in. */
  unitCode: string
  name?: { zh: string; en: string }
}
