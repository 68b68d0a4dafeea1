-- Splits a polygon into n pieces that cover it with no gap and no overlap:
-- Voronoi cells of n seeded points, relaxed by Lloyd steps for even sizes,
-- clipped to the parent. Every cell keeps its own generator point, which lies
-- inside the parent, so no piece is empty. Deterministic for a given seed.
CREATE FUNCTION gw_subdivide(parent geometry, n int, seed int, relax int DEFAULT 1, seeds geometry DEFAULT NULL)
RETURNS TABLE (geom geometry, label_point geometry)
LANGUAGE plpgsql AS $fn$
DECLARE
  pts geometry := seeds;
  frame geometry := ST_Expand(ST_Envelope(parent), 0.05);
BEGIN
  IF pts IS NULL AND n <= 1 THEN
    RETURN QUERY SELECT ST_Multi(parent), ST_PointOnSurface(parent);
    RETURN;
  END IF;
  IF pts IS NULL THEN pts := ST_GeneratePoints(parent, n, seed); END IF;
  IF ST_NumGeometries(pts) <= 1 THEN
    RETURN QUERY SELECT ST_Multi(parent), ST_PointOnSurface(parent);
    RETURN;
  END IF;
  FOR i IN 1..relax LOOP
    SELECT ST_Collect(CASE WHEN ST_Intersects(ST_Centroid(c), c) THEN ST_Centroid(c) ELSE ST_PointOnSurface(c) END)
      INTO pts
      FROM (SELECT ST_Intersection(d.geom, parent) AS c
              FROM ST_Dump(ST_VoronoiPolygons(pts, 0, frame)) d) x
     WHERE NOT ST_IsEmpty(c);
  END LOOP;
  RETURN QUERY
    SELECT ST_Multi(c), CASE WHEN ST_Intersects(ST_Centroid(c), c) THEN ST_Centroid(c) ELSE ST_PointOnSurface(c) END
      FROM (SELECT ST_CollectionExtract(ST_Intersection(d.geom, parent), 3) AS c
              FROM ST_Dump(ST_VoronoiPolygons(pts, 0, frame)) d) x
     WHERE NOT ST_IsEmpty(c);
END $fn$;
