import { describe, expect, it } from 'vitest'
import { metresBetween, visitOrder } from './visit-order.ts'
import type { Household } from './types.ts'

const hh = (code: string, lon: number, lat: number, overdue: boolean, dueAt: string): Household => ({
  id: Number(code), code, householder: code, phone: null, members: 1, vulnerable: 0, risk: 'red', lastVisitAt: null,
  dueAt, overdue, lon, lat, intervalDays: 1,
})

describe('the order of the households to visit', () => {
  const here = { lng: 103.7, lat: 27.3 }
  const list = [
    hh('1', 103.71, 27.3, false, '2026-07-14T10:00:00Z'), // ~990 m east, due first
    hh('2', 103.701, 27.3, false, '2026-07-15T10:00:00Z'), // ~99 m east
    hh('3', 103.72, 27.3, true, '2026-07-13T10:00:00Z'), // overdue, ~2 km
    hh('4', 103.7, 27.301, true, '2026-07-13T12:00:00Z'), // overdue, ~110 m north
  ]
  it('puts the overdue first, then the nearest first when the phone knows where it is', () => {
    const order = visitOrder(list, here)
    expect(order.map((x) => x.h.code)).toEqual(['4', '3', '2', '1'])
    expect(order[0].metres).toBeGreaterThan(100)
    expect(order[0].metres).toBeLessThan(120)
  })
  it('without a position: overdue first, then the one due soonest, and no distances', () => {
    const order = visitOrder(list, null)
    expect(order.map((x) => x.h.code)).toEqual(['3', '4', '1', '2'])
    expect(order.every((x) => x.metres === null)).toBe(true)
  })
  it('measures metres on the ground: a degree of latitude is ~110.6 km, of longitude less by the cosine', () => {
    expect(metresBetween({ lng: 103, lat: 27 }, { lng: 103, lat: 28 })).toBeCloseTo(110_574, -1)
    expect(metresBetween({ lng: 103, lat: 27.3 }, { lng: 104, lat: 27.3 })).toBeCloseTo(111_320 * Math.cos(27.3 * Math.PI / 180), -1)
    expect(metresBetween(here, here)).toBe(0)
  })
  it('leaves the list it is given as it was', () => {
    const copy = list.map((h) => h.code)
    visitOrder(list, here)
    expect(list.map((h) => h.code)).toEqual(copy)
  })
})
