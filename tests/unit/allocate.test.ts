import { describe, expect, it } from 'vitest'
import { allocate } from '../../data/seed/allocate.ts'

describe('allocate (largest remainder)', () => {
  it('sums to the total exactly and follows the weights', () => {
    const w = [2167, 1487, 3245, 2022, 1721, 2789, 746, 3696, 2804, 1400, 440]
    const out = allocate(30700, w, 1)
    expect(out.reduce((a, b) => a + b, 0)).toBe(30700)
    const share = (i: number) => out[i] / 30700 - w[i] / w.reduce((a, b) => a + b, 0)
    for (let i = 0; i < w.length; i++) expect(Math.abs(share(i))).toBeLessThan(0.001)
  })
  it('gives every item its minimum even at zero weight', () => {
    expect(allocate(10, [0, 0, 5], 2)).toEqual([2, 2, 6])
    expect(allocate(3, [0, 0, 0])).toEqual([1, 1, 1])
  })
  it('refuses what cannot be done', () => {
    expect(() => allocate(2, [1, 1, 1], 1)).toThrow(/at least/)
    expect(() => allocate(-1, [1])).toThrow(/whole number/)
    expect(() => allocate(1.5, [1])).toThrow(/whole number/)
    expect(() => allocate(5, [1, Number.NaN])).toThrow(/finite/)
    expect(() => allocate(5, [1, -2])).toThrow(/finite/)
  })
  it('is empty for no items', () => expect(allocate(5, [])).toEqual([]))
})
