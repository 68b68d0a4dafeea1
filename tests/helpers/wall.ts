import type { Sql } from '../../db/connect.ts'
import { buildStorm, type Storm } from '../../data/storms/build.ts'
import { shifted, writeStormHistory } from '../../api/demo/storm.ts'
import { resetRain } from './rain.ts'

const DAY = 86400_000

/**
 * A fresh storm history over `county`: rain, checklists and transfers as the
 * demo seed writes them, moved by whole days so that the storm ended within
 * the last day (its checklists are still on the live wall). Clears rain and
 * orders first; returns the storm as written (times moved).
 */
export async function recentStormHistory(sql: Sql, county: string, afterStep?: (time: string) => Promise<void>): Promise<Storm> {
  await clearStorms(sql)
  const storm = await buildStorm(sql, { county, seed: 5, spacingKm: 5 })
  const lastEnd = Date.parse(storm.hours.at(-1)!.hour) + 3600_000
  const shiftMs = Math.floor((Date.now() - lastEnd) / DAY) * DAY
  await writeStormHistory(sql, storm, undefined, { afterStep, shiftMs })
  return shifted(storm, shiftMs)
}

export async function clearStorms(sql: Sql) {
  await sql`DELETE FROM evac_orders`
  await resetRain(sql)
}
