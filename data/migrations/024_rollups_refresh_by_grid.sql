-- refresh_household_rollups as in 002, counting households once (issue #21).
-- 002 expanded every household into six rows (its grid, micro-grid, village,
-- township, county, city), joined the four-table ancestry view for each of
-- four of them, grouped the 10.8 M rows of the full city in one hash table
-- (which spilled to disk), then offered every unit again for the units with
-- no household, each an ON CONFLICT probe: 16 s at the end of the seed, with
-- nothing else running. Here the households are counted per (grid,
-- micro-grid) once, the ancestry joined once to those ≈150,000 sums, each
-- level grouped on its own, and each unit written once: its sums, or zeros.
-- Same rows as 002 (checked on the demo county and the full city: no row
-- different either way).
CREATE OR REPLACE FUNCTION refresh_household_rollups() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  DELETE FROM household_rollups;
  WITH d AS (
    SELECT grid_id, micro_grid_id, count(*) AS households,
           count(*) FILTER (WHERE risk_level = 'red') AS red,
           count(*) FILTER (WHERE risk_level = 'yellow') AS yellow,
           count(*) FILTER (WHERE risk_level = 'green') AS green,
           sum(members) AS people, sum(vulnerable) AS vulnerable,
           count(*) FILTER (WHERE flood_exposed) AS exposed
    FROM households GROUP BY grid_id, micro_grid_id
  ), a AS (
    SELECT d.*, g.village_id, g.township_id, g.county_id, g.city_id
    FROM d JOIN grid_ancestry g ON g.grid_id = d.grid_id
  ), s AS (
    SELECT 'grid'::text AS level, grid_id AS unit_id, sum(households) AS households, sum(red) AS red, sum(yellow) AS yellow,
           sum(green) AS green, sum(people) AS people, sum(vulnerable) AS vulnerable, sum(exposed) AS exposed
    FROM d GROUP BY grid_id
    UNION ALL
    SELECT 'micro', micro_grid_id, sum(households), sum(red), sum(yellow), sum(green), sum(people), sum(vulnerable), sum(exposed)
    FROM d WHERE micro_grid_id IS NOT NULL GROUP BY micro_grid_id
    UNION ALL
    SELECT 'village', village_id, sum(households), sum(red), sum(yellow), sum(green), sum(people), sum(vulnerable), sum(exposed)
    FROM a GROUP BY village_id
    UNION ALL
    SELECT 'township', township_id, sum(households), sum(red), sum(yellow), sum(green), sum(people), sum(vulnerable), sum(exposed)
    FROM a GROUP BY township_id
    UNION ALL
    SELECT 'county', county_id, sum(households), sum(red), sum(yellow), sum(green), sum(people), sum(vulnerable), sum(exposed)
    FROM a GROUP BY county_id
    UNION ALL
    SELECT 'city', city_id, sum(households), sum(red), sum(yellow), sum(green), sum(people), sum(vulnerable), sum(exposed)
    FROM a GROUP BY city_id
  ), units AS (
    -- Units with no household still get a row, so that every grid has a colour.
    SELECT CASE WHEN kind = 'basic' THEN 'grid' ELSE 'micro' END AS level, id AS unit_id FROM grids
    UNION ALL SELECT level, id FROM admin_units
  )
  INSERT INTO household_rollups (level, unit_id, households, red, yellow, green, people, vulnerable, exposed)
  SELECT coalesce(s.level, units.level), coalesce(s.unit_id, units.unit_id),
         coalesce(s.households, 0), coalesce(s.red, 0), coalesce(s.yellow, 0), coalesce(s.green, 0),
         coalesce(s.people, 0), coalesce(s.vulnerable, 0), coalesce(s.exposed, 0)
  FROM s FULL JOIN units ON units.level = s.level AND units.unit_id = s.unit_id
  ORDER BY 1, 2;
END $fn$;
