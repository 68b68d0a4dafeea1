import { describe, expect, it } from 'vitest'
import { atNight, householdCalled, ladder1262, ladderCall, proposedStage, type Forecast } from './ladder.ts'

const H = 3600_000
/** A forecast issued `lead` hours before rain starting at `start` (Beijing time). */
const forecast = (lead: number, start: string, mm = 60, areaCode = '530602101000'): Forecast => {
  const periodStart = new Date(start)
  return { areaCode, leadHours: lead, mm, periodStart, issuedAt: new Date(periodStart.getTime() - lead * H) }
}

describe('the 1262 ladder', () => {
  it('calls nothing below heavy rain or at a lead time it does not have', () => {
    expect(ladderCall(ladder1262, forecast(6, '2026-07-14T14:00:00+08:00', 49.9))).toBeNull()
    expect(ladderCall(ladder1262, forecast(3, '2026-07-14T14:00:00+08:00', 80))).toBeNull()
    expect(ladderCall(ladder1262, forecast(6, '2026-07-14T14:00:00+08:00', 50))).not.toBeNull()
  })

  it('by day: patrols at 12 h, the vulnerable at 6 h, everyone threatened at 2 h', () => {
    const day = '2026-07-14T14:00:00+08:00'
    expect(ladderCall(ladder1262, forecast(12, day, 60, '530602000000'))).toEqual({
      step: '12h', prefix: '530602', targets: ['hazard_site', 'grid'], households: null, dueAt: new Date('2026-07-14T08:00:00+08:00'),
    })
    expect(ladderCall(ladder1262, forecast(6, day))).toMatchObject({ step: '6h', prefix: '530602101', households: 'vulnerable', dueAt: new Date('2026-07-14T12:00:00+08:00') })
    expect(ladderCall(ladder1262, forecast(2, day))).toMatchObject({ step: '2h', households: 'everyone' })
  })

  it('at night calls everyone at every step that calls households, never at the patrol step', () => {
    for (const start of ['2026-07-14T20:00:00+08:00', '2026-07-15T02:30:00+08:00', '2026-07-15T05:59:00+08:00']) {
      expect(ladderCall(ladder1262, forecast(6, start))?.households, start).toBe('everyone')
      expect(ladderCall(ladder1262, forecast(12, start))?.households, start).toBeNull()
    }
    expect(ladderCall(ladder1262, forecast(6, '2026-07-15T06:00:00+08:00'))?.households).toBe('vulnerable')
    expect(ladderCall(ladder1262, forecast(6, '2026-07-14T19:59:00+08:00'))?.households).toBe('vulnerable')
  })

  it('reads the night on the ladder’s own clock, whatever the machine’s', () => {
    const night = ladder1262.night
    expect(atNight(night, new Date('2026-07-14T12:30:00Z'))).toBe(true) // 20:30 in Beijing
    expect(atNight(night, new Date('2026-07-14T22:00:00Z'))).toBe(false) // 06:00 the next morning
    expect(atNight({ ...night, fromHour: 1, toHour: 5 }, new Date('2026-07-14T19:00:00Z'))).toBe(true) // 03:00, a night within one day
    expect(atNight({ ...night, fromHour: 1, toHour: 5 }, new Date('2026-07-14T13:00:00Z'))).toBe(false)
  })

  it('gives at least 30 minutes to do the checks, however late the forecast', () => {
    const f = forecast(2, '2026-07-14T14:00:00+08:00')
    const late = { ...f, issuedAt: new Date(f.periodStart.getTime() - 10 * 60_000) }
    expect(ladderCall(ladder1262, late)!.dueAt).toEqual(new Date(late.issuedAt.getTime() + 30 * 60_000))
  })

  it('calls vulnerable households, and red ones too when it calls everyone', () => {
    expect(householdCalled('vulnerable', { risk: 'green', vulnerable: 1 })).toBe(true)
    expect(householdCalled('vulnerable', { risk: 'red', vulnerable: 0 })).toBe(false)
    expect(householdCalled('everyone', { risk: 'red', vulnerable: 0 })).toBe(true)
    expect(householdCalled('everyone', { risk: 'yellow', vulnerable: 0 })).toBe(false)
    expect(householdCalled(null, { risk: 'red', vulnerable: 2 })).toBe(false)
  })

  it('offers a transfer of everyone at the 2 h step or after a night call, of the vulnerable at the 6 h step', () => {
    expect(proposedStage('6h', false)).toBe('vulnerable')
    expect(proposedStage('6h', true)).toBe('everyone')
    expect(proposedStage('2h', false)).toBe('everyone')
  })
})
