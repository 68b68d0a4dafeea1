-- Issue #17: the city view's own tiles. At z5–9 one feature per hazard site
-- (3,500 over the city, each with its name, code, type…) and one point per
-- coloured grid made tiles of 150–300 KB that took up to a second. Low zooms
-- now show counts per county and township (and rain per village at z10–11),
-- as households do, from tables kept current by statement-level triggers: no
-- tile counts sites or rain itself.

-- Active hazard sites per county and township, by danger level. A site counts
-- where its admin_code says (as /api/units counts a unit's sites).
CREATE TABLE hazard_rollups (
  level                  text NOT NULL CHECK (level IN ('township', 'county')),
  unit_id                int NOT NULL,           -- admin_units.id
  sites                  int NOT NULL DEFAULT 0,
  extra_large            int NOT NULL DEFAULT 0, -- danger level 特大型
  large                  int NOT NULL DEFAULT 0, -- 大型
  medium                 int NOT NULL DEFAULT 0, -- 中型
  small                  int NOT NULL DEFAULT 0, -- 小型
  threatened_households  int NOT NULL DEFAULT 0,
  threatened_people      int NOT NULL DEFAULT 0,
  PRIMARY KEY (level, unit_id)
);

-- Rain per county, township and village from rain_state, per kind (grid / site) and
-- per lag_hours: whether a unit's rain is current depends on the moment looked
-- at (rain_state_current(lag_hours, now), migration 012), so the counts are kept
-- apart by lag and a tile adds up the current ones as live and the rest as stale.
-- A unit counts where its unit_code says (as /api/rain/state counts it).
CREATE TABLE rain_rollups (
  level      text NOT NULL CHECK (level IN ('village', 'township', 'county')),
  unit_id    int NOT NULL,           -- admin_units.id
  kind       text NOT NULL CHECK (kind IN ('grid', 'site')),
  lag_hours  int NOT NULL,
  units      int NOT NULL DEFAULT 0, -- grids or sites with rain figures
  blue       int NOT NULL DEFAULT 0, -- by colour (the higher of signal and warning)
  yellow     int NOT NULL DEFAULT 0,
  orange     int NOT NULL DEFAULT 0,
  red        int NOT NULL DEFAULT 0,
  on_alert   int NOT NULL DEFAULT 0, -- site: past its critical rainfall; grid: under an observed signal
  PRIMARY KEY (level, unit_id, kind, lag_hours)
);

-- The county, township and village a code (of a village, grid…, or its
-- first 9 or 12 digits) lies in, as admin_units rows; a township's code has
-- no village, a county's no township.
CREATE FUNCTION rollup_units(of_code text) RETURNS TABLE (level text, unit_id int) LANGUAGE sql STABLE AS $fn$
  SELECT a.level, a.id FROM admin_units a
  WHERE (a.level = 'county' AND a.code = left(of_code, 6) || '000000')
     OR (a.level = 'township' AND a.code = left(of_code, 9) || '000')
     OR (a.level = 'village' AND a.code = left(of_code, 12))
$fn$;

-- Per-unit deltas from per-site rows (admin_code, status, danger_level,
-- threatened_households, threatened_people, sign) in `src`, added in; the
-- query answers where the units whose counts changed are drawn (their label
-- points, as tile changes of kind 'hazard'). As SQL text: a trigger's
-- transition tables are visible only to its own queries.
CREATE FUNCTION hazard_rollup_delta_sql(src text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
  SELECT format($q$
    WITH d AS (%s),
    -- Per township code first: both units follow from its 9 digits (and no village: sites are counted to townships).
    p AS (
      SELECT left(d.admin_code, 9) AS c9, sum(d.sign) AS sites,
             coalesce(sum(d.sign) FILTER (WHERE d.danger_level = '特大型'), 0) AS extra_large,
             coalesce(sum(d.sign) FILTER (WHERE d.danger_level = '大型'), 0) AS large,
             coalesce(sum(d.sign) FILTER (WHERE d.danger_level = '中型'), 0) AS medium,
             coalesce(sum(d.sign) FILTER (WHERE d.danger_level = '小型'), 0) AS small,
             sum(d.sign * d.threatened_households) AS threatened_households,
             sum(d.sign * d.threatened_people) AS threatened_people
      FROM d WHERE d.status = 'active' GROUP BY 1
    ),
    g AS (
      SELECT u.level, u.unit_id, sum(p.sites)::int AS sites, sum(p.extra_large)::int AS extra_large, sum(p.large)::int AS large,
             sum(p.medium)::int AS medium, sum(p.small)::int AS small, sum(p.threatened_households)::int AS threatened_households,
             sum(p.threatened_people)::int AS threatened_people
      FROM p CROSS JOIN LATERAL rollup_units(p.c9) u
      GROUP BY u.level, u.unit_id
    )
    , up AS (
      INSERT INTO hazard_rollups AS r
      SELECT * FROM g
      WHERE sites <> 0 OR extra_large <> 0 OR large <> 0 OR medium <> 0 OR small <> 0 OR threatened_households <> 0 OR threatened_people <> 0
      ON CONFLICT (level, unit_id) DO UPDATE SET
        sites = r.sites + excluded.sites, extra_large = r.extra_large + excluded.extra_large, large = r.large + excluded.large,
        medium = r.medium + excluded.medium, small = r.small + excluded.small,
        threatened_households = r.threatened_households + excluded.threatened_households,
        threatened_people = r.threatened_people + excluded.threatened_people
      RETURNING unit_id)
    SELECT coalesce(jsonb_agg(jsonb_build_array('hazard', ST_X(a.label_point), ST_Y(a.label_point), ST_X(a.label_point), ST_Y(a.label_point))), '[]'::jsonb)
    FROM up JOIN admin_units a ON a.id = up.unit_id $q$, src)
$fn$;

-- The same for rain, from per-unit rows (kind, unit_code, lag_hours, colour,
-- on_alert, sign) of rain_state; changes of kind 'rain'.
CREATE FUNCTION rain_rollup_delta_sql(src text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
  SELECT format($q$
    WITH d AS (%s),
    p AS (
      SELECT left(d.unit_code, 12) AS c12, d.kind, d.lag_hours, sum(d.sign) AS units,
             coalesce(sum(d.sign) FILTER (WHERE d.colour = 'blue'), 0) AS blue,
             coalesce(sum(d.sign) FILTER (WHERE d.colour = 'yellow'), 0) AS yellow,
             coalesce(sum(d.sign) FILTER (WHERE d.colour = 'orange'), 0) AS orange,
             coalesce(sum(d.sign) FILTER (WHERE d.colour = 'red'), 0) AS red,
             coalesce(sum(d.sign) FILTER (WHERE d.on_alert), 0) AS on_alert
      FROM d GROUP BY 1, 2, 3
    ),
    g AS (
      SELECT u.level, u.unit_id, p.kind, p.lag_hours, sum(p.units)::int AS units, sum(p.blue)::int AS blue,
             sum(p.yellow)::int AS yellow, sum(p.orange)::int AS orange, sum(p.red)::int AS red, sum(p.on_alert)::int AS on_alert
      FROM p CROSS JOIN LATERAL rollup_units(p.c12) u
      GROUP BY u.level, u.unit_id, p.kind, p.lag_hours
    )
    , up AS (
      INSERT INTO rain_rollups AS r
      SELECT * FROM g
      WHERE units <> 0 OR blue <> 0 OR yellow <> 0 OR orange <> 0 OR red <> 0 OR on_alert <> 0
      ON CONFLICT (level, unit_id, kind, lag_hours) DO UPDATE SET
        units = r.units + excluded.units, blue = r.blue + excluded.blue, yellow = r.yellow + excluded.yellow,
        orange = r.orange + excluded.orange, red = r.red + excluded.red, on_alert = r.on_alert + excluded.on_alert
      RETURNING unit_id)
    SELECT coalesce(jsonb_agg(DISTINCT jsonb_build_array('rain', ST_X(a.label_point), ST_Y(a.label_point), ST_X(a.label_point), ST_Y(a.label_point))), '[]'::jsonb)
    FROM up JOIN admin_units a ON a.id = up.unit_id $q$, src)
$fn$;

CREATE FUNCTION refresh_hazard_rollups() RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  changed jsonb;
BEGIN
  DELETE FROM hazard_rollups;
  EXECUTE hazard_rollup_delta_sql(
    'SELECT admin_code, status, danger_level, threatened_households, threatened_people, 1 AS sign FROM hazard_sites') INTO changed;
END $fn$;

CREATE FUNCTION refresh_rain_rollups() RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  changed jsonb;
BEGIN
  DELETE FROM rain_rollups;
  EXECUTE rain_rollup_delta_sql('SELECT kind, unit_code, lag_hours, colour, on_alert, 1 AS sign FROM rain_state') INTO changed;
END $fn$;

-- Hazard sites: the roll-ups, and which tiles to drop (kind 'hazard'): the
-- changed sites, grouped per village, and the label points of the units whose
-- counts changed. Until now no change to a site dropped a cached tile.
CREATE FUNCTION hazard_sites_after_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  cols constant text := 'admin_code, status, danger_level, threatened_households, threatened_people, geom';
  src text;
  unit_points jsonb;
  site_boxes jsonb;
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN src := format('SELECT %s, 1 AS sign FROM new_rows', cols); END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    src := concat_ws(' UNION ALL ', src, format('SELECT %s, -1 AS sign FROM old_rows', cols));
  END IF;
  EXECUTE hazard_rollup_delta_sql(src) INTO unit_points;
  DELETE FROM hazard_rollups WHERE sites = 0 AND threatened_households = 0 AND threatened_people = 0;
  EXECUTE format($q$
    WITH d AS (%s)
    SELECT coalesce(jsonb_agg(jsonb_build_array('hazard', ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e))), '[]'::jsonb)
    FROM (SELECT ST_Extent(geom)::box2d AS e FROM d GROUP BY admin_code) x $q$, src) INTO site_boxes;
  PERFORM notify_tile_changes(site_boxes || unit_points);
  RETURN NULL;
END $fn$;

CREATE FUNCTION hazard_sites_after_truncate() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  DELETE FROM hazard_rollups;
  PERFORM notify_tile_changes('[["hazard", -180, -85, 180, 85]]'::jsonb);
  RETURN NULL;
END $fn$;

CREATE TRIGGER hazard_rollup_insert AFTER INSERT ON hazard_sites
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION hazard_sites_after_change();
CREATE TRIGGER hazard_rollup_update AFTER UPDATE ON hazard_sites
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION hazard_sites_after_change();
CREATE TRIGGER hazard_rollup_delete AFTER DELETE ON hazard_sites
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION hazard_sites_after_change();
CREATE TRIGGER hazard_rollup_truncate AFTER TRUNCATE ON hazard_sites
  FOR EACH STATEMENT EXECUTE FUNCTION hazard_sites_after_truncate();

-- Rain state: the roll-ups. The rain engine notifies the extent of the units
-- it changed (api/rain/engine.ts); a county's or township's count sits at its
-- label point, which may lie outside that extent, so the label points of the
-- units whose counts changed are notified here too (kind 'rain').
CREATE FUNCTION rain_state_after_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  cols constant text := 'kind, unit_code, lag_hours, colour, on_alert';
  src text;
  unit_points jsonb;
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN src := format('SELECT %s, 1 AS sign FROM new_rows', cols); END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    src := concat_ws(' UNION ALL ', src, format('SELECT %s, -1 AS sign FROM old_rows', cols));
  END IF;
  EXECUTE rain_rollup_delta_sql(src) INTO unit_points;
  DELETE FROM rain_rollups WHERE units = 0 AND blue = 0 AND yellow = 0 AND orange = 0 AND red = 0 AND on_alert = 0;
  PERFORM notify_tile_changes(unit_points);
  RETURN NULL;
END $fn$;

CREATE FUNCTION rain_state_after_truncate() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  DELETE FROM rain_rollups;
  PERFORM notify_tile_changes('[["rain", -180, -85, 180, 85]]'::jsonb);
  RETURN NULL;
END $fn$;

CREATE TRIGGER rain_rollup_insert AFTER INSERT ON rain_state
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rain_state_after_change();
CREATE TRIGGER rain_rollup_update AFTER UPDATE ON rain_state
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rain_state_after_change();
CREATE TRIGGER rain_rollup_delete AFTER DELETE ON rain_state
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rain_state_after_change();
CREATE TRIGGER rain_rollup_truncate AFTER TRUNCATE ON rain_state
  FOR EACH STATEMENT EXECUTE FUNCTION rain_state_after_truncate();

-- The highest danger level among a unit's counts, for its symbol on the map.
-- Deliberately not PARALLEL SAFE: the low-zoom hazard tile is a UNION ALL
-- (sites, counts) that the planner otherwise runs as a Parallel Append, and
-- starting workers took 10–30 times the query itself (100–200 ms for a z8
-- tile whose rows take 5–20 ms).
CREATE FUNCTION hazard_top_danger(extra_large int, large int, medium int) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
  SELECT CASE WHEN extra_large > 0 THEN '特大型' WHEN large > 0 THEN '大型' WHEN medium > 0 THEN '中型' ELSE '小型' END
$fn$;

-- The lags (rain_state.lag_hours) whose rain is current at `at`, by the rule
-- itself (rain_state_current) applied to each lag there is; rain_rollups holds
-- every lag rain_state has, in a few rows (a lag missing there would only read
-- as not current: the safe side). A tile works this out once and
-- tests each row's lag against it: calling the rule for each row and column
-- (six times a row; a SQL function that is not inlined is planned on each
-- query) made a city-wide rain tile take seconds. PL/pgSQL keeps its plan.
CREATE FUNCTION rain_current_lags(at timestamptz) RETURNS int[] LANGUAGE plpgsql STABLE AS $fn$
BEGIN
  -- OFFSET 0: the rule after DISTINCT, once a lag, not pushed down to every row.
  RETURN (SELECT coalesce(array_agg(l ORDER BY l), '{}') FROM (SELECT DISTINCT lag_hours AS l FROM rain_rollups OFFSET 0) x
          WHERE rain_state_current(l, at));
END $fn$;

SELECT refresh_hazard_rollups();
SELECT refresh_rain_rollups();
