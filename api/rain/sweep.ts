import type { Sql } from '../../db/connect.ts'
import type { Clock } from '../clock.ts'
import { periodic, type Periodic } from '../lifecycle/periodic.ts'
import { log } from '../../core/log.ts'
import { loadConfig } from './config.ts'
import { endEventsNow } from './events.ts'

/**
 * What changes with time alone, with no rain coming in: storm events run out
 * of time (their unfinished checklists are closed as missed), and rain stops
 * being current (the rain tiles, cached until a rain update, must drop their
 * colours and alerts). Every `everyMs`; the server runs the first pass itself (runNow) as it starts.
 */
export function startRainSweep(sql: Sql, clock: Clock, everyMs: number): Periodic {
  let current: number | null = null
  return periodic('rain sweep', everyMs, async () => {
    const now = clock()
    const cfg = await loadConfig(sql)
    const ended = await endEventsNow(sql, cfg, now)
    if (ended.events || ended.tasks) log.info(`降雨过程结束 ${ended.events} 个，未完成任务关闭 ${ended.tasks} 项 / storm events ended: ${ended.events}, checklists closed as missed: ${ended.tasks}`)
    const [{ n }] = await sql<{ n: number }[]>`
      SELECT count(*) FILTER (WHERE rain_state_current(lag_hours, ${now.toISOString()}::timestamptz))::int AS n FROM rain_state`
    // A rain update notifies its own changes; here only units going stale with time (or coming back with a clock change).
    if (current !== null && n !== current) await sql`SELECT pg_notify('gridwatch_tiles', ${JSON.stringify([['rain', -180, -85, 180, 85]])})`
    current = n
  }, { now: false })
}
