import type { Tx } from '../../db/write.ts'

/**
 * Tiles showing these households of the order (all of them when none are
 * named), their shelters and routes are stale now; the tile cache drops them
 * (kind 'evac').
 */
export async function notifyEvacTiles(tx: Tx, orderId: number, householdIds?: number[]) {
  if (!householdIds) {
    // The whole order: its unit, widened by the reach to shelters outside it (api/evac/orders.ts SHELTER_REACH_M < 0.1°).
    await tx`
      SELECT pg_notify('gridwatch_tiles', json_build_array(json_build_array('evac', ST_XMin(x), ST_YMin(x), ST_XMax(x), ST_YMax(x)))::text)
      FROM (SELECT ST_Expand(ST_Envelope(a.geom), 0.1) AS x FROM evac_orders o JOIN admin_units a ON a.code = o.unit_code WHERE o.id = ${orderId}) y`
    return
  }
  const which = tx`AND e.household_id = ANY(${householdIds}::int[])`
  await tx`
    SELECT pg_notify('gridwatch_tiles', json_build_array(json_build_array('evac', ST_XMin(x), ST_YMin(x), ST_XMax(x), ST_YMax(x)))::text)
    FROM (SELECT ST_Extent(g) AS x FROM (
            SELECT h.geom AS g FROM evac_households e JOIN households h ON h.id = e.household_id WHERE e.order_id = ${orderId} ${which}
            UNION ALL
            SELECT s.geom FROM shelters s WHERE s.id IN (SELECT e.shelter_id FROM evac_households e WHERE e.order_id = ${orderId} ${which})
            UNION ALL
            SELECT r.geom FROM routes r WHERE r.id IN (SELECT e.route_id FROM evac_households e WHERE e.order_id = ${orderId} ${which})
          ) y) z WHERE x IS NOT NULL`
}
