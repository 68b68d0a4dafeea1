import type postgres from 'postgres'
import type { Tx } from '../../db/write.ts'
import type { Change } from '../../tiles/cache.ts'
import type { RainConfig } from './config.ts'
import { endEvents } from './events.ts'

/**
 * The rain engine: from station readings to rain per grid and hazard site,
 * signal colours, storm events and the 三查 tasks they open. Every step is a
 * set-based statement over all units at once (no per-unit loop), so a
 * whole-city update stays within a couple of seconds.
 */

/** GRIDWATCH_RAIN_PROFILE=1 prints each stage's time (for the benchmark). */
const profile = process.env.GRIDWATCH_RAIN_PROFILE === '1'
async function stage<T>(name: string, work: Promise<T> | (() => Promise<T>)): Promise<T> {
  const t0 = Date.now()
  const r = await (typeof work === 'function' ? work() : work)
  if (profile) console.log(`  rain stage ${name}: ${Date.now() - t0} ms`)
  return r
}

export interface EvaluationResult {
  asOf: string
  units: number
  during: number
  after: number
}

/** Keeps the SQL for "the 网格员 of a basic grid" in one place: the worker of its first micro-grid, else its grid head. */
const gridWorkerOf = (tx: Tx, gridId: postgres.Fragment) => tx`
  coalesce((SELECT w.id FROM grids m JOIN grid_workers w ON w.grid_id = m.id AND w.role = '网格员'
            WHERE m.parent_id = ${gridId} ORDER BY m.code, w.id LIMIT 1),
           -- A redrawn grid may have its people on the grid itself or only a head left (api/grid-editor moves workers).
           (SELECT w.id FROM grid_workers w JOIN grids m ON m.id = w.grid_id
            WHERE (m.id = ${gridId} OR m.parent_id = ${gridId}) AND w.role IN ('网格员', '网格长') ORDER BY w.role DESC, w.id LIMIT 1))`

/** A template's items as a task's, nothing done yet. */
const templateItems = (tx: Tx) => tx`
  SELECT t.phase, t.target_kind,
         (SELECT jsonb_agg(i || '{"done": false, "by": null, "byName": null, "at": null, "note": null}'::jsonb ORDER BY n)
          FROM jsonb_array_elements(t.items) WITH ORDINALITY x(i, n)) AS items
  FROM checklist_templates t`

/**
 * Which stations each basic grid (at its label point) and active hazard site
 * takes its rain from: the nearest `neighbours` within `radiusKm` (KNN on the
 * GiST index), weighted by inverse distance. Kept in rain_units/rain_weights
 * and rebuilt only when the triggers of 005_rain.sql have marked it stale.
 */
/**
 * Settings for the whole-city statements, for this transaction only: JIT
 * compiling them costs 0.6–0.9 s on every run (more than running them), and
 * their sorts and hashes spill to disk at the default 4 MB work_mem.
 */
export async function tune(tx: Tx) {
  await tx`SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true)`
}

/**
 * `reader`: the caller only reads the rain (the command wall). While the weights are current it takes no lock: the
 * row lock below was taken by every wall's figures, so every wall of every API process waited for each other and
 * for the rain updates, one at a time (a storm night's walls ask on every live event).
 */
export async function ensureWeights(tx: Tx, cfg: RainConfig, reader = false) {
  if (reader) {
    const [r] = await tx<{ stale: boolean }[]>`SELECT stale FROM rain_cache`
    if (!r.stale) return
  }
  // The row lock also keeps two rain updates from rebuilding at once.
  const [c] = await tx<{ stale: boolean }[]>`SELECT stale FROM rain_cache FOR UPDATE`
  if (!c.stale) return
  const { neighbours, radiusKm, power } = cfg.interpolation
  await tx`DELETE FROM rain_weights`
  await tx`DELETE FROM rain_units`
  await tx`
    INSERT INTO rain_units (kind, unit_id, code, unit_code, pt)
    SELECT 'grid', g.id, g.code, g.code, g.label_point FROM grids g WHERE g.kind = 'basic'
    UNION ALL
    SELECT 'site', h.id, h.code, coalesce(gg.code, h.admin_code), h.geom
    FROM hazard_sites h
    LEFT JOIN LATERAL (SELECT g.code FROM grids g WHERE g.kind = 'basic' AND ST_Intersects(g.geom, h.geom) ORDER BY g.code LIMIT 1) gg ON true
    WHERE h.status = 'active'`
  await tx`
    INSERT INTO rain_weights (kind, unit_id, station_id, w)
    SELECT u.kind, u.unit_id, n.station_id, 1 / power(greatest(n.d, 50), ${power}::float8)
    FROM rain_units u
    CROSS JOIN LATERAL (
      -- Distance on the sphere: the spheroid differs by ~0.3% and is several times slower.
      SELECT k.station_id, ST_Distance(k.geom::geography, u.pt::geography, false) AS d
      FROM (SELECT s.id AS station_id, s.geom FROM rain_stations s ORDER BY s.geom <-> u.pt LIMIT ${neighbours}::int) k
    ) n
    WHERE n.d <= ${radiusKm * 1000}::float8`
  await tx`UPDATE rain_cache SET stale = false, built_at = now()`
}

/**
 * Rain per unit as of `asOf` (an hour) into the temp table rain_eval: each
 * station's 1–24 h sums, interpolated with the cached weights. Sums are
 * linear, so interpolating the sums equals summing interpolated hours.
 * `unitPrefix` keeps only the units whose code starts with it (the wall's area).
 * `at` is the moment the figures are looked at (default: the end of the hour
 * `asOf`): a unit whose stations have not reported lately is not `current`
 * then (core/rules/rain-current.ts), and nothing of it is on alert or in force.
 */
export async function interpolate(tx: Tx, cfg: RainConfig, asOf: string, unitPrefix = '', at?: string, reader = false) {
  const seen = at ?? new Date(Date.parse(asOf) + 3600_000).toISOString()
  await stage('weights', ensureWeights(tx, cfg, reader))
  const s = cfg.signals
  const col = (h: number) => tx(`s${h}`)
  await tx`DROP TABLE IF EXISTS pg_temp.rain_eval`
  await tx`
    CREATE TEMP TABLE rain_eval ON COMMIT DROP AS
    WITH st AS (
      SELECT r.station_id,
             -- float8 from here on: numeric arithmetic over ~140k weighted rows costs a second.
             coalesce(sum(r.mm) FILTER (WHERE r.hour > ${asOf}::timestamptz - interval '1 hour'), 0)::float8 AS s1,
             coalesce(sum(r.mm) FILTER (WHERE r.hour > ${asOf}::timestamptz - interval '3 hours'), 0)::float8 AS s3,
             coalesce(sum(r.mm) FILTER (WHERE r.hour > ${asOf}::timestamptz - interval '6 hours'), 0)::float8 AS s6,
             coalesce(sum(r.mm) FILTER (WHERE r.hour > ${asOf}::timestamptz - interval '12 hours'), 0)::float8 AS s12,
             sum(r.mm)::float8 AS s24,
             max(r.hour) AS newest
      FROM rain_readings r
      WHERE r.hour > ${asOf}::timestamptz - interval '24 hours' AND r.hour <= ${asOf}::timestamptz
      GROUP BY r.station_id
    ), sums AS (
      -- Stations with no reading in the last 24 h drop out and the others share their weight.
      SELECT w.kind, w.unit_id,
             round((sum(w.w * st.s1) / sum(w.w))::numeric, 1) AS s1,
             round((sum(w.w * st.s3) / sum(w.w))::numeric, 1) AS s3,
             round((sum(w.w * st.s6) / sum(w.w))::numeric, 1) AS s6,
             round((sum(w.w * st.s12) / sum(w.w))::numeric, 1) AS s12,
             round((sum(w.w * st.s24) / sum(w.w))::numeric, 1) AS s24,
             -- The newest reading of the stations feeding the unit: how current its rain is.
             max(st.newest) AS newest_hour
      FROM rain_weights w JOIN st ON st.station_id = w.station_id
      ${unitPrefix ? tx`JOIN rain_units f ON f.kind = w.kind AND f.unit_id = w.unit_id AND f.unit_code LIKE ${unitPrefix + '%'}` : tx``}
      GROUP BY w.kind, w.unit_id
    ), coloured AS (
      SELECT x.*,
             -- core/rules/rain-signal.ts signalColour (tests/db/rain.test.ts holds the two together).
             CASE WHEN ${col(s.red.hours)} >= ${s.red.mm} THEN 'red'
                  WHEN ${col(s.orange.hours)} >= ${s.orange.mm} THEN 'orange'
                  WHEN ${col(s.yellow.hours)} >= ${s.yellow.mm} THEN 'yellow'
                  WHEN ${col(s.blue.hours)} >= ${s.blue.mm} THEN 'blue' END AS signal_colour,
             (ARRAY['blue', 'yellow', 'orange', 'red'])[(
               SELECT max(array_position(ARRAY['blue', 'yellow', 'orange', 'red'], w.colour))
               FROM rain_warnings w
               WHERE w.issued_at <= ${asOf}::timestamptz AND w.valid_until > ${asOf}::timestamptz
                 AND (EXISTS (SELECT 1 FROM unnest(w.area_codes) a WHERE x.unit_code LIKE rain_code_prefix(a) || '%')
                      OR (w.geom IS NOT NULL AND ST_Intersects(w.geom, x.pt)))
             )] AS warning_colour,
             -- core/rules/checks.ts pastCritical
             (x.kind = 'site' AND (x.s1 >= x.c1 OR x.s24 >= x.c24)) AS past_critical,
             rain_current(x.newest_hour, ${seen}::timestamptz) AS current
      FROM (SELECT u.code, u.unit_code, u.pt, h.critical_rain_1h AS c1, h.critical_rain_24h AS c24, sums.*
            FROM sums JOIN rain_units u ON u.kind = sums.kind AND u.unit_id = sums.unit_id
            LEFT JOIN hazard_sites h ON sums.kind = 'site' AND h.id = sums.unit_id) x
    )
    SELECT y.*,
           -- What may be shown as live: nothing of a unit whose rain is not current.
           CASE WHEN y.current THEN y.colour END AS live_colour,
           y.current AND coalesce(y.past_critical, false) AS alert
    FROM (
      SELECT c.*,
             (ARRAY['blue', 'yellow', 'orange', 'red'])[greatest(array_position(ARRAY['blue', 'yellow', 'orange', 'red'], c.signal_colour),
                                                                  array_position(ARRAY['blue', 'yellow', 'orange', 'red'], c.warning_colour))] AS colour,
             -- A site is on alert past its critical rainfall (the map's red halo says so), a grid under an observed signal.
             c.current AND CASE WHEN c.kind = 'site' THEN coalesce(c.past_critical, false) ELSE c.signal_colour IS NOT NULL END AS on_alert,
             -- During rain (core/rules/checks.ts duringRain): while it rains, a signal from what
             -- fell, a warning in force, or a site past its critical rainfall. (Sums stay high for
             -- hours after the rain stops; that is after rain, not during.) Stale rain opens nothing.
             c.current AND c.s1 >= ${cfg.during.wetMm} AND (coalesce(c.past_critical, false) OR c.signal_colour IS NOT NULL
                                                             OR c.warning_colour IS NOT NULL) AS during,
             c.current AND c.s1 >= ${cfg.during.wetMm} AS wet
      FROM coloured c
    ) y`
}

async function writeState(tx: Tx, asOf: string) {
  // Only rows whose figures changed are written: dry areas stay as they are.
  const [up] = await tx<{ w: number | null; s: number; e: number; n: number }[]>`
    WITH up AS (
      INSERT INTO rain_state AS r (kind, unit_id, code, unit_code, rain_1h, rain_3h, rain_6h, rain_12h, rain_24h,
                                   signal_colour, warning_colour, colour, on_alert, lag_hours)
      -- The lag, not the newest hour itself: in steady weather it stays 0 and the row is not rewritten every hour.
      SELECT kind, unit_id, code, unit_code, s1, s3, s6, s12, s24, signal_colour, warning_colour, colour, on_alert,
             (extract(epoch FROM ${asOf}::timestamptz - newest_hour) / 3600)::int
      FROM rain_eval
      ON CONFLICT (kind, unit_id) DO UPDATE SET
        code = EXCLUDED.code, unit_code = EXCLUDED.unit_code,
        rain_1h = EXCLUDED.rain_1h, rain_3h = EXCLUDED.rain_3h, rain_6h = EXCLUDED.rain_6h, rain_12h = EXCLUDED.rain_12h,
        rain_24h = EXCLUDED.rain_24h, signal_colour = EXCLUDED.signal_colour, warning_colour = EXCLUDED.warning_colour,
        colour = EXCLUDED.colour, on_alert = EXCLUDED.on_alert, lag_hours = EXCLUDED.lag_hours
      WHERE (r.code, r.unit_code, r.rain_1h, r.rain_3h, r.rain_6h, r.rain_12h, r.rain_24h, r.signal_colour, r.warning_colour, r.colour, r.on_alert,
             r.lag_hours)
            IS DISTINCT FROM (EXCLUDED.code, EXCLUDED.unit_code, EXCLUDED.rain_1h, EXCLUDED.rain_3h, EXCLUDED.rain_6h, EXCLUDED.rain_12h,
                              EXCLUDED.rain_24h, EXCLUDED.signal_colour, EXCLUDED.warning_colour, EXCLUDED.colour, EXCLUDED.on_alert,
                              EXCLUDED.lag_hours)
      RETURNING kind, unit_id)
    -- Where the rain tiles changed: the changed grids' polygons (their label points lie
    -- inside) and sites' points. One box: a rain update changes one storm's area.
    SELECT ST_XMin(x.e) AS w, ST_YMin(x.e) AS s, ST_XMax(x.e) AS e, ST_YMax(x.e) AS n
    FROM (SELECT ST_Extent(coalesce(g.geom, h.geom)) AS e FROM up
          LEFT JOIN grids g ON up.kind = 'grid' AND g.id = up.unit_id
          LEFT JOIN hazard_sites h ON up.kind = 'site' AND h.id = up.unit_id) x`
  // Units no station reaches any more (moved, cancelled, out of range) have no rain to show.
  const gone = await tx`DELETE FROM rain_state r WHERE NOT EXISTS (SELECT 1 FROM rain_eval e WHERE e.kind = r.kind AND e.unit_id = r.unit_id) RETURNING 1`
  await tx`UPDATE rain_cache SET state_as_of = ${asOf}::timestamptz`
  // The tile cache drops the rain tiles that show a change (tiles/cache.ts reads
  // [kind, w, s, e, n]). Rows that went (where the unit was is no longer known:
  // it may have moved) drop every rain tile; that happens a day after rain ends.
  const change: Change | null = gone.length ? ['rain', -180, -85, 180, 85] : up?.w != null ? ['rain', up.w, up.s, up.e, up.n] : null
  if (change) await tx`SELECT pg_notify('gridwatch_tiles', ${JSON.stringify([change])})`
}

/**
 * The event each county is in at `at`, opening one for the counties in
 * `counties` that have none (with `started_at` = `at`). A late reading just
 * before an open event's start moves the start back instead.
 */
async function eventsAt(tx: Tx, cfg: RainConfig, at: string, counties: string[]) {
  if (counties.length === 0) return
  await tx`
    UPDATE rain_events SET started_at = ${at}::timestamptz
    WHERE closed_at IS NULL AND county_code = ANY(${counties}::text[])
      AND started_at > ${at}::timestamptz AND started_at - ${at}::timestamptz <= ${cfg.after.dryHours} * interval '1 hour'`
  await tx`
    INSERT INTO rain_events (county_code, started_at)
    SELECT c, ${at}::timestamptz FROM unnest(${counties}::text[]) c
    WHERE NOT EXISTS (SELECT 1 FROM rain_events e WHERE e.county_code = c
                      AND (e.closed_at IS NULL OR (e.started_at <= ${at}::timestamptz AND e.closed_at >= ${at}::timestamptz)))`
}

/** SQL selecting the event a county is in at `at`; none when that event is over (a late reading opens no checks in it). */
const eventFor = (tx: Tx, county: postgres.Fragment, at: postgres.Fragment) => tx`
  (SELECT e.id FROM rain_events e WHERE e.county_code = ${county} AND e.started_at <= ${at}
     AND coalesce(e.closed_at, 'infinity') >= ${at} AND e.over_at IS NULL ORDER BY e.started_at DESC LIMIT 1)`

/**
 * One evaluation at hour `asOf`: interpolate, (if it is the latest hour)
 * write rain_state, keep events, open during-rain tasks for what is on alert
 * and after-rain tasks for events with alerts that have been dry long enough.
 */
export async function evaluate(tx: Tx, cfg: RainConfig, asOf: string, opts: { writeState: boolean }): Promise<EvaluationResult> {
  await tune(tx)
  await stage('interpolate', interpolate(tx, cfg, asOf))
  if (opts.writeState) await stage('state', writeState(tx, asOf))

  // Events that ran out of time by the end of this hour (rain time: a replayed history ends them as it
  // went), before this hour's rain finds its event: rain after a storm that timed out opens a new one.
  await stage('end', endEvents(tx, cfg, new Date(Date.parse(asOf) + 3600_000)))
  const counties = await tx<{ county: string; wet: boolean; alert: boolean }[]>`
    SELECT left(code, 6) AS county, bool_or(wet) AS wet, bool_or(during) AS alert FROM rain_eval
    GROUP BY 1 HAVING bool_or(wet) OR bool_or(during)`
  await eventsAt(tx, cfg, asOf, counties.map((c) => c.county))
  const wet = counties.filter((c) => c.wet).map((c) => c.county)
  const alert = counties.filter((c) => c.alert).map((c) => c.county)
  await tx`
    UPDATE rain_events e SET
      last_wet_at = CASE WHEN e.county_code = ANY(${wet}::text[]) THEN greatest(e.last_wet_at, ${asOf}::timestamptz) ELSE e.last_wet_at END,
      last_alert_at = CASE WHEN e.county_code = ANY(${alert}::text[]) THEN greatest(e.last_alert_at, ${asOf}::timestamptz) ELSE e.last_alert_at END
    WHERE e.county_code = ANY(${counties.map((c) => c.county)}::text[]) AND e.started_at <= ${asOf}::timestamptz
      AND coalesce(e.closed_at, 'infinity') >= ${asOf}::timestamptz`

  const due = `${cfg.during.dueHours} hours`
  const [{ n: during }] = await stage('during', tx<{ n: number }[]>`
    WITH tpl AS MATERIALIZED (${templateItems(tx)}),
    ev AS MATERIALIZED (SELECT c AS county, ${eventFor(tx, tx`c`, tx`${asOf}::timestamptz`)} AS event_id FROM unnest(${alert}::text[]) c),
    -- Only what has no during task in its event yet: the rest would be skipped anyway,
    -- and looking up assignees for it is most of the cost of a steady hour.
    cand AS MATERIALIZED (
      SELECT e.kind, e.unit_id, e.unit_code, e.past_critical, ev.event_id
      FROM rain_eval e JOIN ev ON ev.county = left(e.code, 6) AND ev.event_id IS NOT NULL
      WHERE e.during
    ), targets AS (
      SELECT c.event_id, 'grid' AS kind, g.id, g.code, g.name, g.code AS unit_code, ${gridWorkerOf(tx, tx`g.id`)} AS assignee
      FROM cand c JOIN grids g ON g.id = c.unit_id
      WHERE c.kind = 'grid' AND NOT EXISTS (SELECT 1 FROM tasks x WHERE x.event_id = c.event_id AND x.phase = 'during' AND x.target_kind = 'grid' AND x.target_id = c.unit_id)
      UNION ALL
      SELECT c.event_id, 'hazard_site', h.id, h.code, h.name, c.unit_code, h.monitor_id
      FROM cand c JOIN hazard_sites h ON h.id = c.unit_id
      WHERE c.kind = 'site' AND NOT EXISTS (SELECT 1 FROM tasks x WHERE x.event_id = c.event_id AND x.phase = 'during' AND x.target_kind = 'hazard_site' AND x.target_id = c.unit_id)
      UNION ALL
      -- Red and vulnerable households under a site past its critical rainfall: their cadre checks on them.
      SELECT DISTINCT ON (hh.id) c.event_id, 'household', hh.id, hh.code, NULL, left(hh.code, 15), hh.cadre_id
      FROM cand c JOIN hazard_threats ht ON ht.hazard_id = c.unit_id JOIN households hh ON hh.id = ht.household_id
      WHERE c.kind = 'site' AND c.past_critical AND (hh.risk_level = 'red' OR hh.vulnerable > 0)
        AND NOT EXISTS (SELECT 1 FROM tasks x WHERE x.event_id = c.event_id AND x.phase = 'during' AND x.target_kind = 'household' AND x.target_id = hh.id)
    ), ins AS (
      INSERT INTO tasks (event_id, phase, step, target_kind, target_id, target_code, target_name, unit_code, assignee_id, opened_at, due_at, items)
      SELECT t.event_id, 'during', 'rain', t.kind, t.id, t.code, t.name, t.unit_code, t.assignee, ${asOf}::timestamptz,
             ${asOf}::timestamptz + interval '1 hour' + ${due}::interval, tpl.items
      FROM targets t JOIN tpl ON tpl.phase = 'during' AND tpl.target_kind = t.kind
      ON CONFLICT (event_id, phase, target_kind, target_id) DO NOTHING
      RETURNING 1)
    SELECT count(*)::int AS n FROM ins`)

  const after = await stage('after', openAfterRain(tx, cfg, asOf))
  const [{ n: units }] = await tx<{ n: number }[]>`SELECT count(*)::int AS n FROM rain_eval`
  return { asOf, units, during, after }
}

/**
 * After rain (雨后查灾情): an event with alerts whose county has been dry for
 * after.dryHours gets one after-rain task per target checked during the rain,
 * and closes. Events without alerts just close once dry (and past their forecast).
 */
async function openAfterRain(tx: Tx, cfg: RainConfig, asOf: string): Promise<number> {
  const dry = `${cfg.after.dryHours} hours`
  const due = `${cfg.after.dueHours} hours`
  const [{ n }] = await tx<{ n: number }[]>`
    WITH tpl AS MATERIALIZED (${templateItems(tx)}),
    closing AS (
      UPDATE rain_events SET after_opened_at = ${asOf}::timestamptz, closed_at = ${asOf}::timestamptz
      WHERE closed_at IS NULL AND last_alert_at IS NOT NULL AND last_wet_at IS NOT NULL
        AND ${asOf}::timestamptz >= last_wet_at + ${dry}::interval
      RETURNING id),
    ins AS (
      INSERT INTO tasks (event_id, phase, step, target_kind, target_id, target_code, target_name, unit_code, assignee_id, opened_at, due_at, items)
      SELECT t.event_id, 'after', 'dry', t.target_kind, t.target_id, t.target_code, t.target_name, t.unit_code, t.assignee_id,
             ${asOf}::timestamptz, ${asOf}::timestamptz + interval '1 hour' + ${due}::interval, tpl.items
      FROM tasks t JOIN closing c ON c.id = t.event_id JOIN tpl ON tpl.phase = 'after' AND tpl.target_kind = t.target_kind
      WHERE t.phase = 'during'
      ON CONFLICT (event_id, phase, target_kind, target_id) DO NOTHING
      RETURNING 1)
    SELECT count(*)::int AS n FROM ins`
  await tx`
    UPDATE rain_events SET closed_at = ${asOf}::timestamptz
    WHERE closed_at IS NULL AND last_alert_at IS NULL
      AND ${asOf}::timestamptz >= greatest(coalesce(last_wet_at, started_at), coalesce(expect_until, started_at)) + ${dry}::interval`
  return n
}

/**
 * Before rain (雨前查预防): each new or changed forecast of heavy rain at a
 * ladder lead time opens that step's checks (core/rules/ladder.ts ladderCall,
 * which tests/db/rain.test.ts holds this statement to) for the targets in its area:
 * hazard sites → their monitor, grids → their 网格员, households (vulnerable,
 * or everyone red or vulnerable; everyone at night) → their cadre.
 */
export async function openBeforeRain(tx: Tx, cfg: RainConfig, forecastIds: number[]): Promise<number> {
  if (forecastIds.length === 0) return 0
  // The same lock as a rain update: both open storm events (one open event per county).
  await tx`SELECT 1 FROM rain_cache FOR UPDATE`
  await tune(tx)
  const { steps, night, heavyRainMm } = cfg.ladder
  const f = await tx<{ county: string; issued_at: Date; period_end: Date }[]>`
    SELECT left(area_code, 6) AS county, issued_at, period_end FROM rain_forecasts
    WHERE id = ANY(${forecastIds}::bigint[]) AND mm >= ${heavyRainMm} AND lead_hours = ANY(${steps.map((s) => s.lead)}::int[])
    ORDER BY issued_at`
  // A storm that ran out of time takes no new forecast: end what is over by the latest one first.
  if (f.length) await endEvents(tx, cfg, f.at(-1)!.issued_at)
  for (const x of f) await eventsAt(tx, cfg, x.issued_at.toISOString(), [x.county])
  if (f.length === 0) return 0
  const nightHour = night.fromHour > night.toHour
    ? tx`(extract(hour FROM f.period_start AT TIME ZONE ${night.timeZone}) >= ${night.fromHour} OR extract(hour FROM f.period_start AT TIME ZONE ${night.timeZone}) < ${night.toHour})`
    : tx`(extract(hour FROM f.period_start AT TIME ZONE ${night.timeZone}) >= ${night.fromHour} AND extract(hour FROM f.period_start AT TIME ZONE ${night.timeZone}) < ${night.toHour})`
  const [{ n }] = await tx<{ n: number }[]>`
    WITH tpl AS MATERIALIZED (${templateItems(tx)}),
    steps AS (SELECT * FROM jsonb_to_recordset(${tx.json(steps as never)}) AS s(lead int, targets jsonb, households text, "dueBeforeStartHours" float8)),
    fc AS (
      SELECT f.*, rain_code_prefix(f.area_code) AS prefix, s.lead || 'h' AS step, s.targets,
             CASE WHEN s.households IS NOT NULL AND ${nightHour} THEN coalesce(${night.households}::text, s.households) ELSE s.households END AS households,
             greatest(f.period_start - s."dueBeforeStartHours" * interval '1 hour', f.issued_at + interval '30 minutes') AS due_at,
             ${eventFor(tx, tx`left(f.area_code, 6)`, tx`f.issued_at`)} AS event_id
      FROM rain_forecasts f JOIN steps s ON s.lead = f.lead_hours
      WHERE f.id = ANY(${forecastIds}::bigint[]) AND f.mm >= ${heavyRainMm}
    ), upd AS (
      UPDATE rain_events e SET expect_until = greatest(e.expect_until, x.period_end)
      FROM (SELECT event_id, max(period_end) AS period_end FROM fc GROUP BY 1) x WHERE e.id = x.event_id
    ), targets AS (
      SELECT fc.event_id, fc.step, fc.issued_at, fc.due_at, 'hazard_site' AS kind, h.id, h.code, h.name,
             coalesce(gg.code, h.admin_code) AS unit_code, h.monitor_id AS assignee
      FROM fc JOIN hazard_sites h ON h.status = 'active' AND h.admin_code LIKE left(fc.prefix, 12) || '%'
      LEFT JOIN LATERAL (SELECT g.code FROM grids g WHERE g.kind = 'basic' AND ST_Intersects(g.geom, h.geom) ORDER BY g.code LIMIT 1) gg ON true
      WHERE fc.targets ? 'hazard_site' AND coalesce(gg.code, h.admin_code) LIKE fc.prefix || '%'
      UNION ALL
      SELECT fc.event_id, fc.step, fc.issued_at, fc.due_at, 'grid', g.id, g.code, g.name, g.code, ${gridWorkerOf(tx, tx`g.id`)}
      FROM fc JOIN grids g ON g.kind = 'basic' AND g.code LIKE fc.prefix || '%'
      WHERE fc.targets ? 'grid'
      UNION ALL
      SELECT fc.event_id, fc.step, fc.issued_at, fc.due_at, 'household', hh.id, hh.code, NULL, left(hh.code, 15), hh.cadre_id
      FROM fc JOIN households hh ON hh.code LIKE fc.prefix || '%'
      WHERE fc.households IS NOT NULL
        AND (hh.vulnerable > 0 OR (fc.households = 'everyone' AND hh.risk_level = 'red'))
    ), ins AS (
      INSERT INTO tasks (event_id, phase, step, target_kind, target_id, target_code, target_name, unit_code, assignee_id, opened_at, due_at, items)
      SELECT DISTINCT ON (t.event_id, t.kind, t.id)
             t.event_id, 'before', t.step, t.kind, t.id, t.code, t.name, t.unit_code, t.assignee, t.issued_at, t.due_at, tpl.items
      FROM targets t JOIN tpl ON tpl.phase = 'before' AND tpl.target_kind = t.kind
      WHERE t.event_id IS NOT NULL
      ORDER BY t.event_id, t.kind, t.id, t.due_at
      ON CONFLICT (event_id, phase, target_kind, target_id) DO NOTHING
      RETURNING 1)
    SELECT count(*)::int AS n FROM ins`
  return n
}
