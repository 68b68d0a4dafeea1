import { describe, expect, it } from 'vitest'
import { applyLocal, batches, nextStatus } from './local.ts'
import type { Today } from './types.ts'

const today = {
  at: '2026-07-14T02:00:00Z',
  grid: { id: 1, code: '530621100201001', name: '一网格', village: '村', township: '镇', outline: { type: 'MultiPolygon', coordinates: [] }, bbox: [0, 0, 1, 1] },
  tasks: [{ id: 5, phase: 'before', targetKind: 'grid', targetName: 'x', targetCode: 'x', dueAt: '2026-07-14T03:00:00Z', status: 'not_started', overdue: false, version: 1,
    items: [{ zh: '一', en: 'one', done: false }, { zh: '二', en: 'two', done: false }] }],
  households: [{ id: 9, code: 'h', householder: '张三', phone: null, members: 3, vulnerable: 1, risk: 'red', lastVisitAt: null, dueAt: '2026-07-14T02:00:00Z', overdue: true, lon: 0, lat: 0, intervalDays: 1 }],
  orders: [], hazards: [], routes: [], shelters: [],
  transfer: [{ orderId: 2, householdId: 9, status: 'moving', people: null, members: 3, vulnerable: 1, reason: null, shelterId: null, routeId: null, updatedAt: '' }],
} as Today

describe('the phone\'s own view of what it did', () => {
  it('ticks, visits and moves at once', () => {
    let t = applyLocal(today, { id: 'a', at: '2026-07-14T02:10:00Z', kind: 'task.item', task: 5, item: 2, done: true, note: '好' }, '王五')
    expect(t.tasks[0].items[1]).toMatchObject({ done: true, note: '好', byName: '王五' })
    expect(t.tasks[0].status).toBe('in_progress')
    t = applyLocal(t, { id: 'b', at: '2026-07-14T02:20:00Z', kind: 'visit', household: 9 }, '王五')
    expect(t.households[0]).toMatchObject({ overdue: false, lastVisitAt: '2026-07-14T02:20:00Z', dueAt: '2026-07-15T02:20:00.000Z' })
    t = applyLocal(t, { id: 'c', at: '2026-07-14T02:30:00Z', kind: 'evac.status', order: 2, household: 9, from: 'moving', status: 'at_shelter' }, '王五')
    expect(t.transfer[0]).toMatchObject({ status: 'at_shelter', people: 3 })
    expect(today.tasks[0].items[1].done).toBe(false) // the kept copy is not changed under the screen
  })

  it('moves one step on, with one tap', () => {
    expect(['not_notified', 'notified', 'moving', 'at_shelter', 'returned'].map(nextStatus)).toEqual(['notified', 'moving', 'at_shelter', 'returned', null])
  })

  it('sends a long outbox in batches, in order', () => {
    const e = (i: number, photo = '') => ({ action: { id: String(i), at: '', kind: 'visit' as const, household: i, photo } })
    const list = Array.from({ length: 120 }, (_, i) => e(i))
    const b = batches(list)
    expect(b.map((x) => x.length)).toEqual([50, 50, 20])
    expect(b.flat()).toEqual(list)
    const big = batches([e(1, 'x'.repeat(4_000_000)), e(2, 'x'.repeat(4_000_000)), e(3)])
    expect(big.map((x) => x.map((y) => y.action.household))).toEqual([[1], [2, 3]])
  })
})
