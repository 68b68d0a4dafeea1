import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Sql } from '../../db/connect.ts'
import { transaction } from '../../db/transaction.ts'
import { allocate } from '../../data/seed/allocate.ts'
import { cityTotals, scales } from '../../data/seed/scales.ts'
import { client, targets } from '../helpers/targets.ts'

// Relative area error allowed between a parent and the union of its children:
// floating-point noise of the overlay, far below one square metre per grid.
const TOL = 1e-7

for (const target of targets()) {
  describe(`seeded data on ${target.name}`, () => {
    let sql: Sql
    beforeAll(() => {
      sql = client(target.url)
    })
    afterAll(() => sql.end())

    it('has the 11 real counties under the city, converted to WGS84', async () => {
      const rows = await sql`SELECT code, name, ST_X(label_point) AS lon, ST_Y(label_point) AS lat
                             FROM admin_units WHERE level = 'county' ORDER BY code`
      expect(rows.map((r) => r.code.slice(0, 6))).toEqual(
        ['530602', '530621', '530622', '530623', '530624', '530625', '530626', '530627', '530628', '530629', '530681'])
      for (const r of rows) {
        expect(r.lon).toBeGreaterThan(102.9)
        expect(r.lon).toBeLessThan(105.4)
        expect(r.lat).toBeGreaterThan(26.5)
        expect(r.lat).toBeLessThan(28.7)
      }
      // GCJ-02 → WGS84 moves Zhaotong a few hundred metres west-south-west; outlines sit there, not on the raw file.
      const [shift] = await sql`SELECT ST_Distance(ST_Centroid(geom)::geography, ST_SetSRID(ST_Point(103.610527, 27.424072), 4326)::geography) AS m
                                FROM admin_units WHERE code = '530602000000'`
      expect(shift.m).toBeGreaterThan(100)
      expect(shift.m).toBeLessThan(1000)
    })

    it('has every geometry valid', async () => {
      const [r] = await sql`SELECT (SELECT count(*) FROM admin_units WHERE NOT ST_IsValid(geom))::int AS a,
                                   (SELECT count(*) FROM grids WHERE NOT ST_IsValid(geom) OR ST_IsEmpty(geom))::int AS g`
      expect(r).toEqual({ a: 0, g: 0 })
    })

    it('has the counts the allocation asks for', async () => {
      const scale = scales.test
      const areas = await sql`SELECT substr(code, 1, 6) AS code, ST_Area(geom::geography) AS a FROM admin_units
                              WHERE level = 'county' ORDER BY code`
      const idx = areas.findIndex((a) => a.code === scale.counties![0])
      const want = (total: number, min = 1) => Math.max(min, Math.round(allocate(total, areas.map((a) => a.a), 1)[idx] * scale.density))
      const [n] = await sql`
        SELECT (SELECT count(*) FROM admin_units WHERE level = 'township')::int AS townships,
               (SELECT count(*) FROM admin_units WHERE level = 'village')::int AS villages,
               (SELECT count(*) FROM grids WHERE kind = 'basic')::int AS grids,
               (SELECT count(*) FROM grids WHERE kind = 'micro')::int AS micro,
               (SELECT count(*) FROM households)::int AS households,
               (SELECT count(*) FROM hazard_sites)::int AS hazards`
      expect(n.townships).toBe(want(cityTotals.townships, scale.minTownships))
      expect(n.villages).toBe(want(cityTotals.villages))
      expect(n.grids).toBe(want(cityTotals.grids))
      expect(n.micro).toBe(want(cityTotals.microGrids))
      expect(n.hazards).toBe(want(cityTotals.hazardSites))
      expect(Math.abs(n.households - want(cityTotals.households))).toBeLessThan(want(cityTotals.households) * 0.01)
    })

    // Each level covers its parent with no gap and no overlap. Children's
    // areas add up to the parent's (a), every child lies inside the parent
    // give or take 0.1 mm (b), and the union of the children has the parent's
    // area too (c: nothing overlaps). With (a)–(c) a gap would show as a shortfall.
    // Planar areas in degrees: only ratios matter. (ST_SymDifference or
    // ST_Intersection would say it directly, but PGlite's PostGIS returns no
    // row at all for them on these inputs, and its socket then stalls.)
    const covers = [
      ['townships cover their county', `admin_units p JOIN admin_units c ON c.parent_id = p.id WHERE p.level = 'county'`],
      ['villages cover their township', `admin_units p JOIN admin_units c ON c.parent_id = p.id WHERE p.level = 'township'`],
      ['grids cover their village', `admin_units p JOIN grids c ON c.village_id = p.id AND c.kind = 'basic'`],
      ['micro-grids cover their grid', `grids p JOIN grids c ON c.parent_id = p.id`],
    ] as const
    for (const [title, pairs] of covers) {
      it(title, async () => {
        const rows = await sql.unsafe(`
          WITH per_parent AS (
            SELECT p.id, ST_Area(p.geom) AS parent_area, sum(ST_Area(c.geom)) AS child_sum,
                   ST_Area(ST_Union(c.geom)) AS union_area,
                   count(*) FILTER (WHERE NOT ST_CoveredBy(c.geom, ST_Buffer(p.geom, 1e-9))) AS outside
            FROM ${pairs} GROUP BY p.id, p.geom)
          SELECT count(*)::int AS parents,
                 max(abs(child_sum - parent_area) / parent_area) AS worst_sum,
                 sum(outside)::int AS outside,
                 max(abs(union_area - parent_area) / parent_area) AS worst_union
          FROM per_parent`)
        expect(rows).toHaveLength(1)
        expect(rows[0].parents).toBeGreaterThan(0)
        expect(rows[0].worst_sum).toBeLessThan(TOL)
        expect(rows[0].outside).toBe(0)
        expect(rows[0].worst_union).toBeLessThan(TOL)
      })
    }

    it('puts every household in exactly one grid and one micro-grid of that grid, inside both', async () => {
      const [r] = await sql`
        SELECT count(*)::int AS n,
               count(*) FILTER (WHERE h.micro_grid_id IS NULL OR m.parent_id <> h.grid_id)::int AS wrong_micro,
               count(*) FILTER (WHERE NOT ST_DWithin(g.geom, h.geom, 1e-9))::int AS outside_grid,
               count(*) FILTER (WHERE NOT ST_DWithin(m.geom, h.geom, 1e-9))::int AS outside_micro,
               count(*) FILTER (WHERE (SELECT count(*) FROM grids o WHERE o.kind = 'basic' AND ST_Contains(o.geom, h.geom)) > 1)::int AS in_two
        FROM households h JOIN grids g ON g.id = h.grid_id LEFT JOIN grids m ON m.id = h.micro_grid_id`
      expect(r.n).toBeGreaterThan(1000)
      expect(r).toMatchObject({ wrong_micro: 0, outside_grid: 0, outside_micro: 0, in_two: 0 })
    })

    it('keeps plausible households: sizes, colours, vulnerable people, codes', async () => {
      const [r] = await sql`
        SELECT avg(members)::float8 AS avg_members, avg((risk_level = 'red')::int)::float8 AS red,
               avg((risk_level = 'yellow')::int)::float8 AS yellow, avg((vulnerable > 0)::int)::float8 AS vulnerable,
               count(*) FILTER (WHERE h.code !~ '^[0-9]{19}$')::int AS bad_codes,
               count(*) FILTER (WHERE substr(h.code, 1, 15) <> g.code)::int AS code_not_in_grid,
               count(*) FILTER (WHERE cadre_id IS NULL)::int AS no_cadre
        FROM households h JOIN grids g ON g.id = h.grid_id`
      expect(r.avg_members).toBeGreaterThan(2.8)
      expect(r.avg_members).toBeLessThan(3.7)
      expect(r.red).toBeGreaterThan(0.005)
      expect(r.red).toBeLessThan(0.1)
      expect(r.yellow).toBeGreaterThan(r.red)
      expect(r.yellow).toBeLessThan(0.3)
      expect(r.vulnerable).toBeGreaterThan(0.02)
      expect(r).toMatchObject({ bad_codes: 0, code_not_in_grid: 0, no_cadre: 0 })
    })

    it('links hazard sites to the households they threaten, with a route to a shelter', async () => {
      const [r] = await sql`
        SELECT count(*)::int AS sites,
               count(*) FILTER (WHERE s.threatened_households <> (SELECT count(*) FROM hazard_threats t WHERE t.hazard_id = s.id))::int AS bad_counts,
               count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM routes r WHERE r.hazard_id = s.id))::int AS no_route,
               count(*) FILTER (WHERE s.monitor_id IS NULL)::int AS no_monitor,
               (SELECT count(*) FROM hazard_threats t JOIN households h ON h.id = t.household_id WHERE NOT h.flood_exposed)::int AS unflagged
        FROM hazard_sites s`
      expect(r.sites).toBeGreaterThan(0)
      expect(r).toMatchObject({ bad_counts: 0, no_route: 0, no_monitor: 0, unflagged: 0 })
      const [cap] = await sql`SELECT min(capacity) AS min FROM shelters`
      expect(cap.min).toBeGreaterThan(0)
    })

    it('keeps roll-ups equal to direct counts, and current after a change', async () => {
      const check = async (sql: Sql) => {
        const bad = await sql`
          WITH direct AS (
            SELECT a.village_id AS id, count(*) AS hh, count(*) FILTER (WHERE h.risk_level = 'red') AS red, sum(h.members) AS people
            FROM households h JOIN grid_ancestry a ON a.grid_id = h.grid_id GROUP BY 1)
          SELECT d.id FROM direct d JOIN household_rollups r ON r.level = 'village' AND r.unit_id = d.id
          WHERE r.households <> d.hh OR r.red <> d.red OR r.people <> d.people`
        expect(bad).toHaveLength(0)
        const [city] = await sql`SELECT r.households, (SELECT count(*)::int FROM households) AS direct
                                 FROM household_rollups r JOIN admin_units a ON a.id = r.unit_id AND a.level = 'city' WHERE r.level = 'city'`
        expect(city.households).toBe(city.direct)
      }
      await check(sql)
      await transaction(sql, async (tx) => {
        await tx`UPDATE households SET risk_level = 'red', members = members + 1 WHERE id IN (SELECT id FROM households ORDER BY id LIMIT 50)`
        await tx`DELETE FROM hazard_threats WHERE household_id = (SELECT max(id) FROM households)`
        await tx`DELETE FROM visits WHERE household_id = (SELECT max(id) FROM households)`
        await tx`DELETE FROM households WHERE id = (SELECT max(id) FROM households)`
        await check(tx as unknown as Sql)
        throw new Error('rollback')
      }).catch((e) => {
        if (e.message !== 'rollback') throw e
      })
      await check(sql)
    })
  })
}
