import type { Sql } from '../../db/connect.ts'
import type { Tx } from '../../db/write.ts'
import type { RainConfig } from './config.ts'
import { rainAsOf, type RainAsOf } from '../../core/rules/rain-current.ts'

/**
 * "Rain as of" for an area, as every screen shows it: from the newest
 * reading of the stations feeding its units, by rainAsOf() (core/rules/rain-current.ts).
 * The map's legend reads it from rain_state (live), the wall from rain_eval
 * (any moment); both are the engine's interpolation, so they agree.
 */
export async function areaRainAsOf(sql: Sql | Tx, cfg: RainConfig, prefix: string, at: Date): Promise<RainAsOf> {
  const [r] = await sql<{ newest: Date | null }[]>`
    SELECT (SELECT state_as_of FROM rain_cache) - min(lag_hours) * interval '1 hour' AS newest
    FROM rain_state WHERE unit_code LIKE ${prefix + '%'}`
  return rainAsOf(cfg.current, r?.newest ?? null, at)
}

/** The same for the units of the temp table rain_eval (api/rain/engine.ts interpolate), looked at `at`. */
export async function evalRainAsOf(tx: Tx, cfg: RainConfig, at: Date): Promise<RainAsOf> {
  const [r] = await tx<{ newest: Date | null }[]>`SELECT max(newest_hour) AS newest FROM rain_eval`
  return rainAsOf(cfg.current, r?.newest ?? null, at)
}
