import { describe, expect, it } from 'vitest'
import { rainAsOf } from '../../../core/rules/rain-current.ts'
import { ageOf } from './when.ts'

describe('the age of data in words', () => {
  it('words an age in the largest plain unit', () => {
    expect(ageOf(0)).toEqual({ unit: 'minutes', n: 0 })
    expect(ageOf(119)).toEqual({ unit: 'minutes', n: 119 })
    expect(ageOf(180)).toEqual({ unit: 'hours', n: 3 })
    expect(ageOf(47 * 60 + 59)).toEqual({ unit: 'hours', n: 47 })
    expect(ageOf(3 * 24 * 60)).toEqual({ unit: 'days', n: 3 })
    expect(ageOf(95 * 24 * 60)).toEqual({ unit: 'months', n: 3 })
    expect(ageOf(800 * 24 * 60)).toEqual({ unit: 'years', n: 2 })
    expect(ageOf(-5)).toEqual({ unit: 'minutes', n: 0 })
  })

  it('says July’s storm, looked at in December, is 4 months old', () => {
    const old = rainAsOf({ maxAgeHours: 2 }, new Date('2026-07-15T03:00:00Z'), new Date('2026-12-07T05:00:00+08:00'))
    expect(ageOf(old.ageMinutes!)).toEqual({ unit: 'months', n: 4 })
  })
})
