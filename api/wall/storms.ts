import type { Sql } from '../../db/connect.ts'
import type { Tx } from '../../db/write.ts'
import { scopePrefix } from '../../core/units.ts'
import { loadConfig } from '../rain/config.ts'

export interface StormWindow { from: string; to: string; counties: string[] }

/**
 * The storms there are to replay in an area: its counties' rain events,
 * overlapping ones merged, each from an hour before it began to the end of
 * its after-rain checks (or now, if it is still going on). Newest first.
 */
export async function stormWindows(sql: Sql | Tx, unitCode: string, at: Date = new Date(), limit = 20): Promise<StormWindow[]> {
  const cfg = await loadConfig(sql)
  const tail = (cfg.after.dryHours + cfg.after.dueHours) * 3600_000
  const now = at.getTime()
  const events = await sql<{ county: string; started: Date; closed: Date | null }[]>`
    SELECT county_code AS county, started_at AS started, closed_at AS closed FROM rain_events
    WHERE county_code LIKE ${scopePrefix(unitCode).slice(0, 6) + '%'} ORDER BY started_at, id`
  const windows: { from: number; to: number; counties: Set<string> }[] = []
  for (const e of events) {
    const from = e.started.getTime() - 3600_000
    const to = Math.min(now, e.closed ? e.closed.getTime() + tail : now)
    const last = windows.at(-1)
    if (last && from <= last.to) {
      last.to = Math.max(last.to, to)
      last.counties.add(e.county)
    } else windows.push({ from, to, counties: new Set([e.county]) })
  }
  return windows.reverse().slice(0, limit).map((w) => ({
    from: new Date(w.from).toISOString(), to: new Date(w.to).toISOString(), counties: [...w.counties].sort(),
  }))
}
