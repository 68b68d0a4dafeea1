import { describe, expect, it } from 'vitest'
import { visitIntervalDays, visitOverdue } from './visits.ts'

const DAY = 86_400_000
const now = new Date('2026-07-15T08:00:00+08:00')
const ago = (ms: number) => new Date(now.getTime() - ms)

describe('visits', () => {
  it('are due daily for red, weekly for yellow, monthly for green households', () => {
    expect(visitIntervalDays).toEqual({ red: 1, yellow: 7, green: 30 })
  })

  it('are overdue once the interval has passed, and when there was never one', () => {
    for (const [risk, days] of Object.entries(visitIntervalDays) as [keyof typeof visitIntervalDays, number][]) {
      expect(visitOverdue(risk, ago(days * DAY), now), `${risk} at the limit`).toBe(false)
      expect(visitOverdue(risk, ago(days * DAY + 1), now), `${risk} past it`).toBe(true)
      expect(visitOverdue(risk, null, now), `${risk} never visited`).toBe(true)
    }
    expect(visitOverdue('green', ago(8 * DAY), now)).toBe(false)
    expect(visitOverdue('yellow', ago(8 * DAY), now)).toBe(true)
  })
})
