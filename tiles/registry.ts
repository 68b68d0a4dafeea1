import { evacLayer } from './evac-layer.ts'

/**
 * The tile layers: for each, the SQL that makes its features at each zoom
 * band: `columns` (with `fid`, the feature id, and the properties), `geom`
 * (an EPSG:3857 geometry expression) and `from` (tables and conditions; the
 * tile's bounding-box filter on `geom` is added by the encoders). `kind` names
 * what the features are, so that a change to that kind of thing drops exactly
 * the cached tiles that show it.
 */
export interface Band {
  minzoom: number
  maxzoom: number
  kind: string
  columns: string
  geom: string
  from: string
  where?: string
}

export interface MvtLayer {
  name: string
  geometry: 'point' | 'line' | 'polygon'
  fields: Record<string, 'String' | 'Number' | 'Boolean'>
  description: string
  bands: Band[]
}

export interface TileLayer {
  name: string
  minzoom: number
  maxzoom: number
  layers: MvtLayer[]
}

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

const gridBand = (kind: 'basic' | 'micro', minzoom: number): Band => ({
  minzoom,
  maxzoom: 16,
  kind: kind === 'basic' ? 'grid' : 'micro',
  columns: `g.id AS fid, g.id, g.code, g.name, g.kind, ${rollupCols},
          coalesce(r.vulnerable, 0) AS vulnerable,
          round(coalesce(r.red::numeric / nullif(r.households, 0), 0), 3)::float8 AS red_share,
          round(coalesce(r.yellow::numeric / nullif(r.households, 0), 0), 3)::float8 AS yellow_share`,
  geom: 'g.geom_3857',
  from: `grids g LEFT JOIN household_rollups r ON r.level = '${kind === 'basic' ? 'grid' : 'micro'}' AND r.unit_id = g.id`,
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
        description: '基础网格及红黄绿户数 / basic grids with household counts by colour',
        fields: { id: 'Number', code: 'String', name: 'String', kind: 'String', ...countFields, vulnerable: 'Number', red_share: 'Number', yellow_share: 'Number' },
        bands: [gridBand('basic', 10)],
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
        description: '地质灾害隐患点 / geological hazard sites',
        fields: { id: 'Number', code: 'String', name: 'String', type: 'String', scale: 'String', danger_level: 'String', threatened_households: 'Number', threatened_people: 'Number', status: 'String' },
        bands: [
          {
            minzoom: 5,
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
// every rain update notifies the extent it changed.
const rainCols = `coalesce(r.colour, 'none') AS colour, coalesce(r.signal_colour, 'none') AS signal,
  coalesce(r.warning_colour, 'none') AS warning, r.rain_1h::float8 AS rain_1h, r.rain_3h::float8 AS rain_3h,
  r.rain_6h::float8 AS rain_6h, r.rain_12h::float8 AS rain_12h, r.rain_24h::float8 AS rain_24h, r.on_alert AS alert`
const rainFields = {
  id: 'Number', code: 'String', colour: 'String', signal: 'String', warning: 'String', rain_1h: 'Number', rain_3h: 'Number',
  rain_6h: 'Number', rain_12h: 'Number', rain_24h: 'Number', alert: 'Boolean',
} as const
tileLayers.push({
  name: 'rain',
  minzoom: 5,
  maxzoom: 16,
  layers: [
    {
      name: 'rain_points',
      geometry: 'point',
      description: '有预警颜色的网格（注记点）/ grids with a signal or warning colour, as points (low zooms)',
      fields: rainFields,
      bands: [{
        minzoom: 5, maxzoom: 9, kind: 'rain',
        columns: `g.id AS fid, g.id, g.code, ${rainCols}`, geom: 'g.label_3857',
        from: `grids g JOIN rain_state r ON r.kind = 'grid' AND r.unit_id = g.id`, where: 'r.colour IS NOT NULL',
      }],
    },
    {
      name: 'rain_grids',
      geometry: 'polygon',
      description: '网格雨情 / rain per basic grid',
      fields: rainFields,
      bands: [{
        minzoom: 10, maxzoom: 16, kind: 'rain',
        columns: `g.id AS fid, g.id, g.code, ${rainCols}`, geom: 'g.geom_3857',
        from: `grids g JOIN rain_state r ON r.kind = 'grid' AND r.unit_id = g.id`,
      }],
    },
    {
      name: 'rain_sites',
      geometry: 'point',
      description: '隐患点雨情（超临界雨量即预警）/ rain per hazard site (on alert past its critical rainfall)',
      fields: rainFields,
      bands: [{
        minzoom: 5, maxzoom: 16, kind: 'rain',
        columns: `s.id AS fid, s.id, s.code, ${rainCols}`, geom: 's.geom_3857',
        from: `hazard_sites s JOIN rain_state r ON r.kind = 'site' AND r.unit_id = s.id`,
      }],
    },
  ],
})

tileLayers.push(evacLayer)

export const tileLayerByName = new Map(tileLayers.map((l) => [l.name, l]))

export function bandAt(layer: MvtLayer, z: number): Band | undefined {
  return layer.bands.find((b) => z >= b.minzoom && z <= b.maxzoom)
}
