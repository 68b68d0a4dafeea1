import { describe, expect, it } from 'vitest'
import { signalColour } from './rain-signal.ts'

describe('rainstorm signals', () => {
  it('colours by the highest signal whose window sum reaches its threshold', () => {
    const cfg = { blue: { mm: 50, hours: 12 }, yellow: { mm: 50, hours: 6 }, orange: { mm: 50, hours: 3 }, red: { mm: 100, hours: 3 } } as const
    const s = (a: number, b: number, c: number, d: number) => ({ 1: a, 3: b, 6: c, 12: d, 24: d })
    expect(signalColour(cfg, s(0, 0, 0, 49.9))).toBeNull()
    expect(signalColour(cfg, s(0, 0, 0, 50))).toBe('blue')
    expect(signalColour(cfg, s(0, 0, 50, 50))).toBe('yellow')
    expect(signalColour(cfg, s(0, 99.9, 99.9, 99.9))).toBe('orange')
    expect(signalColour(cfg, s(100, 100, 100, 100))).toBe('red')
  })

  it('reads each colour from its own window, whatever the others hold', () => {
    // Windows as a flood office might tune them: red from 1 h, blue from 24 h.
    const cfg = { blue: { mm: 30, hours: 24 }, yellow: { mm: 40, hours: 6 }, orange: { mm: 40, hours: 3 }, red: { mm: 40, hours: 1 } } as const
    expect(signalColour(cfg, { 1: 0, 3: 0, 6: 0, 12: 0, 24: 30 })).toBe('blue')
    expect(signalColour(cfg, { 1: 0, 3: 0, 6: 0, 12: 200, 24: 29.9 })).toBeNull()
    expect(signalColour(cfg, { 1: 40, 3: 40, 6: 40, 12: 40, 24: 40 })).toBe('red')
  })
})
