import type { Sql } from '../../db/connect.ts'

/** How many leading digits of a 12-digit code name a unit of each level. */
export const codePrefixLength = { city: 4, county: 6, township: 9, village: 12 } as const

/** An admin unit with its outline, the counts of what lies in it, and its children with their counts; undefined when unknown. */
export async function unitSummary(sql: Sql, code: string) {
  const [u] = await sql`
    SELECT a.id, a.code, a.name, a.level,
           CASE WHEN p.id IS NULL THEN NULL ELSE json_build_object('code', p.code, 'name', p.name, 'level', p.level) END AS parent,
           json_build_array(ST_XMin(a.geom), ST_YMin(a.geom), ST_XMax(a.geom), ST_YMax(a.geom)) AS bbox,
           json_build_array(ST_X(a.label_point), ST_Y(a.label_point)) AS center,
           ST_AsGeoJSON(ST_SimplifyPreserveTopology(a.geom, CASE a.level WHEN 'city' THEN 0.003 WHEN 'county' THEN 0.001
                                                          WHEN 'township' THEN 0.0003 ELSE 0.0001 END), 5)::json AS outline
    FROM admin_units a LEFT JOIN admin_units p ON p.id = a.parent_id
    WHERE a.code = ${code}`
  if (!u) return undefined
  const prefix = code.slice(0, codePrefixLength[u.level as keyof typeof codePrefixLength]) + '%'
  const [stats] = await sql`
    SELECT coalesce(r.households, 0) AS households, coalesce(r.red, 0) AS red, coalesce(r.yellow, 0) AS yellow,
           coalesce(r.green, 0) AS green, coalesce(r.people, 0) AS people, coalesce(r.vulnerable, 0) AS vulnerable,
           coalesce(r.exposed, 0) AS exposed,
           (SELECT count(*)::int FROM hazard_sites h WHERE h.admin_code LIKE ${prefix} AND h.status = 'active') AS "hazardSites",
           (SELECT coalesce(sum(h.threatened_people), 0)::int FROM hazard_sites h
             WHERE h.admin_code LIKE ${prefix} AND h.status = 'active') AS "threatenedPeople",
           (SELECT count(*)::int FROM shelters s JOIN admin_units v ON v.id = s.village_id WHERE v.code LIKE ${prefix}) AS shelters,
           (SELECT coalesce(sum(s.capacity), 0)::int FROM shelters s JOIN admin_units v ON v.id = s.village_id
             WHERE v.code LIKE ${prefix}) AS "shelterCapacity",
           (SELECT count(*)::int FROM grid_workers w JOIN admin_units v ON v.id = w.village_id WHERE v.code LIKE ${prefix}) AS "gridWorkers",
           (SELECT count(*)::int FROM grids g JOIN admin_units v ON v.id = g.village_id
             WHERE v.code LIKE ${prefix} AND g.kind = 'basic') AS grids
    FROM (SELECT 1) one LEFT JOIN household_rollups r ON r.level = ${u.level} AND r.unit_id = ${u.id}`
  const children = await sql`
    SELECT a.code, a.name, a.level, coalesce(r.households, 0) AS households, coalesce(r.red, 0) AS red,
           coalesce(r.yellow, 0) AS yellow, coalesce(r.green, 0) AS green, coalesce(r.people, 0) AS people
    FROM admin_units a LEFT JOIN household_rollups r ON r.level = a.level AND r.unit_id = a.id
    WHERE a.parent_id = ${u.id} ORDER BY a.code`
  const { id: _id, ...rest } = u
  return { ...rest, stats, children }
}
