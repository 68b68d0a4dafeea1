import { describe, expect, it } from 'vitest'
import { checkTransition, statuses, type Status } from './transfer.ts'

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
