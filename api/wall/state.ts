import type { Sql } from '../../db/connect.ts'
import { transaction } from '../../db/transaction.ts'
import type { Tx } from '../../db/write.ts'
import { scopePrefix } from '../../core/units.ts'
import { loadConfig } from '../rain/config.ts'
import type { AlertSite, WallState } from '../../core/contracts/wall.ts'
import { phases, type Phase } from '../../core/rules/checks.ts'
import { rainThrough } from '../../core/rules/rain-current.ts'
import { colours, type Colour } from '../../core/rules/rain-signal.ts'
import { safeStatuses, statuses, type Status } from '../../core/rules/transfer.ts'
import { interpolate, tune } from '../rain/engine.ts'
import { evalRainAsOf } from '../rain/state.ts'
import { CALM_REPORT_WINDOW_MS, reportsPart } from './reports.ts'
import { stormWindows } from './storms.ts'

/**
 * What the command wall shows for an area at a moment: rain, warnings,
 * hazard sites past their critical rainfall, 三查 completion, transfers and
 * shelters, problem reports — rebuilt from time-stamped history only (see
 * data/migrations/008_history.sql), so "now" and any past moment of a replay
 * come from the same statements.
 */


const zeros = <K extends string>(keys: readonly K[]) => Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>
/** A household is safe once it is at a shelter or has gone home after the danger. */
const SAFE: string[] = safeStatuses

/** The newest reading hour that could be known at `at`: an hour's rain is in once the hour has ended. */
export function rainHourAt(at: Date): string {
  return new Date(Math.floor(at.getTime() / 3600_000) * 3600_000 - 3600_000).toISOString()
}

/** Outside any storm, the ticker shows the last day only: older events are of a storm that is over. */
const CALM_TICKER_MS = 24 * 3600_000

/**
 * The wall at `at` (now, or a replayed moment); `now` is the server's clock
 * (the end of a storm still going on).
 */
export async function wallState(sql: Sql, unitCode: string, at: Date, now: Date = new Date()): Promise<WallState> {
  return transaction(sql, (tx) => wallStateIn(tx, unitCode, at, now))
}

/** wallState in the caller's transaction: the live figures are computed under their area's lock (shared-figures.ts). */
export async function wallStateIn(tx: Tx, unitCode: string, at: Date, now: Date = new Date()): Promise<WallState> {
  const p = scopePrefix(unitCode)
  const like = p + '%'
  const T = at.toISOString()
  const windows = await stormWindows(tx, unitCode, now, 100)
  const storm = windows.find((w) => Date.parse(w.from) <= at.getTime() && at.getTime() <= Date.parse(w.to)) ?? null
  // A moment shows what was true then: events of its own storm (or of the day before, outside storms).
  const since = storm ? storm.from : new Date(at.getTime() - CALM_TICKER_MS).toISOString()
  await tune(tx)
  const [unit] = await tx<{ code: string; name: string; level: string }[]>`SELECT code, name, level FROM admin_units WHERE code = ${unitCode}`
  const cfg = await loadConfig(tx)
  // The newest reading hour known at T, as the engine's latest hour is live: its rain is then as
  // current as its stations' readings (rain_eval.current), not assumed dry when they stopped.
  const [{ hour }] = await tx<{ hour: Date | null }[]>`SELECT max(hour) AS hour FROM rain_readings WHERE hour <= ${rainHourAt(at)}::timestamptz`
  const asOf = hour ? hour.toISOString() : rainHourAt(at)
  // rain_eval: rain per grid and site in the area as of `asOf`, looked at T (the engine's own interpolation).
  // As a reader: no lock on the rain cache while its weights are current (ensureWeights).
  await interpolate(tx, cfg, asOf, p, T, true)
  const rainNow = await evalRainAsOf(tx, cfg, at)
  const rain = await rainPart(tx, T, asOf, unitCode, like)
  const sites = await sitesPart(tx, like)
  const checks = await checksPart(tx, T, like, p) // before transferPart: its township ranking reads wall_tasks
  const transfer = await transferPart(tx, T, like)
  const ticker = await tx<WallState['ticker']>`
    SELECT id::int8::float8 AS id, at, kind, unit_code AS "unitCode",
           (SELECT name FROM admin_units a WHERE a.code = left(e.unit_code, 12)) AS "unitName", payload FROM live_events e
    WHERE at <= ${T}::timestamptz AND at >= ${since}::timestamptz
      AND (unit_code LIKE ${like} OR ${p} LIKE rain_code_prefix(unit_code) || '%')
    ORDER BY at DESC, id DESC LIMIT 12`
  const counties = await countiesPart(tx, like)
  // 办结率 and time to acknowledge: over the storm the moment lies in, else the week before it.
  const reports = await reportsPart(tx, T, storm ? storm.from : new Date(at.getTime() - CALM_REPORT_WINDOW_MS).toISOString(), like)
  return {
    at: T, rain: rainNow, storm: storm && { from: storm.from, to: storm.to }, unit: unit ?? { code: unitCode, name: unitCode, level: 'unknown' },
    ...rain, sites, ...checks, ...transfer, counties, reports,
    ticker: ticker.map((e) => ({ ...e, at: new Date(e.at).toISOString(), payload: tickerPayload(e) })),
  } satisfies WallState
}

/**
 * A rain update's payload names the hour it evaluated (its start); the feed
 * says "rain as of" the end of it, like every other screen (rainThrough).
 */
function tickerPayload(e: WallState['ticker'][number]): Record<string, unknown> {
  const p = e.payload
  if (e.kind !== 'rain.update' || typeof p.asOf !== 'string' || 'rainAsOf' in p) return p
  return { ...p, rainAsOf: rainThrough(new Date(p.asOf)).toISOString() }
}

async function rainPart(tx: Tx, T: string, asOf: string, unitCode: string, like: string) {
  const issued = zeros(colours), grids = zeros(colours)
  for (const r of await tx<{ colour: Colour; n: number }[]>`
    SELECT colour, count(*)::int AS n FROM rain_warnings w
    WHERE w.issued_at <= ${T}::timestamptz AND w.valid_until > ${T}::timestamptz
      AND (w.geom IS NOT NULL OR EXISTS (SELECT 1 FROM unnest(w.area_codes) a
                                         WHERE rain_code_prefix(a) LIKE ${like} OR ${like} LIKE rain_code_prefix(a) || '%'))
    GROUP BY colour`) issued[r.colour] = r.n
  for (const r of await tx<{ colour: Colour; n: number }[]>`
    SELECT live_colour AS colour, count(*)::int AS n FROM rain_eval WHERE kind = 'grid' AND live_colour IS NOT NULL GROUP BY 1`) grids[r.colour] = r.n
  // Stations inside the area's outline, with what they caught in the last 1 and 24 h.
  const stations = await tx<WallState['stations']>`
    SELECT s.code, ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat,
           coalesce(sum(r.mm) FILTER (WHERE r.hour = ${asOf}::timestamptz), 0)::float8 AS mm1,
           coalesce(sum(r.mm), 0)::float8 AS mm24
    FROM rain_stations s
    JOIN admin_units a ON a.code = ${unitCode} AND ST_Intersects(a.geom, s.geom)
    LEFT JOIN rain_readings r ON r.station_id = s.id AND r.hour > ${asOf}::timestamptz - interval '24 hours'
                              AND r.hour <= ${asOf}::timestamptz
    GROUP BY s.id ORDER BY s.code`
  return { warnings: { issued, grids }, stations }
}

async function sitesPart(tx: Tx, like: string): Promise<WallState['sites']> {
  const [{ active }] = await tx<{ active: number }[]>`SELECT count(*)::int AS active FROM hazard_sites WHERE status = 'active' AND admin_code LIKE ${like}`
  const top = await tx<AlertSite[]>`
    SELECT h.code, h.name, ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat, e.s1::float8 AS "rain1h", e.s24::float8 AS "rain24h",
           h.critical_rain_1h::float8 AS "critical1h", h.critical_rain_24h::float8 AS "critical24h"
    FROM rain_eval e JOIN hazard_sites h ON h.id = e.unit_id
    WHERE e.kind = 'site' AND e.alert
    ORDER BY greatest(e.s1 / nullif(h.critical_rain_1h, 0), e.s24 / nullif(h.critical_rain_24h, 0)) DESC NULLS LAST, h.code`
  return { active, overCritical: top.length, top: top.slice(0, 200) }
}

/**
 * 三查 at T: the tasks of each county's latest storm event begun by T (if it
 * had not ended two days before T), opened by T, each item as its last tick
 * or untick by T left it.
 */
const CHECKS_SHOWN = '48 hours'
async function checksPart(tx: Tx, T: string, like: string, p: string) {
  const checks = Object.fromEntries(phases.map((ph) => [ph, { total: 0, done: 0, inProgress: 0 }])) as WallState['checks']
  await tx`DROP TABLE IF EXISTS pg_temp.wall_tasks`
  await tx`
    CREATE TEMP TABLE wall_tasks ON COMMIT DROP AS
    WITH ev AS (
      SELECT DISTINCT ON (county_code) id FROM rain_events
      WHERE started_at <= ${T}::timestamptz AND county_code LIKE ${p.slice(0, 6) + '%'}
      ORDER BY county_code, started_at DESC, id DESC
    ), recent AS (
      -- A storm's checks stay on the wall until two days after it ended (after-rain checks take a day).
      SELECT ev.id FROM ev JOIN rain_events e USING (id) WHERE coalesce(e.closed_at, 'infinity') > ${T}::timestamptz - ${CHECKS_SHOWN}::interval
    ), t AS (
      SELECT t.id, t.phase, t.unit_code, jsonb_array_length(t.items) AS n
      FROM tasks t JOIN recent ON recent.id = t.event_id
      WHERE t.opened_at <= ${T}::timestamptz AND t.unit_code LIKE ${like}
    ), last AS (
      SELECT DISTINCT ON (l.task_id, l.item) l.task_id, l.done
      FROM task_item_log l JOIN t ON t.id = l.task_id
      WHERE l.at <= ${T}::timestamptz
      ORDER BY l.task_id, l.item, l.at DESC, l.id DESC
    )
    SELECT t.id, t.phase, t.unit_code, t.n, count(last.task_id) FILTER (WHERE last.done)::int AS d
    FROM t LEFT JOIN last ON last.task_id = t.id
    GROUP BY t.id, t.phase, t.unit_code, t.n`
  for (const r of await tx<{ phase: Phase; total: number; done: number; in_progress: number }[]>`
    SELECT phase, count(*)::int AS total, count(*) FILTER (WHERE d = n)::int AS done,
           count(*) FILTER (WHERE d > 0 AND d < n)::int AS in_progress
    FROM wall_tasks GROUP BY phase`) checks[r.phase] = { total: r.total, done: r.done, inProgress: r.in_progress }
  return { checks }
}

/**
 * Transfers at T: the orders in force, each household as its last status
 * change by T left it, kept added up by order, village, status and shelter
 * (wall_hh): every figure below is a sum over those groups. Row by row, a
 * county order's 300,000 households were read six times over, 0.4 s of a
 * refresh that a wall asks for on every change.
 */
async function transferPart(tx: Tx, T: string, like: string) {
  await tx`DROP TABLE IF EXISTS pg_temp.wall_hh`
  await tx`
    CREATE TEMP TABLE wall_hh ON COMMIT DROP AS
    WITH o AS (
      SELECT id FROM evac_orders WHERE issued_at <= ${T}::timestamptz AND (closed_at IS NULL OR closed_at > ${T}::timestamptz)
    ), last AS (
      SELECT DISTINCT ON (l.order_id, l.household_id) l.order_id, l.household_id, l.to_status, l.people
      FROM evac_status_log l JOIN o ON o.id = l.order_id
      WHERE l.at <= ${T}::timestamptz
      ORDER BY l.order_id, l.household_id, l.at DESC, l.id DESC
    )
    SELECT h.order_id, left(h.grid_code, 12) AS v, coalesce(last.to_status, 'not_notified') AS status, h.shelter_id,
           count(*)::int AS n, sum(h.members)::int AS members, sum(h.vulnerable)::int AS vulnerable,
           coalesce(sum(last.people), 0)::int AS people
    FROM evac_households h JOIN o ON o.id = h.order_id
    LEFT JOIN last ON last.order_id = h.order_id AND last.household_id = h.household_id
    WHERE h.grid_code LIKE ${like}
    GROUP BY 1, 2, 3, 4`
  const transfer = { ...zeros(statuses), orders: 0, households: 0, people: 0, peopleAtShelter: 0, vulnerable: 0, vulnerableNotSafe: 0 }
  for (const r of await tx<{ status: Status; n: number }[]>`SELECT status, sum(n)::int AS n FROM wall_hh GROUP BY status`) transfer[r.status] = r.n
  const [tot] = await tx<{ orders: number; households: number; people: number; at_shelter: number; vulnerable: number; not_safe: number }[]>`
    SELECT count(DISTINCT order_id)::int AS orders, coalesce(sum(n), 0)::int AS households, coalesce(sum(members), 0)::int AS people,
           coalesce(sum(people) FILTER (WHERE status = 'at_shelter'), 0)::int AS at_shelter,
           coalesce(sum(vulnerable), 0)::int AS vulnerable,
           coalesce(sum(vulnerable) FILTER (WHERE status <> ALL(${SAFE}::text[])), 0)::int AS not_safe
    FROM wall_hh`
  Object.assign(transfer, { orders: tot.orders, households: tot.households, people: tot.people, peopleAtShelter: tot.at_shelter,
                            vulnerable: tot.vulnerable, vulnerableNotSafe: tot.not_safe })
  const shelters = await tx<WallState['shelters']>`
    SELECT s.id, s.name, ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat, s.capacity,
           coalesce(sum(h.people) FILTER (WHERE h.status = 'at_shelter'), 0)::int AS people, coalesce(sum(h.members), 0)::int AS assigned
    FROM wall_hh h JOIN shelters s ON s.id = h.shelter_id
    GROUP BY s.id ORDER BY 6 DESC, s.code`
  const townships = await tx<WallState['townships']>`
    WITH hh AS (
      SELECT left(v, 9) AS t, sum(n)::int AS households, coalesce(sum(n) FILTER (WHERE status = ANY(${SAFE}::text[])), 0)::int AS safe
      FROM wall_hh GROUP BY 1
    ), ck AS (
      SELECT left(unit_code, 9) AS t, count(*)::int AS checks, count(*) FILTER (WHERE d = n)::int AS done FROM wall_tasks GROUP BY 1
    )
    SELECT a.code, a.name, coalesce(hh.households, 0) AS households, coalesce(hh.safe, 0) AS safe,
           coalesce(ck.checks, 0) AS checks, coalesce(ck.done, 0) AS "checksDone"
    FROM admin_units a LEFT JOIN hh ON hh.t = left(a.code, 9) LEFT JOIN ck ON ck.t = left(a.code, 9)
    WHERE a.level = 'township' AND a.code LIKE ${like} AND (hh.t IS NOT NULL OR ck.t IS NOT NULL)
    ORDER BY a.code`
  const villages = await tx<WallState['villages']>`
    WITH col AS (
      SELECT left(code, 12) AS v, max(array_position(${colours as unknown as string[]}::text[], live_colour)) AS c
      FROM rain_eval WHERE kind = 'grid' AND live_colour IS NOT NULL GROUP BY 1
    ), hh AS (
      SELECT v, sum(n)::int AS households, coalesce(sum(n) FILTER (WHERE status = ANY(${SAFE}::text[])), 0)::int AS safe
      FROM wall_hh GROUP BY 1
    )
    SELECT a.code, a.name, ST_X(a.label_point) AS lon, ST_Y(a.label_point) AS lat,
           (${colours as unknown as string[]}::text[])[col.c] AS colour, coalesce(hh.households, 0) AS households, coalesce(hh.safe, 0) AS safe
    FROM admin_units a LEFT JOIN col ON col.v = a.code LEFT JOIN hh ON hh.v = a.code
    WHERE a.level = 'village' AND a.code LIKE ${like} AND (col.v IS NOT NULL OR hh.v IS NOT NULL)
    ORDER BY a.code`
  return { transfer, shelters, townships, villages }
}

/**
 * Counties in the area with their extent and how bad things are there, for
 * the wall to follow the worst: a site past its critical rainfall weighs most,
 * then a vulnerable person not yet safe, then a grid under a red or orange signal.
 */
async function countiesPart(tx: Tx, like: string): Promise<WallState['counties']> {
  const rows = await tx<{ code: string; name: string; w: number; s: number; e: number; n: number; severity: number }[]>`
    WITH sev AS (
      SELECT left(code, 6) AS c, 10 * count(*) FILTER (WHERE kind = 'site' AND alert)
                                 + count(*) FILTER (WHERE kind = 'grid' AND live_colour IN ('red', 'orange')) AS s
      FROM rain_eval GROUP BY 1
      UNION ALL
      SELECT left(v, 6), 3 * coalesce(sum(vulnerable) FILTER (WHERE status <> ALL(${SAFE}::text[])), 0) FROM wall_hh GROUP BY 1
    )
    SELECT a.code, a.name, ST_XMin(a.geom) AS w, ST_YMin(a.geom) AS s, ST_XMax(a.geom) AS e, ST_YMax(a.geom) AS n,
           coalesce((SELECT sum(s) FROM sev WHERE sev.c = left(a.code, 6)), 0)::int AS severity
    FROM admin_units a WHERE a.level = 'county' AND (a.code LIKE ${like} OR ${like} LIKE left(a.code, 6) || '%')
    ORDER BY a.code`
  return rows.map((r) => ({ code: r.code, name: r.name, bbox: [r.w, r.s, r.e, r.n], severity: r.severity }))
}
