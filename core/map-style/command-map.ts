/**
 * The command map's style layers, below the browser and the server alike: the web map draws them
 * (web/src/map/style.ts) and the API publishes them as a MapLibre style for QGIS and other MapLibre
 * apps (api/styles/), so both draw our tiles the same way from one definition.
 *
 * Layers name their sources by tile layer (`admin`, `grids`, `households`, `hazards`, `shelters`,
 * `routes`, `evac`, and `basemap` when there is one); whoever builds the style says where those are.
 * Icons are the shapes of ./icons.ts, by name.
 */
import type { ExpressionSpecification, LayerSpecification } from '@maplibre/maplibre-gl-style-spec'
import { gridRiskRule } from '../rules/risk.ts'
import { evacColor, gridFill, progressColor, rainColor, riskColor, routeColor } from './colors.ts'

/** Layer groups the user switches on and off; each names the style layers it holds. */
export const layerGroups = {
  grids: ['grids-fill', 'grids-line'],
  microGrids: ['micro-grids-line'],
  households: ['household-agg-total', 'household-agg-ry', 'household-agg-red', 'households'],
  hazards: ['hazards-alert', 'hazards', 'hazards-agg'],
  shelters: ['shelters'],
  routes: ['routes'],
  labels: ['admin-label', 'agg-label'],
  basemap: ['basemap'],
  evacuation: ['evac-routes', 'evac-households', 'evac-shelters-capacity', 'evac-shelters-present', 'evac-shelters-label'],
  reports: ['reports-overdue', 'reports'],
} as const
export type LayerGroup = keyof typeof layerGroups

/** What the map shows at first: every group but the micro-grid lines. */
export const defaultVisible = Object.fromEntries(Object.keys(layerGroups).map((g) => [g, g !== 'microGrids'])) as Record<LayerGroup, boolean>

/** Layers a click can pick, most specific first. */
export const pickableLayers = ['reports', 'households', 'hazards', 'shelters', 'household-agg-total', 'grids-fill', 'admin-fill'] as const

export const fontStack = ['Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', 'PingFang SC', 'sans-serif']

const get = (k: string): ExpressionSpecification => ['get', k]
const share = (k: string): ExpressionSpecification => ['/', get(k), ['max', 1, get('households')]]

// Aggregate circles: area ∝ households, scaled per level so that townships,
// villages and grids all fit their zoom band.
const aggRadius = (fraction: ExpressionSpecification | number): ExpressionSpecification => [
  'max', 2,
  ['*', ['sqrt', ['*', get('households'), fraction]], ['match', get('agg'), 'township', 0.15, 'village', 0.42, 1.1]],
]

/** The vector tile layers the command map draws from (tiles/registry.ts), each a source of the same name. */
export const commandMapSources = ['admin', 'grids', 'households', 'hazards', 'shelters', 'routes', 'evac'] as const

export interface CommandMapOptions {
  /** A raster basemap under the data (a source named `basemap`). */
  basemap: boolean
}

/** The command map's layers, bottom to top. */
export function commandMapLayers(opts: CommandMapOptions): LayerSpecification[] {
  const layers: LayerSpecification[] = [
    { id: 'bg', type: 'background', paint: { 'background-color': '#0a1020' } },
  ]
  if (opts.basemap) {
    layers.push({ id: 'basemap', type: 'raster', source: 'basemap', paint: { 'raster-opacity': 0.55, 'raster-saturation': -0.6 } })
  }
  layers.push(
    { id: 'admin-fill', type: 'fill', source: 'admin', 'source-layer': 'admin', filter: ['==', get('level'), 'county'], paint: { 'fill-color': '#131d33', 'fill-opacity': opts.basemap ? 0.3 : 1 } },
    {
      id: 'grids-fill', type: 'fill', source: 'grids', 'source-layer': 'grids',
      paint: {
        'fill-color': gridFillColor('risk'),
        'fill-opacity': ['interpolate', ['linear'], ['zoom'], 10, 0.45, 14, 0.3, 16, 0.18],
      },
    },
    { id: 'grids-line', type: 'line', source: 'grids', 'source-layer': 'grids', paint: { 'line-color': '#7f93bd', 'line-opacity': 0.5, 'line-width': ['interpolate', ['linear'], ['zoom'], 10, 0.3, 14, 1.2] } },
    { id: 'micro-grids-line', type: 'line', source: 'grids', 'source-layer': 'micro_grids', paint: { 'line-color': '#7f93bd', 'line-opacity': 0.35, 'line-dasharray': [2, 2], 'line-width': 0.8 } },
    {
      id: 'admin-line', type: 'line', source: 'admin', 'source-layer': 'admin',
      paint: {
        'line-color': ['match', get('level'), 'city', '#e3ecff', 'county', '#b7c8ec', 'township', '#8ea3cf', '#5d6f98'],
        'line-width': ['match', get('level'), 'city', 2.5, 'county', 2, 'township', 1.2, 0.7],
        'line-dasharray': ['match', get('level'), 'village', ['literal', [3, 2]], ['literal', [1, 0]]],
      },
    },
    { id: 'routes', type: 'line', source: 'routes', 'source-layer': 'routes', layout: { 'line-cap': 'round' }, paint: { 'line-color': routeColor, 'line-width': ['interpolate', ['linear'], ['zoom'], 10, 1, 15, 3], 'line-dasharray': [2, 1.5] } },
    // Aggregates (z5–12): nested circles, total in green, red+yellow share in yellow, red share in red.
    { id: 'household-agg-total', type: 'circle', source: 'households', 'source-layer': 'households', maxzoom: 13, filter: ['!=', get('agg'), ''], paint: { 'circle-radius': aggRadius(1), 'circle-color': riskColor.green, 'circle-opacity': 0.8, 'circle-stroke-color': '#0a1020', 'circle-stroke-width': 1 } },
    { id: 'household-agg-ry', type: 'circle', source: 'households', 'source-layer': 'households', maxzoom: 13, filter: ['!=', get('agg'), ''], paint: { 'circle-radius': aggRadius(['+', share('red'), share('yellow')]), 'circle-color': riskColor.yellow, 'circle-opacity': 0.95 } },
    { id: 'household-agg-red', type: 'circle', source: 'households', 'source-layer': 'households', maxzoom: 13, filter: ['!=', get('agg'), ''], paint: { 'circle-radius': aggRadius(share('red')), 'circle-color': riskColor.red } },
    {
      id: 'households', type: 'circle', source: 'households', 'source-layer': 'households', minzoom: 13, filter: ['==', get('agg'), ''],
      paint: {
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 13, 2.2, 16, 6],
        'circle-color': ['match', get('risk'), 'red', riskColor.red, 'yellow', riskColor.yellow, riskColor.green],
        'circle-stroke-color': '#0a1020', 'circle-stroke-width': ['interpolate', ['linear'], ['zoom'], 13, 0, 15, 1],
      },
    },
    {
      id: 'shelters', type: 'symbol', source: 'shelters', 'source-layer': 'shelters', minzoom: 10,
      layout: { 'icon-image': 'shelter', 'icon-size': ['interpolate', ['linear'], ['zoom'], 10, 0.55, 15, 1], 'icon-allow-overlap': true },
    },
    // A site whose rain has passed its critical rainfall: a red halo, whatever the zoom (feature state "alert").
    {
      id: 'hazards-alert', type: 'circle', source: 'hazards', 'source-layer': 'hazards',
      paint: {
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 6, 7, 14, 18],
        'circle-color': rainColor.alert, 'circle-blur': 0.4,
        'circle-opacity': ['case', ['boolean', ['feature-state', 'alert'], false], 0.55, 0],
        'circle-stroke-color': rainColor.alert, 'circle-stroke-width': 2,
        'circle-stroke-opacity': ['case', ['boolean', ['feature-state', 'alert'], false], 1, 0],
      },
    },
    {
      id: 'hazards', type: 'symbol', source: 'hazards', 'source-layer': 'hazards',
      // 3,500 sites city-wide: the larger ones first, all of them from z10.
      filter: ['all', ['==', get('status'), 'active'], ['any', ['>=', ['zoom'], 10], ['match', get('danger_level'), ['特大型', '大型'], true, false], ['all', ['>=', ['zoom'], 8], ['==', get('danger_level'), '中型']]]],
      layout: {
        'icon-image': ['concat', 'hazard-', get('danger_level')],
        'icon-size': ['interpolate', ['linear'], ['zoom'], 6, ['match', get('danger_level'), '特大型', 0.6, '大型', 0.5, '中型', 0.4, 0.3], 14, ['match', get('danger_level'), '特大型', 1.1, '大型', 1, '中型', 0.85, 0.7]],
        'icon-allow-overlap': true,
        'symbol-sort-key': ['match', get('danger_level'), '特大型', 0, '大型', 1, '中型', 2, 3],
      },
    },
    // Below z10 the tiles also count the active sites per county (z5–7) and township (z8–9): a triangle of the
    // highest danger level there and the count, under the unit's name.
    {
      id: 'hazards-agg', type: 'symbol', source: 'hazards', 'source-layer': 'hazards', maxzoom: 10, filter: ['>', ['coalesce', get('sites'), 0], 0],
      layout: {
        'icon-image': ['concat', 'hazard-', get('danger_level')], 'icon-size': 0.7, 'icon-offset': [-10, 30],
        'text-field': ['to-string', get('sites')], 'text-font': fontStack, 'text-size': 12, 'text-anchor': 'left', 'text-offset': [0, 1.75],
        'icon-allow-overlap': true, 'text-allow-overlap': true,
      },
      paint: { 'text-color': '#f3d9ff', 'text-halo-color': '#0a1020', 'text-halo-width': 1.4 },
    },
    {
      id: 'admin-label', type: 'symbol', source: 'admin', 'source-layer': 'admin_label',
      layout: {
        'text-field': get('name'), 'text-font': fontStack,
        'text-size': ['match', get('level'), 'county', 16, 'township', 13, 11],
        'text-padding': 4,
        'symbol-sort-key': ['match', get('level'), 'county', 0, 'township', 1, 2],
      },
      paint: { 'text-color': ['match', get('level'), 'county', '#ffffff', 'township', '#d5def2', '#aab8d6'], 'text-halo-color': '#0a1020', 'text-halo-width': 1.6 },
    },
    {
      id: 'agg-label', type: 'symbol', source: 'households', 'source-layer': 'households', minzoom: 11, maxzoom: 13, filter: ['==', get('agg'), 'grid'],
      layout: { 'text-field': ['to-string', get('households')], 'text-font': fontStack, 'text-size': 10, 'text-offset': [0, 1.3], 'text-optional': true },
      paint: { 'text-color': '#c9d4ea', 'text-halo-color': '#0a1020', 'text-halo-width': 1.2 },
    },
  )
  // Transfers draw above the data layers and below the labels.
  layers.splice(layers.findIndex((l) => l.id === 'admin-label'), 0, ...evacLayers(fontStack))
  return layers
}

/**
 * What colours the grids: the household risk share (红黄绿), the rainstorm
 * signal in force (feature state "rain"), or the state of the grid's 三查
 * checklists (feature state "progress").
 */
export type GridMode = 'risk' | 'rain' | 'progress'
export const gridModes: readonly GridMode[] = ['risk', 'rain', 'progress']

export function gridFillColor(mode: GridMode): ExpressionSpecification {
  if (mode === 'progress') {
    return ['match', ['coalesce', ['feature-state', 'progress'], 'none'],
      'done', progressColor.done, 'in_progress', progressColor.in_progress, 'not_started', progressColor.not_started,
      'overdue', progressColor.overdue, progressColor.none]
  }
  if (mode === 'rain') {
    return ['match', ['coalesce', ['feature-state', 'rain'], 'none'],
      'red', rainColor.red, 'orange', rainColor.orange, 'yellow', rainColor.yellow, 'blue', rainColor.blue, 'stale', rainColor.stale, rainColor.none]
  }
  // core/rules/risk.ts gridRiskColour, as an expression (grid-fill.test.ts holds the two together).
  return ['case', ['>', get('red_share'), gridRiskRule.red], gridFill.red, ['>', get('yellow_share'), gridRiskRule.yellow], gridFill.yellow, gridFill.green]
}

/**
 * Open transfers: households by status (z12+), routes in use (orange while
 * someone is on them), shelters as gauges — a ring sized by capacity, filled
 * by the people present.
 */
export const evacLayers = (fontStack: string[]): LayerSpecification[] => [
  {
    id: 'evac-routes', type: 'line', source: 'evac', 'source-layer': 'evac_routes', layout: { 'line-cap': 'round' },
    paint: {
      'line-color': ['case', ['>', get('moving'), 0], evacColor.moving, ['>', get('arrived'), 0], evacColor.at_shelter, evacColor.notified],
      'line-width': ['interpolate', ['linear'], ['zoom'], 10, 2, 15, 5],
    },
  },
  {
    id: 'evac-households', type: 'circle', source: 'evac', 'source-layer': 'evac_households', minzoom: 12,
    paint: {
      'circle-radius': ['interpolate', ['linear'], ['zoom'], 12, 3, 16, 8],
      'circle-color': ['match', get('status'), ...Object.entries(evacColor).flat(), '#ffffff'] as unknown as ExpressionSpecification,
      'circle-stroke-color': ['case', ['>', get('vulnerable'), 0], '#ffffff', '#0a1020'],
      'circle-stroke-width': ['case', ['>', get('vulnerable'), 0], 2, 1],
    },
  },
  {
    id: 'evac-shelters-capacity', type: 'circle', source: 'evac', 'source-layer': 'evac_shelters',
    paint: {
      'circle-radius': ['interpolate', ['linear'], ['zoom'], 8, ['max', 5, ['/', ['sqrt', get('capacity')], 3]], 15, ['max', 12, ['sqrt', get('capacity')]]],
      'circle-color': '#0a1020', 'circle-opacity': 0.6, 'circle-stroke-color': '#29b6f6', 'circle-stroke-width': 2,
    },
  },
  {
    id: 'evac-shelters-present', type: 'circle', source: 'evac', 'source-layer': 'evac_shelters',
    paint: {
      // Zoom may only drive a top-level interpolate: the fill scales each stop.
      'circle-radius': ['interpolate', ['linear'], ['zoom'],
        8, ['*', ['sqrt', ['min', 1, get('fill')]], ['max', 5, ['/', ['sqrt', get('capacity')], 3]]],
        15, ['*', ['sqrt', ['min', 1, get('fill')]], ['max', 12, ['sqrt', get('capacity')]]]],
      'circle-color': ['case', ['>=', get('fill'), 0.95], '#ff1744', evacColor.at_shelter], 'circle-opacity': 0.85,
    },
  },
  {
    id: 'evac-shelters-label', type: 'symbol', source: 'evac', 'source-layer': 'evac_shelters', minzoom: 11,
    layout: {
      'text-field': ['concat', ['to-string', get('present')], '/', ['to-string', get('capacity')]],
      'text-font': fontStack, 'text-size': 11, 'text-offset': [0, 1.6], 'text-allow-overlap': true,
    },
    paint: { 'text-color': '#e3f2fd', 'text-halo-color': '#0a1020', 'text-halo-width': 1.4 },
  },
]
