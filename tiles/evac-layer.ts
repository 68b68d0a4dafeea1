import type { TileLayer } from './layer-types.ts'

/**
 * Open transfers on the map (kind 'evac': every status change notifies the
 * extent of its households, their shelters and routes): households by status,
 * shelters filling against capacity, routes by the households using them.
 */
export const evacLayer: TileLayer = {
  name: 'evac',
  minzoom: 8,
  maxzoom: 16,
  layers: [
    {
      name: 'evac_households',
      geometry: 'point',
      description: '转移中的住户（按状态）/ households in an open transfer, by status',
      fields: { id: 'Number', order_id: 'Number', status: 'String', members: 'Number', vulnerable: 'Number', people: 'Number', sheltered: 'Boolean' },
      bands: [{
        minzoom: 12, maxzoom: 16, kind: 'evac',
        columns: `h.id AS fid, h.id, e.order_id, e.status, e.members, e.vulnerable, coalesce(e.people, 0) AS people,
                  e.shelter_id IS NOT NULL AS sheltered`,
        geom: 'h.geom_3857',
        from: 'evac_households e JOIN households h ON h.id = e.household_id',
        where: 'e.open',
      }],
    },
    {
      name: 'evac_shelters',
      geometry: 'point',
      description: '避险点容量（已分配 / 已到达）/ shelters: places assigned and people present against capacity',
      fields: { id: 'Number', name: 'String', capacity: 'Number', assigned: 'Number', present: 'Number', fill: 'Number' },
      bands: [{
        minzoom: 8, maxzoom: 16, kind: 'evac',
        columns: `s.id AS fid, s.id, s.name, s.capacity, x.assigned, x.present,
                  round(x.present::numeric / s.capacity, 3)::float8 AS fill`,
        geom: 's.geom_3857',
        from: `shelters s JOIN (SELECT shelter_id, sum(members)::int AS assigned,
                                       coalesce(sum(people) FILTER (WHERE status = 'at_shelter'), 0)::int AS present
                                FROM evac_households WHERE open AND shelter_id IS NOT NULL GROUP BY shelter_id) x ON x.shelter_id = s.id`,
      }],
    },
    {
      name: 'evac_routes',
      geometry: 'line',
      description: '使用中的转移路线（户数、正在转移）/ routes in use: households sent along them, and those moving now',
      fields: { id: 'Number', households: 'Number', moving: 'Number', arrived: 'Number' },
      bands: [{
        minzoom: 10, maxzoom: 16, kind: 'evac',
        columns: 'r.id AS fid, r.id, x.households, x.moving, x.arrived',
        geom: 'r.geom_3857',
        from: `routes r JOIN (SELECT route_id, count(*)::int AS households, (count(*) FILTER (WHERE status = 'moving'))::int AS moving,
                                     (count(*) FILTER (WHERE status = 'at_shelter'))::int AS arrived
                              FROM evac_households WHERE open AND route_id IS NOT NULL GROUP BY route_id) x ON x.route_id = r.id`,
      }],
    },
  ],
}
