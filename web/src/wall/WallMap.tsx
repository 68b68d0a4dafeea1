import 'maplibre-gl/dist/maplibre-gl.css'
import * as maplibregl from 'maplibre-gl'
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?worker&url'
import { useEffect, useRef } from 'react'
import { evacColor, rainColor, shelterColor } from '../map/colors.ts'
import { fontStack, makeIcons } from '../map/style.ts'
import { exposeForTests } from '../map/test-hooks.ts'
import type { WallState } from './useWallState.ts'
import { resolveRelativeUrls } from '../map/resolve-url.ts'
import { useI18n } from '../i18n/index.tsx'
import { mapLocale } from '../map/locale.ts'
import { applyHexagons, setHexagonStrength } from '../map/hexagons.ts'

maplibregl.setWorkerUrl(workerUrl)

const get = (k: string): maplibregl.ExpressionSpecification => ['get', k]
const points = <T extends { lon: number; lat: number }>(rows: T[], props: (r: T) => Record<string, unknown>): GeoJSON.FeatureCollection => ({
  type: 'FeatureCollection',
  features: rows.map((r) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: [r.lon, r.lat] }, properties: props(r) })),
})
const empty: GeoJSON.FeatureCollection = { type: 'FeatureCollection', features: [] }

/**
 * The wall's map: admin outlines and hazard sites from the tiles, and over
 * them what the figures say at this moment (live or replayed): villages by
 * signal colour with their transfer progress, sites past critical rain,
 * rain gauges, shelters filling. Sizes follow the screen (4K draws larger).
 */
function wallStyle(origin: string, scale: number): maplibregl.StyleSpecification {
  const source = (layer: string) => ({ type: 'vector' as const, url: `${origin}/tiles/${layer}.json` })
  const geo = { type: 'geojson' as const, data: empty }
  const px = (n: number) => n * scale
  return {
    version: 8,
    sources: { admin: source('admin'), hazards: source('hazards'), villages: geo, sites: geo, stations: geo, shelters: geo },
    layers: [
      { id: 'bg', type: 'background', paint: { 'background-color': '#060b16' } },
      { id: 'admin-fill', type: 'fill', source: 'admin', 'source-layer': 'admin', filter: ['==', get('level'), 'county'], paint: { 'fill-color': '#0e1830' } },
      {
        id: 'admin-line', type: 'line', source: 'admin', 'source-layer': 'admin', filter: ['!=', get('level'), 'village'],
        paint: { 'line-color': ['match', get('level'), 'county', '#9fb4e0', '#4f628c'], 'line-width': ['match', get('level'), 'county', px(2), px(1)] },
      },
      {
        id: 'hazards', type: 'symbol', source: 'hazards', 'source-layer': 'hazards', filter: ['==', get('status'), 'active'],
        layout: { 'icon-image': ['concat', 'hazard-', get('danger_level')], 'icon-size': 0.45 * scale, 'icon-allow-overlap': true },
        paint: { 'icon-opacity': 0.45 },
      },
      {
        id: 'village-signal', type: 'circle', source: 'villages', filter: ['has', 'colour'],
        paint: {
          'circle-radius': px(9), 'circle-blur': 0.5, 'circle-opacity': 0.75,
          'circle-color': ['match', get('colour'), 'red', rainColor.red, 'orange', rainColor.orange, 'yellow', rainColor.yellow, rainColor.blue],
        },
      },
      {
        // A ring per village with households to move: green share safe, the rest orange.
        id: 'village-transfer', type: 'circle', source: 'villages', filter: ['>', get('households'), 0],
        paint: {
          'circle-radius': ['+', px(5), ['*', px(1.2), ['sqrt', get('households')]]], 'circle-opacity': 0,
          'circle-stroke-width': px(3),
          'circle-stroke-color': ['case', ['>=', get('safe'), get('households')], evacColor.at_shelter, evacColor.moving],
        },
      },
      // Gauges whose rain is not current are grey: what they last caught is history.
      { id: 'stations', type: 'circle', source: 'stations', paint: { 'circle-radius': ['+', px(2), ['*', px(0.5), ['sqrt', get('mm1')]]], 'circle-color': ['case', ['get', 'live'], '#4fc3f7', rainColor.stale], 'circle-opacity': 0.8 } },
      {
        id: 'station-label', type: 'symbol', source: 'stations', filter: ['>=', get('mm1'), 10],
        layout: { 'text-field': ['concat', ['to-string', get('mm1')], 'mm'], 'text-font': fontStack, 'text-size': px(11), 'text-offset': [0, 1.1] },
        paint: { 'text-color': ['case', ['get', 'live'], '#b3e5fc', rainColor.stale], 'text-halo-color': '#060b16', 'text-halo-width': px(1.5) },
      },
      {
        id: 'shelters', type: 'circle', source: 'shelters',
        paint: {
          'circle-radius': ['+', px(4), ['*', px(0.35), ['sqrt', get('capacity')]]], 'circle-color': shelterColor, 'circle-opacity': 0.25,
          'circle-stroke-color': ['case', ['>', get('people'), get('capacity')], rainColor.red, shelterColor], 'circle-stroke-width': px(2),
        },
      },
      {
        id: 'sites-alert', type: 'circle', source: 'sites',
        paint: { 'circle-radius': px(11), 'circle-color': rainColor.alert, 'circle-opacity': 0.35, 'circle-stroke-color': rainColor.alert, 'circle-stroke-width': px(2.5) },
      },
      {
        id: 'admin-label', type: 'symbol', source: 'admin', 'source-layer': 'admin_label', filter: ['match', get('level'), ['county', 'township'], true, false],
        layout: { 'text-field': get('name'), 'text-font': fontStack, 'text-size': ['match', get('level'), 'county', px(20), px(14)] },
        paint: { 'text-color': ['match', get('level'), 'county', '#ffffff', '#c5d2ee'], 'text-halo-color': '#060b16', 'text-halo-width': px(2) },
      },
    ],
  }
}

/** `hexagons`: the area's households per H3 cell (useWallHexagons), under everything the moment shows: the map at rest is not empty. */
export function WallMap({ state, focus, hexagons }: { state: WallState | null; focus: [number, number, number, number] | null; hexagons: GeoJSON.FeatureCollection | null }) {
  const box = useRef<HTMLDivElement>(null)
  const mapRef = useRef<maplibregl.Map | null>(null)
  const ready = useRef(false)
  const stateRef = useRef(state)
  stateRef.current = state
  const hexRef = useRef(hexagons)
  hexRef.current = hexagons
  const mRef = useRef(useI18n().m)

  useEffect(() => {
    const scale = Math.max(1, Math.min(2.5, window.innerWidth / 1920))
    const map = new maplibregl.Map({
      container: box.current!, transformRequest: resolveRelativeUrls, style: wallStyle(location.origin, scale), attributionControl: false,
      interactive: false, fadeDuration: 0, center: [103.7, 27.6], zoom: 8, locale: mapLocale(mRef.current),
    })
    for (const icon of makeIcons()) map.addImage(icon.name, icon.image, { pixelRatio: icon.pixelRatio })
    map.on('load', () => {
      ready.current = true
      applyHexagons(map, hexRef.current, { beforeId: 'admin-line', strong: true })
      draw(map, stateRef.current)
    })
    mapRef.current = map
    exposeForTests(map)
    return () => {
      ready.current = false
      map.remove()
      mapRef.current = null
    }
  }, [])

  useEffect(() => {
    if (mapRef.current && ready.current) draw(mapRef.current, state)
  }, [state])

  useEffect(() => {
    if (mapRef.current && ready.current) applyHexagons(mapRef.current, hexagons, { strong: true })
  }, [hexagons])

  useEffect(() => {
    if (focus && mapRef.current) mapRef.current.fitBounds(focus, { padding: 30, duration: 1500 })
  }, [focus])

  return <div className="wall-map" ref={box} />
}

/** Something the room must see is on the map: signals in force, sites past critical rain, households being moved. */
const stormOn = (s: WallState | null) =>
  !!s && (Object.values(s.warnings.grids).some((n) => n > 0) || s.sites.overCritical > 0 || s.transfer.households > 0)

function draw(map: maplibregl.Map, s: WallState | null) {
  setHexagonStrength(map, stormOn(s) ? 'dim' : 'strong')
  const set = (id: string, data: GeoJSON.FeatureCollection) => (map.getSource(id) as maplibregl.GeoJSONSource | undefined)?.setData(data)
  set('villages', points(s?.villages ?? [], (v) => ({ code: v.code, households: v.households, safe: v.safe, ...(v.colour ? { colour: v.colour } : {}) })))
  set('sites', points(s?.sites.top ?? [], (x) => ({ code: x.code, name: x.name })))
  set('stations', points(s?.stations ?? [], (x) => ({ code: x.code, mm1: x.mm1, mm24: x.mm24, live: s?.rain.current ?? false })))
  set('shelters', points(s?.shelters ?? [], (x) => ({ id: x.id, capacity: x.capacity, people: x.people })))
}
