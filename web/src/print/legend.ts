/**
 * The printed map's legend, read off the map as drawn: an entry is listed only
 * when one of its features is rendered on the sheet (a layer switched off, or
 * a class with nothing in the view, has no entry). A fixed legend would list
 * red households on a map of shelters, or miss the analysis a planner printed.
 */
import type * as maplibregl from 'maplibre-gl'
import { gridRiskColour } from '../../../core/rules/risk.ts'
import { dangerColor, evacColor, gridFill, reportColor, riskColor, routeColor, shelterColor, type EvacStatus } from '../map/colors.ts'
import { format } from '../i18n/index.tsx'
import type { Messages } from '../i18n/zh.ts'

export type Swatch = 'round' | 'square' | 'tri' | 'line' | 'dash'
export interface LegendEntry { key: string; label: string; swatch: Swatch; color: string }

type Props = Record<string, unknown>
interface Rule extends LegendEntry { layers: string[]; where?: (p: Props) => boolean }

/** The grid class the risk fill gives a grid (style.ts gridFillColor 'risk'). */
export const gridClass = (p: Props) => gridRiskColour({ red: Number(p.red_share), yellow: Number(p.yellow_share) })

/** The analysis row is the problem it looks for; GeoJSON keeps the boolean, a tile would make it text. */
const flagged = (p: Props) => p._flag === true || p._flag === 'true'

function rules(m: Messages, analysisName: string | null): Rule[] {
  const risk = ['red', 'yellow', 'green'] as const
  return [
    ...(analysisName ? [
      { key: 'analysis-problem', label: analysisName, swatch: 'square' as const, color: '#ff1744', layers: ['analysis-fill', 'analysis-point'], where: flagged },
      { key: 'analysis-ok', label: m.print.analysisOk, swatch: 'square' as const, color: '#00bcd4', layers: ['analysis-fill', 'analysis-point'], where: (p: Props) => !flagged(p) },
    ] : []),
    ...risk.map((k) => ({ key: `household-${k}`, label: m.print.risk[k], swatch: 'round' as const, color: riskColor[k], layers: ['households'], where: (p: Props) => p.risk === k })),
    { key: 'household-aggregate', label: m.legend.aggregate, swatch: 'round', color: riskColor.green, layers: ['household-agg-total'] },
    ...risk.map((k) => ({ key: `grid-${k}`, label: m.print.grid[k], swatch: 'square' as const, color: gridFill[k], layers: ['grids-fill'], where: (p: Props) => gridClass(p) === k })),
    { key: 'micro-grid', label: m.layers.microGrids, swatch: 'dash', color: '#7f93bd', layers: ['micro-grids-line'] },
    ...Object.entries(dangerColor).map(([level, color]) => ({
      key: `hazard-${level}`, label: format(m.print.hazardLevel, { level: m.dangerLevels[level as keyof Messages['dangerLevels']] ?? level }), swatch: 'tri' as const, color,
      layers: ['hazards'], where: (p: Props) => p.danger_level === level,
    })),
    { key: 'shelter', label: m.print.shelter, swatch: 'square', color: shelterColor, layers: ['shelters'] },
    { key: 'route', label: m.legend.route, swatch: 'dash', color: routeColor, layers: ['routes'] },
    ...(Object.keys(evacColor) as EvacStatus[]).map((s) => ({
      key: `evac-${s}`, label: format(m.print.evacStatus, { status: m.evac.statuses[s] }), swatch: 'round' as const, color: evacColor[s], layers: ['evac-households'], where: (p: Props) => p.status === s,
    })),
    { key: 'evac-route', label: m.print.evacRoute, swatch: 'line', color: evacColor.moving, layers: ['evac-routes'] },
    { key: 'evac-shelter', label: m.print.evacShelter, swatch: 'round', color: evacColor.at_shelter, layers: ['evac-shelters-capacity'] },
    ...(['critical', 'urgent', 'normal'] as const).map((u) => ({
      key: `report-${u}`, label: format(m.print.report, { urgency: m.reports.urgencies[u] }), swatch: 'round' as const, color: reportColor[u], layers: ['reports'], where: (p: Props) => p.urgency === u,
    })),
    { key: 'report-overdue', label: m.print.reportOverdue, swatch: 'round', color: reportColor.overdue, layers: ['reports-overdue'] },
    { key: 'admin', label: m.print.admin, swatch: 'line', color: '#8ea3cf', layers: ['admin-line'] },
  ]
}

/** The entries whose features the map has drawn, in the legend's order. */
export function renderedLegend(map: maplibregl.Map, m: Messages, analysisName: string | null): LegendEntry[] {
  const drawn = new Map<string, Props[]>()
  const props = (layer: string) => {
    if (!drawn.has(layer)) {
      const visible = map.getLayer(layer) && map.getLayoutProperty(layer, 'visibility') !== 'none'
      drawn.set(layer, visible ? map.queryRenderedFeatures({ layers: [layer] }).map((f) => f.properties as Props) : [])
    }
    return drawn.get(layer)!
  }
  return rules(m, analysisName)
    .filter((r) => r.layers.some((l) => (r.where ? props(l).some(r.where) : props(l).length > 0)))
    .map(({ key, label, swatch, color }) => ({ key, label, swatch, color }))
}
