/**
 * When rain figures may be shown as live: a grid's or site's rain is current
 * while the newest reading of the stations feeding it ended at most
 * `current.maxAgeHours` (rain_config) before the moment looked at. Past that,
 * its signal colour and its "past critical rainfall" are history: screens draw
 * them greyed with their age, never as a live alarm (issue #17).
 *
 * Readings are per hour, `hour` the start of it; an hour's rain is in once the
 * hour has ended, so the data is "as of" the end of the newest hour.
 */

const HOUR = 3600_000

/** rain_config 'current' (api/rain/config.ts checks the row). */
export interface CurrentRule {
  maxAgeHours: number
}

/** The moment the rain of a newest reading hour is "as of": the end of that hour. */
export function rainThrough(newestHour: Date): Date {
  return new Date(newestHour.getTime() + HOUR)
}

/** Whether rain whose newest reading hour is `newestHour` is current at `at`. SQL twin: rain_current() (migration 012; tests/db/rain-current.test.ts holds the two together). */
export function isCurrent(cfg: CurrentRule, newestHour: Date | null, at: Date): boolean {
  if (!newestHour) return false
  return at.getTime() - rainThrough(newestHour).getTime() <= cfg.maxAgeHours * HOUR
}

/**
 * What every screen says about the age of the rain it shows (the map's
 * legend, the wall, the feed): one computation. `asOf` is the end of the
 * newest hour read, never later than `at` (a reading for an hour still going
 * on is rain up to now, not up to the hour's end); `current` per isCurrent.
 */
export interface RainAsOf {
  /** The moment the figures are for (now, or the replayed moment). */
  at: string
  /** Rain is counted up to here; null when there is no rain data at all. */
  asOf: string | null
  current: boolean
  /** at − asOf in minutes (null without data): "rain data 3 months old". */
  ageMinutes: number | null
}

export function rainAsOf(cfg: CurrentRule, newestHour: Date | null, at: Date): RainAsOf {
  if (!newestHour) return { at: at.toISOString(), asOf: null, current: false, ageMinutes: null }
  const through = new Date(Math.min(rainThrough(newestHour).getTime(), at.getTime()))
  return {
    at: at.toISOString(),
    asOf: through.toISOString(),
    current: isCurrent(cfg, newestHour, at),
    ageMinutes: Math.max(0, Math.floor((at.getTime() - through.getTime()) / 60_000)),
  }
}
