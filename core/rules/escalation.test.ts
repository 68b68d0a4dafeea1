import { describe, expect, it } from 'vitest'
import {
  actsFor, deadline, defaultRules, escalated, escalation, isOverdue, levelOf, mayEscalate, move, nextLevel, startLevel, unitAt,
  type Clocked,
} from './escalation.ts'

const grid = '530602100201003'
const t0 = new Date('2026-07-15T10:00:00+08:00')
const min = (n: number) => new Date(t0.getTime() + n * 60_000)
const report = (over: Partial<Clocked> = {}): Clocked => ({ state: 'reported', urgency: 'critical', level: 'township', levelSince: t0, acknowledgedAt: null, ...over })

describe('report levels', () => {
  it('finds the unit owning each level from the grid code, and the level of a code', () => {
    expect(unitAt(grid, 'grid')).toBe(grid)
    expect(unitAt(grid, 'village')).toBe('530602100201')
    expect(unitAt(grid, 'township')).toBe('530602100000')
    expect(unitAt(grid, 'county')).toBe('530602000000')
    expect(unitAt(grid, 'city')).toBe('530600000000')
    for (const l of ['grid', 'village', 'township', 'county', 'city'] as const) expect(levelOf(unitAt(grid, l))).toBe(l)
    expect(() => unitAt('530602100201', 'grid')).toThrow()
  })

  it('goes up one level at a time and stops at the city', () => {
    expect(nextLevel('grid')).toBe('village')
    expect(nextLevel('county')).toBe('city')
    expect(nextLevel('city')).toBeNull()
  })

  it('starts a report where its type and urgency say; an unknown type has no start', () => {
    expect(startLevel(defaultRules, 'geohazard', 'critical')).toBe('county')
    expect(startLevel(defaultRules, 'geohazard', 'normal')).toBe('village')
    expect(startLevel(defaultRules, 'house_danger', 'normal')).toBe('grid')
    expect(startLevel(defaultRules, 'nonsense', 'normal')).toBeNull()
  })
})

describe('report clocks', () => {
  it('gives a level its acknowledge time, then its handle time from the acknowledgement', () => {
    expect(deadline(report(), defaultRules)).toEqual(min(15))
    expect(deadline(report({ urgency: 'urgent' }), defaultRules)).toEqual(min(60))
    expect(deadline(report({ urgency: 'normal' }), defaultRules)).toEqual(min(24 * 60))
    expect(deadline(report({ state: 'acknowledged', acknowledgedAt: min(5) }), defaultRules)).toEqual(min(5 + 120))
    expect(deadline(report({ state: 'dispatched', acknowledgedAt: min(5) }), defaultRules)).toEqual(min(5 + 120))
    for (const state of ['handled', 'closed', 'merged'] as const) expect(deadline(report({ state }), defaultRules)).toBeNull()
  })

  it('escalates one level when not acknowledged in time, and not a minute before', () => {
    expect(escalation(report(), defaultRules, min(14))).toBeNull()
    expect(escalation(report(), defaultRules, min(15))).toEqual({ to: 'county', reason: 'not_acknowledged' })
    expect(escalation(report({ state: 'acknowledged', acknowledgedAt: min(1) }), defaultRules, min(60))).toBeNull()
    expect(escalation(report({ state: 'acknowledged', acknowledgedAt: min(1) }), defaultRules, min(121))).toEqual({ to: 'county', reason: 'not_handled' })
  })

  it('keeps a report at the top overdue but does not move it', () => {
    const top = report({ level: 'city' })
    expect(escalation(top, defaultRules, min(60))).toBeNull()
    expect(isOverdue(top, defaultRules, min(60))).toBe(true)
    expect(isOverdue(top, defaultRules, min(10))).toBe(false)
  })

  it('restarts the clock at the new level, waiting for its acknowledgement', () => {
    const up = escalated(report({ state: 'acknowledged', acknowledgedAt: min(1) }), 'county', min(121))
    expect(up).toMatchObject({ level: 'county', state: 'reported', acknowledgedAt: null, levelSince: min(121) })
    expect(deadline(up, defaultRules)).toEqual(min(121 + 15))
  })
})

describe('report handling', () => {
  it('moves through acknowledge → dispatch → handled → close, and refuses moves out of order', () => {
    expect(move('reported', 'acknowledge')).toBe('acknowledged')
    expect(move('acknowledged', 'dispatch')).toBe('dispatched')
    expect(move('dispatched', 'dispatch')).toBe('dispatched')
    expect(move('dispatched', 'handled')).toBe('handled')
    expect(move('handled', 'close')).toBe('closed')
    expect(move('reported', 'close')).toBeNull()
    expect(move('reported', 'handled')).toBeNull()
    expect(move('closed', 'acknowledge')).toBeNull()
    expect(move('closed', 'escalate')).toBeNull()
    expect(move('merged', 'merge')).toBeNull()
    expect(move('acknowledged', 'escalate')).toBe('reported')
  })

  it('lets only the owning level act, and it or a level below escalate by hand', () => {
    const r = { level: 'township' as const, gridCode: grid }
    expect(actsFor('530602100000', r)).toBe(true)
    expect(actsFor('530602000000', r)).toBe(false)
    expect(actsFor('530602101000', r)).toBe(false)
    expect(actsFor(grid, r)).toBe(false)
    expect(mayEscalate(grid, r)).toBe(true)
    expect(mayEscalate('530602100201', r)).toBe(true)
    expect(mayEscalate('530602100000', r)).toBe(true)
    expect(mayEscalate('530602000000', r)).toBe(false)
    expect(mayEscalate('530602100201004', r)).toBe(false)
  })
})
