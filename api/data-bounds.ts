import type { Sql } from '../db/connect.ts'

export type Bounds = [number, number, number, number]

/**
 * Where the data lies: the extent of the grids, hazard sites and shelters (the
 * households are inside the grids), for TileJSON `bounds` and the OGC
 * collections' extents. Not the admin outlines: every county's outline is
 * loaded, so a one-county demo would claim the whole city. Before any data,
 * the outlines; before those, the world.
 */
export async function dataBounds(sql: Sql): Promise<Bounds> {
  const [b] = await sql<{ w: number | null; s: number; e: number; n: number }[]>`
    SELECT ST_XMin(e) AS w, ST_YMin(e) AS s, ST_XMax(e) AS e, ST_YMax(e) AS n
    FROM (SELECT coalesce(
      (SELECT ST_Extent(geom) FROM (SELECT geom FROM grids WHERE kind = 'basic' UNION ALL SELECT geom FROM hazard_sites
                                    UNION ALL SELECT geom FROM shelters) d),
      (SELECT ST_Extent(geom) FROM admin_units)) AS e) x`
  return b.w == null ? [-180, -85, 180, 85] : [b.w, b.s, b.e, b.n]
}
