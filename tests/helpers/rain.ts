import type { Sql } from '../../db/connect.ts'
import { ingestForecasts, ingestReadings, ingestStations, scriptActor } from '../../api/rain/ingest.ts'
import { timeline, type Storm } from '../../data/storms/build.ts'

export const testActor = scriptActor('test:rain')

/** Empties everything the rain code writes (stations included). */
export async function resetRain(sql: Sql) {
  await sql`TRUNCATE rain_readings, rain_forecasts, rain_warnings, rain_state, tasks, rain_events, rain_stations RESTART IDENTITY CASCADE`
  // rain_state is empty now: it describes no hour (a stale hour misled the wall's replay test).
  await sql`UPDATE rain_cache SET state_as_of = NULL, stale = true`
}

const rows = <T extends object>(xs: T[]) => xs.map((values, i) => ({ row: i + 1, values: values as Record<string, unknown> }))

/**
 * Plays a storm through the ingest functions in time order. `delay` holds
 * back some readings by whole steps (late gauges), `reverse` sends each
 * step's readings in reverse order.
 */
export async function playStorm(
  sql: Sql,
  storm: Storm,
  opts: { delay?: { station: string; steps: number }; reverse?: boolean; stopWhen?: () => Promise<boolean> } = {},
) {
  await ingestStations(sql, testActor, rows(storm.stations))
  const steps = timeline(storm)
  const held: { at: number; readings: { station: string; hour: string; mm: number }[] }[] = []
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]
    if (s.forecasts.length) await ingestForecasts(sql, testActor, rows(s.forecasts))
    let readings = s.readings
    if (opts.delay) {
      held.push({ at: i + opts.delay.steps, readings: readings.filter((r) => r.station === opts.delay!.station) })
      readings = readings.filter((r) => r.station !== opts.delay!.station)
    }
    readings = [...readings, ...held.filter((h) => h.at === i).flatMap((h) => h.readings)]
    if (opts.reverse) readings = readings.reverse()
    if (readings.length) await ingestReadings(sql, testActor, rows(readings))
    // Mid-storm: stop once the caller has what it wants to look at.
    if (opts.stopWhen && (await opts.stopWhen())) return
  }
  const rest = held.filter((h) => h.at >= steps.length).flatMap((h) => h.readings)
  if (rest.length) await ingestReadings(sql, testActor, rows(rest))
}
