import { evacLayer } from './evac-layer.ts'
import type { Band, MvtLayer, TileLayer } from './layer-types.ts'

const rollupCols = `coalesce(r.households, 0) AS households, coalesce(r.red, 0) AS red, coalesce(r.yellow, 0) AS yellow,
  coalesce(r.green, 0) AS green, coalesce(r.people, 0) AS people`

const adminBand = (levels: string[], minzoom: number, maxzoom: number, label: boolean): Band => ({
  minzoom,
  maxzoom,
  kind: label ? 'admin_label' : 'admin',
  columns: 'a.id AS fid, a.id, a.code, a.name, a.level',
  geom: label ? 'a.label_3857' : 'a.geom_3857',
  from: 'admin_units a',
  where: `a.level IN (${levels.map((l) => `'${l}'`).join(', ')})`,
})

const gridShares = `round(coalesce(r.red::numeric / nullif(r.households, 0), 0), 3)::float8 AS red_share,
          round(coalesce(r.yellow::numeric / nullif(r.households, 0), 0), 3)::float8 AS yellow_share`
const gridRollups = (kind: 'basic' | 'micro') => `grids g LEFT JOIN household_rollups r ON r.level = '${kind === 'basic' ? 'grid' : 'micro'}' AND r.unit_id = g.id`

// z10: the densest tile holds ~1,700 grid polygons; every column past what the map draws there (the
// 红黄绿 fill from the shares, the click by id, rain and progress by feature id) was 60% of its 215 KB.
// Names and counts come from z11, or from the grid's record on a click.
const gridOverviewBand: Band = {
  minzoom: 10,
  maxzoom: 10,
  kind: 'grid',
  columns: `g.id AS fid, g.id, ${gridShares}`,
  geom: 'g.geom_3857',
  from: gridRollups('basic'),
  where: `g.kind = 'basic'`,
}

const gridBand = (kind: 'basic' | 'micro', minzoom: number): Band => ({
  minzoom,
  maxzoom: 16,
  kind: kind === 'basic' ? 'grid' : 'micro',
  columns: `g.id AS fid, g.id, g.code, g.name, g.kind, ${rollupCols},
          coalesce(r.vulnerable, 0) AS vulnerable, ${gridShares}`,
  geom: 'g.geom_3857',
  from: gridRollups(kind),
  where: `g.kind = '${kind}'`,
})

// Low zooms show one point per unit with its counts by colour: the roll-ups
// table is kept current by triggers, so no tile aggregates households itself.
const householdAggBand = (level: 'township' | 'village' | 'grid', minzoom: number, maxzoom: number): Band => ({
  minzoom,
  maxzoom,
  kind: `label_${level}`,
  ...(level === 'grid'
    ? {
        columns: `g.id AS fid, 'grid' AS agg, g.id, g.code, g.name, ${rollupCols}`,
        geom: 'g.label_3857',
        from: `grids g JOIN household_rollups r ON r.level = 'grid' AND r.unit_id = g.id`,
        where: `g.kind = 'basic' AND r.households > 0`,
      }
    : {
        columns: `a.id AS fid, '${level}' AS agg, a.id, a.code, a.name, ${rollupCols}`,
        geom: 'a.label_3857',
        from: `admin_units a JOIN household_rollups r ON r.level = '${level}' AND r.unit_id = a.id`,
        where: `a.level = '${level}' AND r.households > 0`,
      }),
})

// Hazard sites below z10: per county / township, active sites by danger level
// (hazard_rollups, kept current by triggers), at the unit's label point, the
// highest danger level present as its danger_level; and each active site as a
// bare point (id, danger level, status: ~30 bytes, not ~85): the map draws the
// larger ones and, from /api/rain/state, a halo on any site past its critical
// rainfall by feature state, which needs the site's feature. An aggregate's
// feature id is its 12-digit admin code, so that it never takes a site's state.
const hazardAggBand = (level: 'county' | 'township', minzoom: number, maxzoom: number): Band => ({
  minzoom,
  maxzoom,
  kind: 'hazard',
  columns: `s.fid, s.agg, s.id, s.code, s.name, s.danger_level, s.status, s.sites, s.extra_large, s.large, s.medium, s.small,
          s.threatened_households, s.threatened_people`,
  geom: 's.geom',
  from: `(SELECT h.id::bigint AS fid, '' AS agg, h.id, NULL::text AS code, NULL::text AS name, h.danger_level, h.status,
                 NULL::int AS sites, NULL::int AS extra_large, NULL::int AS large, NULL::int AS medium, NULL::int AS small,
                 NULL::int AS threatened_households, NULL::int AS threatened_people, h.geom_3857 AS geom
          FROM hazard_sites h WHERE h.status = 'active'
          UNION ALL
          SELECT a.code::bigint, '${level}', a.id, a.code, a.name,
                 hazard_top_danger(r.extra_large, r.large, r.medium), NULL,
                 r.sites, r.extra_large, r.large, r.medium, r.small, r.threatened_households, r.threatened_people, a.label_3857
          FROM admin_units a JOIN hazard_rollups r ON r.level = '${level}' AND r.unit_id = a.id
          WHERE a.level = '${level}' AND r.sites > 0) s`,
})

const countFields = { households: 'Number', red: 'Number', yellow: 'Number', green: 'Number', people: 'Number' } as const

export const tileLayers: TileLayer[] = [
  {
    name: 'admin',
    minzoom: 0,
    maxzoom: 14,
    layers: [
      {
        name: 'admin',
        geometry: 'polygon',
        description: '行政区划边界 / administrative boundaries',
        fields: { id: 'Number', code: 'String', name: 'String', level: 'String' },
        bands: [
          adminBand(['city', 'county'], 0, 7, false),
          adminBand(['city', 'county', 'township'], 8, 9, false),
          adminBand(['city', 'county', 'township', 'village'], 10, 14, false),
        ],
      },
      {
        name: 'admin_label',
        geometry: 'point',
        description: '行政区划注记点 / label points',
        fields: { id: 'Number', code: 'String', name: 'String', level: 'String' },
        bands: [
          adminBand(['county'], 0, 7, true),
          adminBand(['county', 'township'], 8, 9, true),
          adminBand(['township', 'village'], 10, 14, true),
        ],
      },
    ],
  },
  {
    name: 'grids',
    // From z10: a z9 tile over a dense county holds ~6,000 grid polygons (600 KB);
    // below z10 the household layer's village aggregates carry the colours.
    minzoom: 10,
    maxzoom: 16,
    layers: [
      {
        name: 'grids',
        geometry: 'polygon',
        description: '基础网格及红黄绿户数（z10 仅编号与红/黄户占比）/ basic grids with household counts by colour (z10: id and red/yellow shares only)',
        fields: { id: 'Number', code: 'String', name: 'String', kind: 'String', ...countFields, vulnerable: 'Number', red_share: 'Number', yellow_share: 'Number' },
        bands: [gridOverviewBand, gridBand('basic', 11)],
      },
      {
        name: 'micro_grids',
        geometry: 'polygon',
        description: '微网格 / micro-grids',
        fields: { id: 'Number', code: 'String', name: 'String', kind: 'String', ...countFields, vulnerable: 'Number', red_share: 'Number', yellow_share: 'Number' },
        bands: [gridBand('micro', 13)],
      },
    ],
  },
  {
    name: 'households',
    minzoom: 5,
    maxzoom: 16,
    layers: [
      {
        name: 'households',
        geometry: 'point',
        description: '农户（z13 起逐户，低级别为乡/村/网格汇总点）/ households (one point each from z13; township/village/grid aggregates below)',
        fields: { id: 'Number', code: 'String', agg: 'String', name: 'String', risk: 'String', members: 'Number', vulnerable: 'Number', exposed: 'Number', ...countFields },
        bands: [
          householdAggBand('township', 5, 8),
          householdAggBand('village', 9, 10),
          householdAggBand('grid', 11, 12),
          {
            minzoom: 13,
            maxzoom: 16,
            kind: 'household',
            columns: `h.id AS fid, '' AS agg, h.id, h.code, h.risk_level AS risk, h.members::int AS members,
                    h.vulnerable::int AS vulnerable, h.flood_exposed::int AS exposed`,
            geom: 'h.geom_3857',
            from: 'households h',
          },
        ],
      },
    ],
  },
  {
    name: 'hazards',
    minzoom: 5,
    maxzoom: 16,
    layers: [
      {
        name: 'hazards',
        geometry: 'point',
        description: '地质灾害隐患点（z10 起逐点全属性；低级别为县/乡汇总点及各点的等级）/ geological hazard sites (every field from z10; county/township counts and each site\'s danger level below)',
        fields: {
          id: 'Number', code: 'String', name: 'String', type: 'String', scale: 'String', danger_level: 'String', threatened_households: 'Number',
          threatened_people: 'Number', status: 'String', agg: 'String', sites: 'Number', extra_large: 'Number', large: 'Number', medium: 'Number', small: 'Number',
        },
        bands: [
          hazardAggBand('county', 5, 7),
          hazardAggBand('township', 8, 9),
          {
            minzoom: 10,
            maxzoom: 16,
            kind: 'hazard',
            columns: `s.id AS fid, s.id, s.code, s.name, s.type, s.scale, s.danger_level, s.threatened_households,
                    s.threatened_people, s.status`,
            geom: 's.geom_3857',
            from: 'hazard_sites s',
          },
        ],
      },
    ],
  },
  {
    name: 'shelters',
    minzoom: 8,
    maxzoom: 16,
    layers: [
      {
        name: 'shelters',
        geometry: 'point',
        description: '避险点（安置点）/ shelters',
        fields: { id: 'Number', code: 'String', name: 'String', kind: 'String', capacity: 'Number', certified_safe: 'Boolean' },
        bands: [
          {
            minzoom: 8,
            maxzoom: 16,
            kind: 'shelter',
            columns: 's.id AS fid, s.id, s.code, s.name, s.kind, s.capacity, s.certified_safe',
            geom: 's.geom_3857',
            from: 'shelters s',
          },
        ],
      },
    ],
  },
  {
    name: 'routes',
    minzoom: 10,
    maxzoom: 16,
    layers: [
      {
        name: 'routes',
        geometry: 'line',
        description: '转移路线 / transfer routes',
        fields: { id: 'Number', hazard_id: 'Number', shelter_id: 'Number', length_m: 'Number' },
        bands: [
          {
            minzoom: 10,
            maxzoom: 16,
            kind: 'route',
            columns: 'r.id AS fid, r.id, r.hazard_id, r.shelter_id, r.length_m',
            geom: 'r.geom_3857',
            from: 'routes r',
          },
        ],
      },
    ],
  },
]

// Rain per grid and hazard site (rain_state, api/rain/engine.ts): colour by
// rainstorm signal or warning, the 1–24 h sums, on-alert flags. Kind 'rain':
// every rain update notifies the extent it changed, and the server's sweep
// (api/rain/sweep.ts) when rain stops being current with time. Rain that is
// not current (core/rules/rain-current.ts) has colour 'stale' and no alert: its last
// colour is history, never drawn as a live signal; data_at says how old it is.
// Whether a row's rain is current at $4: the rule (rain_state_current) applied
// once per tile to each lag there is (rain_current_lags), not per row and
// column: a WITH keeps the planner from copying the call into every use or
// running it again for every row it joins.
const rainNow = `CROSS JOIN (WITH rc AS MATERIALIZED (SELECT rain_current_lags($4::timestamptz) AS lags, (SELECT state_as_of FROM rain_cache) AS as_of)
                              SELECT * FROM rc) rc`
const rainCur = `r.lag_hours = ANY (rc.lags)`
const rainCols = `CASE WHEN ${rainCur} THEN coalesce(r.colour, 'none') ELSE 'stale' END AS colour,
  CASE WHEN ${rainCur} THEN coalesce(r.signal_colour, 'none') ELSE 'stale' END AS signal,
  CASE WHEN ${rainCur} THEN coalesce(r.warning_colour, 'none') ELSE 'stale' END AS warning,
  r.rain_1h::float8 AS rain_1h, r.rain_3h::float8 AS rain_3h,
  r.rain_6h::float8 AS rain_6h, r.rain_12h::float8 AS rain_12h, r.rain_24h::float8 AS rain_24h, r.on_alert AND ${rainCur} AS alert,
  ${rainCur} AS current,
  extract(epoch FROM rc.as_of - (r.lag_hours - 1) * interval '1 hour')::float8 AS data_at`
const rainFields = {
  id: 'Number', code: 'String', colour: 'String', signal: 'String', warning: 'String', rain_1h: 'Number', rain_3h: 'Number',
  rain_6h: 'Number', rain_12h: 'Number', rain_24h: 'Number', alert: 'Boolean', current: 'Boolean', data_at: 'Number',
} as const
// Low zooms: rain per county / township / village from rain_rollups (kept current by
// triggers on rain_state, apart by lag): the units whose rain is current at $4
// count as live (by colour, and on alert), the others only as stale: stale rain
// never makes a live colour or alarm here either. colour = the highest live
// colour, 'none' without one, 'stale' when none of the unit's rain is current;
// data_at = the newest of its data.
const rainAggFields = {
  ...rainFields, agg: 'String', name: 'String', units: 'Number', blue: 'Number', yellow: 'Number', orange: 'Number', red: 'Number',
  alerts: 'Number', stale: 'Number',
} as const
const rainAggBand = (kind: 'grid' | 'site', level: 'county' | 'township' | 'village', minzoom: number, maxzoom: number): Band => ({
  minzoom,
  maxzoom,
  kind: 'rain',
  columns: `a.id AS fid, '${level}' AS agg, a.id, a.code, a.name, x.units, x.blue, x.yellow, x.orange, x.red, x.alerts, x.stale,
          CASE WHEN x.red > 0 THEN 'red' WHEN x.orange > 0 THEN 'orange' WHEN x.yellow > 0 THEN 'yellow' WHEN x.blue > 0 THEN 'blue'
               WHEN x.live > 0 THEN 'none' ELSE 'stale' END AS colour,
          x.alerts > 0 AS alert, x.live > 0 AS current,
          extract(epoch FROM rc.as_of - (x.lag_hours - 1) * interval '1 hour')::float8 AS data_at`,
  geom: 'a.label_3857',
  // Per unit in the tile, its few rows (one per lag) by primary key: a plan that adds up every unit's rows
  // first and joins after is the one a prepared statement's generic plan picked, and it ran it once per unit.
  from: `admin_units a ${rainNow} CROSS JOIN LATERAL (
           SELECT sum(r.units)::int AS units, coalesce(sum(r.units) FILTER (WHERE ${rainCur}), 0)::int AS live,
                  coalesce(sum(r.blue) FILTER (WHERE ${rainCur}), 0)::int AS blue, coalesce(sum(r.yellow) FILTER (WHERE ${rainCur}), 0)::int AS yellow,
                  coalesce(sum(r.orange) FILTER (WHERE ${rainCur}), 0)::int AS orange, coalesce(sum(r.red) FILTER (WHERE ${rainCur}), 0)::int AS red,
                  coalesce(sum(r.on_alert) FILTER (WHERE ${rainCur}), 0)::int AS alerts,
                  coalesce(sum(r.units) FILTER (WHERE NOT ${rainCur}), 0)::int AS stale, min(r.lag_hours) AS lag_hours
           FROM rain_rollups r WHERE r.level = '${level}' AND r.unit_id = a.id AND r.kind = '${kind}') x`,
  where: `a.level = '${level}' AND x.units > 0`,
})
tileLayers.push({
  name: 'rain',
  clock: true,
  minzoom: 5,
  maxzoom: 16,
  layers: [
    {
      name: 'rain_points',
      geometry: 'point',
      description: '县/乡/村网格雨情汇总（按预警颜色计网格数）/ rain per county (z5–7), township (z8–9) and village (z10–11): grids by signal colour',
      fields: rainAggFields,
      bands: [rainAggBand('grid', 'county', 5, 7), rainAggBand('grid', 'township', 8, 9), rainAggBand('grid', 'village', 10, 11)],
    },
    {
      name: 'rain_grids',
      geometry: 'polygon',
      // From z12: a z10 tile of grid outlines is as heavy as the grids layer's (~200 KB, ~2,000 polygons);
      // the map draws rain on the grids layer itself (feature state), this layer is for other clients.
      description: '网格雨情（z12 起）/ rain per basic grid (from z12)',
      fields: rainFields,
      bands: [{
        minzoom: 12, maxzoom: 16, kind: 'rain',
        columns: `g.id AS fid, g.id, g.code, ${rainCols}`, geom: 'g.geom_3857',
        from: `grids g JOIN rain_state r ON r.kind = 'grid' AND r.unit_id = g.id ${rainNow}`,
        // Implied by the join, said for the planner: the tile's geometry test runs on the grids before the
        // join, and there are five micro-grids for every basic grid.
        where: `g.kind = 'basic'`,
      }],
    },
    {
      name: 'rain_sites',
      geometry: 'point',
      description: '隐患点雨情（超临界雨量即预警；z10 以下为县/乡汇总）/ rain per hazard site (on alert past its critical rainfall; county/township counts below z10)',
      fields: rainAggFields,
      bands: [
        rainAggBand('site', 'county', 5, 7),
        rainAggBand('site', 'township', 8, 9),
        {
          minzoom: 10, maxzoom: 16, kind: 'rain',
          columns: `s.id AS fid, s.id, s.code, ${rainCols}`, geom: 's.geom_3857',
          from: `hazard_sites s JOIN rain_state r ON r.kind = 'site' AND r.unit_id = s.id ${rainNow}`,
        },
      ],
    },
  ],
})

tileLayers.push(evacLayer)

export const tileLayerByName = new Map(tileLayers.map((l) => [l.name, l]))

export function bandAt(layer: MvtLayer, z: number): Band | undefined {
  return layer.bands.find((b) => z >= b.minzoom && z <= b.maxzoom)
}
