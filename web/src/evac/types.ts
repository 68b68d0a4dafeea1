/** The evacuation API's JSON (api/README.md, "Evacuation"). */
import { statuses } from '../../../core/rules/transfer.ts'
import type { EvacStatus } from '../map/colors.ts'

export const evacStatuses: readonly EvacStatus[] = statuses
/** The next step along the way for the one-click button. */
export const nextStatus: Partial<Record<EvacStatus, EvacStatus>> = {
  not_notified: 'notified', notified: 'moving', moving: 'at_shelter', at_shelter: 'returned', refused: 'notified', unreachable: 'notified',
}

export interface OrderRow {
  id: number; unitCode: string; unitName: string | null; title: string; stage: 'vulnerable' | 'everyone'; triggerKind: string
  deadline: string; status: 'active' | 'closed'; issuedBy: string; issuedAt: string; version: number
  households: number; people: number; safe: number; exceptions: number
}
export interface Counts { households: number; people: number; counted: number }
export interface ChildRow {
  code: string; name: string | null; households: number; people: number; safe: number; peopleSafe: number | null
  notNotified: number; exceptions: number; vulnerableNotSafe: number
}
export interface ShelterRow {
  id: number; name: string; capacity: number; certifiedSafe: boolean; lon: number; lat: number
  assigned: number | null; present: number; assignedAllOrders: number
}
export interface OrderProgress {
  order: OrderRow & { note: string | null; triggerRef: Record<string, unknown> | null }
  view: string
  totals: Record<EvacStatus, Counts>
  children: ChildRow[]
  shelters: ShelterRow[]
  vulnerableNotSafe: number
  shortfallHouseholds: number
  shortfallPeople: number
}
interface Person { id?: number; name: string; phone: string | null; role?: string }
export interface TransferRow {
  id: number; code: string; householder: string; phone: string | null; members: number; vulnerable: number; status: EvacStatus
  people: number | null; reason: string | null; updatedAt: string; updatedBy: string | null; gridCode: string; gridName: string | null
  lon: number; lat: number; masked: boolean
  hazard: { id: number; name: string; type: string; signal: string | null } | null
  shelter: { id: number; name: string; manager: string | null; managerPhone: string | null; certifiedSafe: boolean } | null
  route: { id: number; lengthM: number; from: string } | null
  cadre: Person | null
}
export interface HouseholdList {
  order: { id: number; title: string; deadline: string; triggerKind: string; stage: string }
  total: number
  households: TransferRow[]
}
export interface Proposal {
  eventId: number; step: '6h' | '2h'; township: string; townshipName: string; due: string; stage: 'vulnerable' | 'everyone'; sites: number[]
}
export interface OrderSummary {
  households: number; people: number; vulnerable: number; planned: number; nearest: number
  shortfall: { households: number; people: number }; alreadyInTransfer: number; outsideScope: number; uncertifiedPlanned: number
}
