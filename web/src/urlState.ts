import type { RecordKind } from './api.ts'
import { isUnitCode } from '../../core/units.ts'

/** The chosen area and record live in the address, so a reload or a shared link shows the same view. */
export interface RecordRef { kind: RecordKind; id: number }
/** `order`: the transfer order open in the evacuation panel; `report`: the problem report open in the reports panel. */
export interface UrlState { unit: string | null; record: RecordRef | null; order: number | null; report?: number | null }

const kinds: RecordKind[] = ['household', 'grid', 'hazard', 'shelter']

export function readUrlState(): UrlState {
  const q = new URLSearchParams(location.search)
  const unit = q.get('unit')
  const rec = /^(\w+):([1-9][0-9]{0,9})$/.exec(q.get('record') ?? '')
  const order = /^[1-9][0-9]{0,9}$/.exec(q.get('order') ?? '')
  const report = /^[1-9][0-9]{0,9}$/.exec(q.get('report') ?? '')
  return {
    order: order ? Number(order[0]) : null,
    report: report ? Number(report[0]) : null,
    unit: isUnitCode(unit) ? unit : null,
    record: rec && kinds.includes(rec[1] as RecordKind) ? { kind: rec[1] as RecordKind, id: Number(rec[2]) } : null,
  }
}

export function writeUrlState(s: UrlState) {
  const q = new URLSearchParams(location.search)
  if (s.unit) q.set('unit', s.unit)
  else q.delete('unit')
  if (s.record) q.set('record', `${s.record.kind}:${s.record.id}`)
  else q.delete('record')
  if (s.order) q.set('order', String(s.order))
  else q.delete('order')
  if (s.report) q.set('report', String(s.report))
  else q.delete('report')
  const search = q.toString()
  history.replaceState(null, '', `${location.pathname}${search ? `?${search}` : ''}${location.hash}`)
}
