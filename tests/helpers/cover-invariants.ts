import { expect } from 'vitest'
import type { Sql } from '../../db/connect.ts'

// How far (degrees, ~0.2 mm) a child may stand out of its parent: each fixed-precision overlay
// (1e-9° grid, gw_settle_cover) moves a vertex by up to 0.7e-9°, and a grid and its micro-grids are
// settled one after the other (an import of a whole village measured 1.03e-9°).
const EDGE = 2e-9

// Relative area error allowed between a parent and the union of its children (as in seed-invariants).
const TOL = 1e-7

/**
 * The invariants of tests/db/seed-invariants.test.ts, for one village: its
 * grids cover it with no gap and no overlap, each grid's micro-grids cover
 * the grid, every household is in exactly one grid and one micro-grid of
 * that grid (inside both), and the roll-ups equal direct counts. Without
 * ST_Intersection/ST_SymDifference, which PGlite's PostGIS fails on such
 * inputs: areas add up, every child is inside, the union has the parent's area.
 */
export async function expectInvariants(sql: Sql, villageId: number) {
  const covers = await sql`
    WITH pairs AS (
      SELECT 'village' AS level, v.id, v.geom AS parent, g.geom AS child FROM admin_units v JOIN grids g ON g.village_id = v.id AND g.kind = 'basic' WHERE v.id = ${villageId}
      UNION ALL
      SELECT 'grid', p.id, p.geom, c.geom FROM grids p JOIN grids c ON c.parent_id = p.id WHERE p.village_id = ${villageId}),
    per AS (
      SELECT level, id, ST_Area(min(parent::text)::geometry) AS parent_area, sum(ST_Area(child)) AS child_sum, ST_Area(ST_Union(child)) AS union_area,
             count(*) FILTER (WHERE NOT ST_CoveredBy(child, ST_Buffer(parent, ${EDGE}))) AS outside,
             max(ST_HausdorffDistance(child, ST_Intersection(child, parent))) FILTER (WHERE NOT ST_CoveredBy(child, ST_Buffer(parent, ${EDGE}))) AS outside_by,
             count(*) FILTER (WHERE NOT ST_IsValid(child)) AS invalid
      FROM pairs GROUP BY level, id)
    SELECT level, count(*)::int AS parents, max(abs(child_sum - parent_area) / parent_area) AS worst_sum,
           max(abs(union_area - parent_area) / parent_area) AS worst_union, sum(outside)::int AS outside, sum(invalid)::int AS invalid, max(outside_by) AS outside_by
    FROM per GROUP BY level ORDER BY level`
  expect(covers.map((r) => r.level)).toEqual(['grid', 'village'])
  for (const r of covers) {
    expect(r.worst_sum, r.level).toBeLessThan(TOL)
    expect(r.worst_union, r.level).toBeLessThan(TOL)
    expect({ outside: r.outside, invalid: r.invalid }, `${r.level}: a child sticks out of its parent by ${r.outside_by}°`).toEqual({ outside: 0, invalid: 0 })
  }
  // Every grid has micro-grids.
  const [bare] = await sql`SELECT count(*)::int AS n FROM grids g WHERE g.village_id = ${villageId} AND g.kind = 'basic'
                           AND NOT EXISTS (SELECT 1 FROM grids m WHERE m.parent_id = g.id)`
  expect(bare.n).toBe(0)
  const [h] = await sql`
    SELECT count(*)::int AS n,
           count(*) FILTER (WHERE h.micro_grid_id IS NULL OR m.parent_id <> h.grid_id)::int AS wrong_micro,
           count(*) FILTER (WHERE NOT ST_DWithin(g.geom, h.geom, 1e-9))::int AS outside_grid,
           count(*) FILTER (WHERE NOT ST_DWithin(m.geom, h.geom, 1e-9))::int AS outside_micro,
           count(*) FILTER (WHERE (SELECT count(*) FROM grids o WHERE o.kind = 'basic' AND ST_Contains(o.geom, h.geom)) > 1)::int AS in_two
    FROM households h JOIN grids g ON g.id = h.grid_id LEFT JOIN grids m ON m.id = h.micro_grid_id
    WHERE g.village_id = ${villageId}`
  expect(h.n).toBeGreaterThan(0)
  expect(h).toMatchObject({ wrong_micro: 0, outside_grid: 0, outside_micro: 0, in_two: 0 })
  const bad = await sql`
    WITH direct AS (
      SELECT 'grid' AS level, g.id, count(h.id)::int AS n, count(h.id) FILTER (WHERE h.risk_level = 'red')::int AS red
      FROM grids g LEFT JOIN households h ON h.grid_id = g.id WHERE g.village_id = ${villageId} AND g.kind = 'basic' GROUP BY g.id
      UNION ALL
      SELECT 'micro', g.id, count(h.id)::int, count(h.id) FILTER (WHERE h.risk_level = 'red')::int
      FROM grids g LEFT JOIN households h ON h.micro_grid_id = g.id WHERE g.village_id = ${villageId} AND g.kind = 'micro' GROUP BY g.id
      UNION ALL
      SELECT 'village', ${villageId}, count(*)::int, count(*) FILTER (WHERE h.risk_level = 'red')::int
      FROM households h JOIN grids g ON g.id = h.grid_id WHERE g.village_id = ${villageId})
    SELECT d.level, d.id, d.n, r.households FROM direct d
    LEFT JOIN household_rollups r ON r.level = d.level AND r.unit_id = d.id
    WHERE r.households IS DISTINCT FROM d.n OR r.red IS DISTINCT FROM d.red`
  expect(bad).toEqual([])
  // No roll-up row is left for a grid that is gone.
  const [orphans] = await sql`SELECT count(*)::int AS n FROM household_rollups r WHERE r.level IN ('grid', 'micro')
                              AND NOT EXISTS (SELECT 1 FROM grids g WHERE g.id = r.unit_id)`
  expect(orphans.n).toBe(0)
}
