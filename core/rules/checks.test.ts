import { describe, expect, it } from 'vitest'
import { duringRain, gridCheckState, isOverdue, pastCritical, statusOfItems, taskStatuses } from './checks.ts'

const now = new Date('2026-07-15T10:00:00+08:00')
const before = new Date(now.getTime() - 1)
const after = new Date(now.getTime() + 1)

describe('三查 tasks', () => {
  it('take their status from their items', () => {
    expect(statusOfItems([{ done: false }, { done: false }])).toBe('not_started')
    expect(statusOfItems([{ done: true }, { done: false }])).toBe('in_progress')
    expect(statusOfItems([{ done: true }, { done: true }])).toBe('done')
  })

  it('are overdue while open past due; done and missed ones never are', () => {
    for (const status of taskStatuses) {
      const open = status === 'not_started' || status === 'in_progress'
      expect(isOverdue({ status, dueAt: before }, now), status).toBe(open)
      expect(isOverdue({ status, dueAt: now }, now), `${status} due now`).toBe(false)
      expect(isOverdue({ status, dueAt: after }, now), status).toBe(false)
    }
  })
})

describe('a grid’s 三查 state', () => {
  const grid = (o: Partial<Parameters<typeof gridCheckState>[0]>) => gridCheckState({ total: 4, done: 0, overdue: 0, missed: 0, notStarted: 0, ...o })
  it('is done only when every task is, overdue before missed, missed before the rest', () => {
    expect(grid({ done: 4 })).toBe('done')
    expect(grid({ done: 3, overdue: 1 })).toBe('overdue')
    expect(grid({ overdue: 1, missed: 2, notStarted: 1 })).toBe('overdue')
    expect(grid({ done: 2, missed: 2 })).toBe('missed')
    expect(grid({ notStarted: 4 })).toBe('not_started')
    expect(grid({ notStarted: 3, done: 1 })).toBe('in_progress')
    expect(grid({ notStarted: 2 })).toBe('in_progress') // two under way
  })
})

describe('during-rain checks', () => {
  const unit = { current: true, rain1h: 5, signal: null, warning: null, pastCritical: false }
  it('open while it rains under a signal, a warning or past critical rainfall', () => {
    expect(duringRain({ ...unit, signal: 'blue' }, 0.1)).toBe(true)
    expect(duringRain({ ...unit, warning: 'yellow' }, 0.1)).toBe(true)
    expect(duringRain({ ...unit, pastCritical: true }, 0.1)).toBe(true)
    expect(duringRain(unit, 0.1)).toBe(false)
  })
  it('do not open once it has stopped raining, nor on rain that is not current', () => {
    expect(duringRain({ ...unit, rain1h: 0.09, signal: 'red' }, 0.1)).toBe(false)
    expect(duringRain({ ...unit, rain1h: 0.1, signal: 'red' }, 0.1)).toBe(true)
    expect(duringRain({ ...unit, current: false, signal: 'red', pastCritical: true }, 0.1)).toBe(false)
  })
  it('count a site past its critical rainfall on its 1 h or its 24 h threshold', () => {
    const critical = { h1: 35, h24: 100 }
    expect(pastCritical({ h1: 35, h24: 40 }, critical)).toBe(true)
    expect(pastCritical({ h1: 10, h24: 100 }, critical)).toBe(true)
    expect(pastCritical({ h1: 34.9, h24: 99.9 }, critical)).toBe(false)
  })
})
