-- The grid editor (issue #7): every save of a village's cover is a version
-- row holding the whole cover before and after, so that history reads without
-- replaying the audit log and any version can be restored.
CREATE TABLE grid_cover_versions (
  village_id  int NOT NULL REFERENCES admin_units(id),
  version     int NOT NULL CHECK (version > 0),
  at          timestamptz NOT NULL DEFAULT now(),
  actor       text NOT NULL,
  actor_id    int,
  actor_role  text,
  operation   jsonb NOT NULL,     -- what the user asked for ({op: 'reshape', grid: …} or {op: 'restore', version: n})
  summary     jsonb NOT NULL,     -- grids added / changed / removed, households moved
  before      jsonb NOT NULL,     -- [{code, name, kind, parent, geom (GeoJSON)}], basic and micro grids
  after       jsonb NOT NULL,
  PRIMARY KEY (village_id, version)
);

-- Size guidance shown in the preview (households a grid / micro-grid).
-- A table, not constants, so a county can change it without a release.
CREATE TABLE grid_size_guidance (
  kind  text PRIMARY KEY CHECK (kind IN ('basic', 'micro')),
  min   int NOT NULL CHECK (min >= 0),
  max   int NOT NULL,
  CHECK (max >= min)
);
INSERT INTO grid_size_guidance VALUES ('basic', 60, 100), ('micro', 10, 30);

-- Makes `pieces` ({key, geom (GeoJSON), fixed}) cover `outline` with no gap and
-- no overlap: every piece is clipped to the outline, fixed pieces (the edited
-- or added grid) win over the others, and each part of the outline left
-- uncovered goes to the piece sharing the longest edge with it, non-fixed
-- pieces first ("the gap goes to the neighbour that shared that edge").
-- All overlays run with a fixed precision grid (`grid`, degrees): OverlayNG
-- snap-rounding is robust on near-coincident edges, where the floating
-- overlay has failed (and PGlite's PostGIS stalled).
CREATE FUNCTION gw_settle_cover(outline geometry, pieces jsonb, grid float8 DEFAULT 1e-9, min_part float8 DEFAULT 1e-10)
RETURNS TABLE (key text, geom geometry)
-- PostGIS functions carry high costs, so the planner JIT-compiles these small
-- queries: ~50 ms each, ten times the work itself.
LANGUAGE plpgsql SET jit = off AS $fn$
DECLARE
  o geometry := ST_ReducePrecision(outline, grid);
BEGIN
  CREATE TEMP TABLE IF NOT EXISTS gw_pieces (key text, geom geometry, fixed boolean) ON COMMIT DROP;
  CREATE TEMP TABLE IF NOT EXISTS gw_gaps (gid int, geom geometry, owner text) ON COMMIT DROP;
  DELETE FROM gw_pieces;
  DELETE FROM gw_gaps;
  INSERT INTO gw_pieces
  SELECT p ->> 'key',
         ST_CollectionExtract(ST_Intersection(ST_MakeValid(ST_SetSRID(ST_GeomFromGeoJSON(p ->> 'geom'), 4326)), o, grid), 3),
         coalesce((p ->> 'fixed')::boolean, false)
  FROM jsonb_array_elements(pieces) p;

  -- Fixed pieces win: the others lose what a fixed piece now covers. Among
  -- fixed pieces the earlier one wins (the caller never sends overlapping ones).
  UPDATE gw_pieces n SET geom = ST_CollectionExtract(ST_Difference(n.geom, w.u, grid), 3)
  FROM (SELECT ST_Union(f.geom, grid) AS u FROM gw_pieces f WHERE f.fixed) w
  WHERE NOT n.fixed AND w.u IS NOT NULL AND ST_Intersects(n.geom, w.u);

  -- Clipping along a nearly shared edge leaves needle-thin parts cut off
  -- from the rest of a neighbour; drop parts under min_part (degrees², about
  -- 1 m²) so that they are filled below like any gap, by whoever borders them.
  UPDATE gw_pieces n SET geom = coalesce(
    (SELECT ST_Collect(d.geom) FROM ST_Dump(n.geom) d WHERE ST_Area(d.geom) >= min_part), 'POLYGON EMPTY'::geometry)
  WHERE NOT n.fixed AND ST_NumGeometries(n.geom) > 1;

  -- What nobody covers, one row per connected part.
  INSERT INTO gw_gaps (gid, geom)
  SELECT row_number() OVER (), d.geom
  FROM (SELECT ST_Difference(o, coalesce(ST_Union(p.geom, grid), 'GEOMETRYCOLLECTION EMPTY'::geometry), grid) AS g
        FROM gw_pieces p WHERE NOT ST_IsEmpty(p.geom)) u,
       ST_Dump(ST_CollectionExtract(u.g, 3)) d
  WHERE ST_Area(d.geom) > 0;

  UPDATE gw_gaps x SET owner = (
    SELECT p.key FROM gw_pieces p
    WHERE NOT ST_IsEmpty(p.geom)
    ORDER BY (ST_Length(ST_Intersection(ST_Boundary(x.geom), p.geom, grid)) > 0) DESC,
             p.fixed,
             ST_Length(ST_Intersection(ST_Boundary(x.geom), p.geom, grid)) DESC,
             ST_Distance(x.geom, p.geom), p.key
    LIMIT 1);

  RETURN QUERY
  SELECT p.key, ST_Multi(ST_CollectionExtract(
           CASE WHEN g.u IS NULL THEN p.geom ELSE ST_Union(p.geom, g.u, grid) END, 3))
  FROM gw_pieces p
  LEFT JOIN (SELECT x.owner, ST_Union(x.geom, grid) AS u FROM gw_gaps x GROUP BY x.owner) g ON g.owner = p.key
  WHERE NOT ST_IsEmpty(p.geom) OR g.u IS NOT NULL
  ORDER BY p.key;
END $fn$;

-- Tile invalidation for grid geometry: a statement that adds, moves or
-- removes grids tells the tile caches the old and new boxes (grid and
-- micro-grid polygons, grid label points, rain polygons), as the household
-- triggers of 002 do for counts.
CREATE FUNCTION grids_after_geometry_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  src text;
  changes jsonb;
BEGIN
  IF current_setting('gridwatch.skip_rollups', true) = 'on' THEN RETURN NULL; END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN src := 'SELECT kind, geom, label_point FROM new_rows'; END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN src := concat_ws(' UNION ALL ', src, 'SELECT kind, geom, label_point FROM old_rows'); END IF;
  EXECUTE format($q$
    WITH d AS (%s)
    SELECT coalesce(jsonb_agg(c), '[]'::jsonb) FROM (
      SELECT jsonb_build_array(CASE kind WHEN 'basic' THEN 'grid' ELSE 'micro' END,
                               ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)) AS c
      FROM (SELECT kind, ST_Extent(geom)::box2d AS e FROM d GROUP BY kind) k
      UNION ALL
      SELECT jsonb_build_array(k, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e))
      FROM (SELECT ST_Extent(label_point)::box2d AS e FROM d WHERE kind = 'basic') l, unnest(ARRAY['label_grid']) k
      WHERE e IS NOT NULL
      UNION ALL
      SELECT jsonb_build_array('rain', ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e))
      FROM (SELECT ST_Extent(geom)::box2d AS e FROM d WHERE kind = 'basic') r
      WHERE e IS NOT NULL
    ) s $q$, src) INTO changes;
  PERFORM notify_tile_changes(changes);
  RETURN NULL;
END $fn$;

CREATE TRIGGER grids_tiles_insert AFTER INSERT ON grids
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION grids_after_geometry_change();
CREATE TRIGGER grids_tiles_update AFTER UPDATE ON grids
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION grids_after_geometry_change();
CREATE TRIGGER grids_tiles_delete AFTER DELETE ON grids
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION grids_after_geometry_change();
