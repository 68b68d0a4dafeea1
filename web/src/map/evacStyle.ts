import type { ExpressionSpecification, LayerSpecification } from 'maplibre-gl'
import { evacColor } from './colors.ts'

const get = (k: string): ExpressionSpecification => ['get', k]

/** The 'evac' tile source's URL; `version` changes on every live event so MapLibre asks again. */
export const evacTiles = (origin: string, version: number) => [`${origin}/tiles/evac/{z}/{x}/{y}.mvt?v=${version}`]

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
