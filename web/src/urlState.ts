import type { RecordKind } from './api.ts'
import { isUnitCode } from './units.ts'

/** The chosen area and record live in the address, so a reload or a shared link shows the same view. */
export interface RecordRef { kind: RecordKind; id: number }
export interface UrlState { unit: string | null; record: RecordRef | null }

const kinds: RecordKind[] = ['household', 'grid', 'hazard', 'shelter']

export function readUrlState(): UrlState {
  const q = new URLSearchParams(location.search)
  const unit = q.get('unit')
  const rec = /^(\w+):([1-9][0-9]{0,9})$/.exec(q.get('record') ?? '')
  return {
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
  const search = q.toString()
  history.replaceState(null, '', `${location.pathname}${search ? `?${search}` : ''}${location.hash}`)
}
