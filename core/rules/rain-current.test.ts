import { describe, expect, it } from 'vitest'
import { isCurrent, rainAsOf, rainThrough } from './rain-current.ts'

const H = 3600_000
const cfg = { maxAgeHours: 2 }
const hour = new Date('2026-07-15T03:00:00Z') // a reading for 03:00–04:00 UTC: rain as of 04:00

describe('current rain', () => {
  it('is current while the newest reading ended at most maxAgeHours ago', () => {
    expect(rainThrough(hour).toISOString()).toBe('2026-07-15T04:00:00.000Z')
    const at = (ms: number) => new Date(hour.getTime() + H + ms)
    expect(isCurrent(cfg, hour, at(0))).toBe(true)
    expect(isCurrent(cfg, hour, at(2 * H))).toBe(true) // exactly the limit
    expect(isCurrent(cfg, hour, at(2 * H + 1))).toBe(false)
    expect(isCurrent(cfg, hour, at(150 * 24 * H))).toBe(false) // July's storm in December
    expect(isCurrent(cfg, hour, at(-30 * 60_000))).toBe(true) // a reading for the hour still going on
    expect(isCurrent({ maxAgeHours: 6 }, hour, at(5 * H))).toBe(true)
    expect(isCurrent(cfg, null, at(0))).toBe(false) // no data is not current
  })

  it('says one "as of" for every screen: the end of the newest hour, never later than the moment, with its age', () => {
    expect(rainAsOf(cfg, hour, new Date(hour.getTime() + 90 * 60_000))).toEqual({
      at: '2026-07-15T04:30:00.000Z', asOf: '2026-07-15T04:00:00.000Z', current: true, ageMinutes: 30,
    })
    // During the hour itself (a gauge reporting as it goes): rain up to now, not to the hour's end.
    expect(rainAsOf(cfg, hour, new Date(hour.getTime() + 20 * 60_000))).toMatchObject({ asOf: '2026-07-15T03:20:00.000Z', current: true, ageMinutes: 0 })
    const december = new Date('2026-12-07T05:00:00+08:00')
    const old = rainAsOf(cfg, hour, december)
    expect(old).toMatchObject({ asOf: '2026-07-15T04:00:00.000Z', current: false })
    expect(old.ageMinutes).toBe(Math.floor((december.getTime() - Date.parse('2026-07-15T04:00:00Z')) / 60_000))
    expect(rainAsOf(cfg, null, december)).toEqual({ at: december.toISOString(), asOf: null, current: false, ageMinutes: null })
  })
})
