import { describe, expect, it } from 'vitest'
import { fromBeijingInput, toBeijingInput } from './beijing.ts'

describe('datetime-local values in Beijing time', () => {
  it('writes and reads a moment as Beijing time, whatever the machine’s zone', () => {
    const d = new Date('2026-07-15T02:30:00Z')
    expect(toBeijingInput(d)).toBe('2026-07-15T10:30')
    expect(Date.parse(fromBeijingInput('2026-07-15T10:30')!)).toBe(d.getTime())
  })
  it('refuses what is not a datetime-local value', () => {
    expect(fromBeijingInput('')).toBeNull()
    expect(fromBeijingInput('2026-07-15 10:30')).toBeNull()
    expect(fromBeijingInput('2026-13-45T10:30')).toBeNull()
  })
})
