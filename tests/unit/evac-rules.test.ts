import { describe, expect, it } from 'vitest'
import { assignShelters, type Candidate } from '../../api/evac/assign.ts'
import { commonUnit } from '../../api/evac/orders.ts'
import { checkTransition, statuses, type Status } from '../../api/evac/status.ts'

const code = (fn: () => void) => {
  try {
    fn()
    return 'ok'
  } catch (e) {
    return (e as { code: string }).code
  }
}

describe('transfer status rules', () => {
  it('lets a household go forward freely and back only with a reason', () => {
    const forward: [Status, Status][] = [['not_notified', 'notified'], ['notified', 'moving'], ['moving', 'at_shelter'], ['at_shelter', 'returned'],
      ['not_notified', 'moving'], ['not_notified', 'refused'], ['notified', 'unreachable'], ['moving', 'refused'], ['refused', 'notified'],
      ['unreachable', 'at_shelter'], ['refused', 'unreachable']]
    for (const [from, to] of forward) expect(code(() => checkTransition(from, to, undefined)), `${from}→${to}`).toBe('ok')
    const back: [Status, Status][] = [['notified', 'not_notified'], ['moving', 'notified'], ['at_shelter', 'moving'], ['returned', 'at_shelter'],
      ['at_shelter', 'refused'], ['returned', 'unreachable'], ['refused', 'not_notified'], ['moving', 'returned'], ['not_notified', 'returned']]
    for (const [from, to] of back) {
      expect(code(() => checkTransition(from, to, undefined)), `${from}→${to}`).toBe('reason_required')
      expect(code(() => checkTransition(from, to, '家中有病人')), `${from}→${to} with a reason`).toBe('ok')
    }
  })
  it('refuses a change to the same status, reason or not', () => {
    for (const s of statuses) {
      expect(code(() => checkTransition(s, s, undefined))).toBe('same_status')
      expect(code(() => checkTransition(s, s, 'again'))).toBe('same_status')
    }
  })
})

describe('shelter assignment', () => {
  const h = (id: number, members: number, o: Partial<Candidate> = {}): Candidate => ({ id, members, vulnerable: 0, gridId: 1, hazardId: null, planned: null, ...o })
  it('fills the planned shelter first, then the nearest with room, and never beyond capacity', () => {
    const room = new Map([[10, 6], [20, 5], [30, 100]])
    const out = assignShelters([h(1, 4, { planned: 10 }), h(2, 4, { planned: 10 }), h(3, 3)], new Map([[1, [20, 30]]]), room)
    expect(out.get(1)).toEqual({ shelterId: 10, how: 'planned' })
    expect(out.get(2)).toEqual({ shelterId: 20, how: 'nearest' }) // 10 has 2 places left
    expect(out.get(3)).toEqual({ shelterId: 30, how: 'nearest' }) // 20 has 1 left
    expect([...room.values()]).toEqual([2, 1, 97])
  })
  it('gives scarce places to vulnerable people first, then to the threatened, and reports the rest', () => {
    const room = new Map([[10, 5]])
    const out = assignShelters([h(1, 3), h(2, 3, { hazardId: 7 }), h(3, 3, { vulnerable: 1 })], new Map([[1, [10]]]), room)
    expect(out.get(3)!.shelterId).toBe(10)
    expect(out.get(2)!.how).toBe('none')
    expect(out.get(1)!.how).toBe('none')
  })
  it('leaves a household whose grid has no shelter in reach without one', () => {
    expect(assignShelters([h(1, 2, { gridId: 9 })], new Map(), new Map()).get(1)).toEqual({ shelterId: null, how: 'none' })
  })
})

describe('the unit an order belongs to', () => {
  it('is the smallest admin unit holding all its grids', () => {
    expect(commonUnit(['530602100201001', '530602100201009'])).toBe('530602100201')
    expect(commonUnit(['530602100201001', '530602100202001'])).toBe('530602100000')
    expect(commonUnit(['530602100201001', '530602101201001'])).toBe('530602000000')
    expect(commonUnit(['530602100201001', '530621100201001'])).toBe('530600000000')
  })
})
