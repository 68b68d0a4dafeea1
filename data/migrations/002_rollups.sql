-- Household counts per grid, micro-grid and admin unit, kept current by
-- statement-level triggers so that tiles and panels never aggregate
-- hundreds of thousands of rows per request.
CREATE TABLE household_rollups (
  level       text NOT NULL CHECK (level IN ('micro', 'grid', 'village', 'township', 'county', 'city')),
  unit_id     int NOT NULL,           -- grids.id for micro/grid, admin_units.id otherwise
  households  int NOT NULL DEFAULT 0,
  red         int NOT NULL DEFAULT 0,
  yellow      int NOT NULL DEFAULT 0,
  green       int NOT NULL DEFAULT 0,
  people      int NOT NULL DEFAULT 0,
  vulnerable  int NOT NULL DEFAULT 0,
  exposed     int NOT NULL DEFAULT 0,
  PRIMARY KEY (level, unit_id)
);

-- Where a grid sits in the admin tree; one row per basic or micro grid.
CREATE VIEW grid_ancestry AS
SELECT g.id AS grid_id, v.id AS village_id, t.id AS township_id, c.id AS county_id, c.parent_id AS city_id
FROM grids g
JOIN admin_units v ON v.id = g.village_id
JOIN admin_units t ON t.id = v.parent_id
JOIN admin_units c ON c.id = t.parent_id;

-- The query that expands per-household rows (grid_id, micro_grid_id,
-- risk_level, members, vulnerable, flood_exposed, sign) from `src` into
-- per-unit deltas. It returns SQL text, not rows: a trigger's transition
-- tables are visible only to queries the trigger function runs itself.
CREATE FUNCTION household_rollup_delta_sql(src text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
  SELECT format($q$
    WITH d AS (%s),
    u AS (
      SELECT 'grid'::text AS level, d.grid_id AS unit_id, d.* FROM d
      UNION ALL SELECT 'micro', d.micro_grid_id, d.* FROM d WHERE d.micro_grid_id IS NOT NULL
      UNION ALL SELECT 'village', a.village_id, d.* FROM d JOIN grid_ancestry a ON a.grid_id = d.grid_id
      UNION ALL SELECT 'township', a.township_id, d.* FROM d JOIN grid_ancestry a ON a.grid_id = d.grid_id
      UNION ALL SELECT 'county', a.county_id, d.* FROM d JOIN grid_ancestry a ON a.grid_id = d.grid_id
      UNION ALL SELECT 'city', a.city_id, d.* FROM d JOIN grid_ancestry a ON a.grid_id = d.grid_id
    ), g AS (
      SELECT u.level, u.unit_id, sum(u.sign)::int AS households,
             coalesce(sum(u.sign) FILTER (WHERE u.risk_level = 'red'), 0)::int AS red,
             coalesce(sum(u.sign) FILTER (WHERE u.risk_level = 'yellow'), 0)::int AS yellow,
             coalesce(sum(u.sign) FILTER (WHERE u.risk_level = 'green'), 0)::int AS green,
             sum(u.sign * u.members)::int AS people, sum(u.sign * u.vulnerable)::int AS vulnerable,
             coalesce(sum(u.sign) FILTER (WHERE u.flood_exposed), 0)::int AS exposed
      FROM u GROUP BY u.level, u.unit_id
    )
    INSERT INTO household_rollups AS r
    SELECT * FROM g
    WHERE households <> 0 OR red <> 0 OR yellow <> 0 OR green <> 0 OR people <> 0 OR vulnerable <> 0 OR exposed <> 0
    ON CONFLICT (level, unit_id) DO UPDATE SET
      households = r.households + excluded.households, red = r.red + excluded.red,
      yellow = r.yellow + excluded.yellow, green = r.green + excluded.green,
      people = r.people + excluded.people, vulnerable = r.vulnerable + excluded.vulnerable,
      exposed = r.exposed + excluded.exposed $q$, src)
$fn$;

CREATE FUNCTION refresh_household_rollups() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  DELETE FROM household_rollups;
  EXECUTE household_rollup_delta_sql(
    'SELECT grid_id, micro_grid_id, risk_level, members, vulnerable, flood_exposed, 1 AS sign FROM households');
  -- Units with no household still get a row, so that every grid has a colour.
  INSERT INTO household_rollups (level, unit_id)
  SELECT CASE WHEN kind = 'basic' THEN 'grid' ELSE 'micro' END, id FROM grids
  UNION ALL SELECT level, id FROM admin_units
  ON CONFLICT DO NOTHING;
END $fn$;

-- Tile invalidation: each statement that changes households tells listeners
-- which features changed, as [kind, minx, miny, maxx, maxy] in EPSG:4326.
-- Kinds: household (points), grid / village / township / county (a unit whose
-- counts changed: its bbox; its label point is inside the same message as
-- label_<level>).
CREATE FUNCTION notify_tile_changes(changes jsonb) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  chunk jsonb;
BEGIN
  -- NOTIFY payloads are limited to 8000 bytes; 60 boxes stay well below.
  FOR chunk IN
    SELECT jsonb_agg(c) FROM (
      SELECT c, (row_number() OVER () - 1) / 60 AS batch FROM jsonb_array_elements(changes) c
    ) s GROUP BY batch
  LOOP
    PERFORM pg_notify('gridwatch_tiles', chunk::text);
  END LOOP;
END $fn$;

CREATE FUNCTION households_after_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  cols constant text := 'grid_id, micro_grid_id, risk_level, members, vulnerable, flood_exposed, geom';
  src text;
  changes jsonb;
BEGIN
  -- Bulk loads (the seed) recompute all roll-ups at the end instead.
  IF current_setting('gridwatch.skip_rollups', true) = 'on' THEN RETURN NULL; END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN src := format('SELECT %s, 1 AS sign FROM new_rows', cols); END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    src := concat_ws(' UNION ALL ', src, format('SELECT %s, -1 AS sign FROM old_rows', cols));
  END IF;

  EXECUTE household_rollup_delta_sql(src);

  -- Which tiles to drop: the changed points (grouped per grid), and every unit
  -- whose counts may have changed.
  EXECUTE format($q$
    WITH d AS (%s),
    pts AS (
      SELECT jsonb_build_array('household', ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)) AS c
      FROM (SELECT ST_Extent(geom)::box2d AS e FROM d GROUP BY grid_id) x
    ),
    grids_touched AS (SELECT DISTINCT grid_id AS id FROM d UNION SELECT DISTINCT micro_grid_id FROM d WHERE micro_grid_id IS NOT NULL),
    units AS (
      SELECT CASE g.kind WHEN 'basic' THEN 'grid' ELSE 'micro' END AS kind, g.geom, g.label_point
      FROM grids g JOIN grids_touched t ON t.id = g.id
      UNION ALL
      SELECT a.level, a.geom, a.label_point FROM admin_units a
      WHERE a.id IN (SELECT village_id FROM grid_ancestry WHERE grid_id IN (SELECT id FROM grids_touched)
                     UNION SELECT township_id FROM grid_ancestry WHERE grid_id IN (SELECT id FROM grids_touched)
                     UNION SELECT county_id FROM grid_ancestry WHERE grid_id IN (SELECT id FROM grids_touched))
    )
    SELECT coalesce(jsonb_agg(c), '[]'::jsonb) FROM (
      SELECT c FROM pts
      UNION ALL
      SELECT jsonb_build_array(kind, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom)) FROM units
      UNION ALL
      SELECT jsonb_build_array('label_' || kind, ST_X(label_point), ST_Y(label_point), ST_X(label_point), ST_Y(label_point)) FROM units
    ) s $q$, src) INTO changes;
  PERFORM notify_tile_changes(changes);
  RETURN NULL;
END $fn$;

CREATE TRIGGER households_rollup_insert AFTER INSERT ON households
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION households_after_change();
CREATE TRIGGER households_rollup_update AFTER UPDATE ON households
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION households_after_change();
CREATE TRIGGER households_rollup_delete AFTER DELETE ON households
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION households_after_change();

-- Deterministic pseudo-random number in [0, 1) for the synthetic data:
-- the same seed and key always give the same value, on any server.
CREATE FUNCTION gw_rand(seed bigint, key text) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT (hashtextextended(key, seed) & 4503599627370495)::double precision / 4503599627370496.0 $$;
