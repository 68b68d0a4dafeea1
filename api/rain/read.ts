import type { Sql } from '../../db/connect.ts'
import { scopePrefix } from '../../core/units.ts'
import { loadConfig } from './config.ts'
import { areaRainAsOf } from './state.ts'

/**
 * Rain per grid and hazard site under a unit, as of the latest reading hour.
 * Only current rain is live: a unit whose stations have not reported lately
 * has no colour and no alert, only its last ones (for drawing it greyed).
 */
export async function rainStateOf(sql: Sql, now: Date, input: { unit: string; kind?: 'grid' | 'site'; alertOnly: boolean }) {
  const { unit, kind, alertOnly } = input
  const prefix = scopePrefix(unit) + '%'
  const cfg = await loadConfig(sql)
  const T = now.toISOString()
  const rain = await areaRainAsOf(sql, cfg, scopePrefix(unit), now)
  const cur = sql`rain_state_current(lag_hours, ${T}::timestamptz)`
  const counts = await sql`
    SELECT kind, CASE WHEN ${cur} THEN coalesce(colour, 'none') ELSE 'stale' END AS colour, count(*)::int AS n,
           count(*) FILTER (WHERE on_alert AND ${cur})::int AS "onAlert"
    FROM rain_state WHERE unit_code LIKE ${prefix} GROUP BY 1, 2 ORDER BY 1, 2`
  const units = await sql`
    SELECT kind, unit_id AS id, code, unit_code AS "unitCode", rain_1h AS "rain1h", rain_3h AS "rain3h", rain_6h AS "rain6h",
           rain_12h AS "rain12h", rain_24h AS "rain24h",
           CASE WHEN cur THEN signal_colour END AS "signalColour", CASE WHEN cur THEN warning_colour END AS "warningColour",
           CASE WHEN cur THEN colour END AS colour, on_alert AND cur AS "onAlert", cur AS current,
           (SELECT state_as_of FROM rain_cache) - lag_hours * interval '1 hour' + interval '1 hour' AS "dataAt",
           -- What a stale unit last showed, for drawing it greyed: never a live colour.
           CASE WHEN NOT cur THEN colour END AS "lastColour", NOT cur AND on_alert AS "lastOnAlert"
    FROM (SELECT r.*, ${cur} AS cur FROM rain_state r WHERE unit_code LIKE ${prefix}
          ${kind ? sql`AND kind = ${kind}` : sql``} ${alertOnly ? sql`AND (on_alert OR colour IS NOT NULL)` : sql``}) r
    ORDER BY kind, code LIMIT 50000`
  return { unit, ...rain, counts, units }
}

/** The storm events, newest first (up to 200). */
export async function listRainEvents(sql: Sql) {
  return sql`
    SELECT id, county_code AS county, started_at AS "startedAt", expect_until AS "expectUntil", last_wet_at AS "lastWetAt",
           last_alert_at AS "lastAlertAt", after_opened_at AS "afterOpenedAt", closed_at AS "closedAt"
    FROM rain_events ORDER BY started_at DESC LIMIT 200`
}
