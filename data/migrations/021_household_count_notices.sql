-- Change notices for what is counted per household (issue #22): the hexagon
-- view's cache (api/hexagons/cache.ts) kept binned households and was dropped by
-- every 'household' notice, and every UPDATE of households sends one, a visit
-- (last_visit_at) or a changed phone number too. Besides the notices of 002
-- (unchanged: tiles draw more than counts), a statement now sends
-- 'household_counts' boxes for the rows whose counted columns changed: where a
-- household is (geom, grid_id), its colour (risk_level), its people (members,
-- vulnerable). Inserted and deleted rows always count. A move sends both boxes.
CREATE OR REPLACE FUNCTION households_after_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  cols constant text := 'grid_id, micro_grid_id, risk_level, members, vulnerable, flood_exposed, geom';
  src text;
  changes jsonb;
  counted jsonb;
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

  -- The rows whose counted columns changed (an update), or all of them (an insert, a delete); per grid.
  IF TG_OP = 'UPDATE' THEN
    SELECT coalesce(jsonb_agg(jsonb_build_array('household_counts', ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e))), '[]'::jsonb) INTO counted
    FROM (SELECT ST_Extent(p.geom)::box2d AS e
          FROM new_rows n JOIN old_rows o ON o.id = n.id
          CROSS JOIN LATERAL (VALUES (n.grid_id, n.geom), (o.grid_id, o.geom)) p(grid_id, geom)
          WHERE (n.grid_id, n.risk_level, n.members, n.vulnerable) IS DISTINCT FROM (o.grid_id, o.risk_level, o.members, o.vulnerable)
             OR NOT ST_Equals(n.geom, o.geom)
          GROUP BY p.grid_id) x;
  ELSE
    EXECUTE format($q$
      SELECT coalesce(jsonb_agg(jsonb_build_array('household_counts', ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e))), '[]'::jsonb)
      FROM (SELECT ST_Extent(geom)::box2d AS e FROM %s GROUP BY grid_id) x $q$,
      CASE TG_OP WHEN 'INSERT' THEN 'new_rows' ELSE 'old_rows' END) INTO counted;
  END IF;
  PERFORM notify_tile_changes(changes || counted);
  RETURN NULL;
END $fn$;
