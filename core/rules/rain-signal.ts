/**
 * China's rainstorm signals (暴雨预警信号): a colour when the rain fallen
 * within a window reaches its amount, rain still going on. The national rule
 * is blue ≥ 50 mm in 12 h, yellow ≥ 50 mm in 6 h, orange ≥ 50 mm in 3 h,
 * red ≥ 100 mm in 3 h; the amounts and windows are rain_config 'signals'
 * (data/migrations/005_rain.sql seeds them, a flood office may tune them).
 *
 * The rain engine colours every unit at once in SQL (api/rain/engine.ts
 * interpolate); tests/db/rain.test.ts holds that SQL to signalColour on a
 * replayed storm.
 */

/** The signal colours, lowest first. Warnings (预警) use the same four. */
export const colours = ['blue', 'yellow', 'orange', 'red'] as const
export type Colour = (typeof colours)[number]

/** Rain sums the state keeps; a signal's window must be one of them. */
export const sumHours = [1, 3, 6, 12, 24] as const
export type SumHours = (typeof sumHours)[number]

/** A signal's threshold: `mm` or more within `hours`. */
export interface SignalThreshold {
  mm: number
  hours: SumHours
}
export type Signals = Record<Colour, SignalThreshold>

/** The signal colour for sums, highest first; null when no threshold is reached. */
export function signalColour(signals: Signals, sums: Record<SumHours, number>): Colour | null {
  for (const c of [...colours].reverse()) if (sums[signals[c].hours] >= signals[c].mm) return c
  return null
}
