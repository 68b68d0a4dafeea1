// A first map over our own tiles, so that `npm start` shows the data. The
// command map (issue 3) replaces it.
import 'maplibre-gl/dist/maplibre-gl.css'
import * as maplibregl from 'maplibre-gl'
import type { StyleSpecification } from 'maplibre-gl'
import { StrictMode, useEffect, useRef } from 'react'
import { createRoot } from 'react-dom/client'
// MapLibre 6 loads its worker from a separate module: let Vite bundle it.
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?worker&url'

maplibregl.setWorkerUrl(workerUrl)

const source = (layer: string) => ({ type: 'vector' as const, url: `${location.origin}/tiles/${layer}.json` })

const style: StyleSpecification = {
  version: 8,
  sources: {
    admin: source('admin'), grids: source('grids'), households: source('households'),
    hazards: source('hazards'), shelters: source('shelters'), routes: source('routes'),
  },
  layers: [
    { id: 'bg', type: 'background', paint: { 'background-color': '#0b1220' } },
    { id: 'admin-fill', type: 'fill', source: 'admin', 'source-layer': 'admin', filter: ['==', ['get', 'level'], 'county'], paint: { 'fill-color': '#15213a' } },
    {
      id: 'grids', type: 'fill', source: 'grids', 'source-layer': 'grids',
      paint: {
        'fill-color': ['case', ['>', ['get', 'red_share'], 0.05], '#d7301f', ['>', ['get', 'yellow_share'], 0.15], '#f5b700', '#2ca25f'],
        'fill-opacity': 0.35, 'fill-outline-color': '#4a5f86',
      },
    },
    { id: 'admin-line', type: 'line', source: 'admin', 'source-layer': 'admin', paint: { 'line-color': ['match', ['get', 'level'], 'county', '#9fb4d8', 'township', '#6b7fa6', '#44557a'], 'line-width': ['match', ['get', 'level'], 'county', 2, 1] } },
    { id: 'routes', type: 'line', source: 'routes', 'source-layer': 'routes', paint: { 'line-color': '#39c0ff', 'line-width': 2, 'line-dasharray': [2, 1] } },
    {
      id: 'household-agg', type: 'circle', source: 'households', 'source-layer': 'households', filter: ['!=', ['get', 'agg'], ''],
      paint: {
        'circle-radius': ['interpolate', ['linear'], ['sqrt', ['get', 'households']], 0, 2, 30, 8, 150, 28],
        'circle-color': ['case', ['>', ['/', ['get', 'red'], ['max', 1, ['get', 'households']]], 0.05], '#d7301f', ['>', ['/', ['get', 'yellow'], ['max', 1, ['get', 'households']]], 0.15], '#f5b700', '#2ca25f'],
        'circle-opacity': 0.75, 'circle-stroke-color': '#0b1220', 'circle-stroke-width': 1,
      },
    },
    {
      id: 'households', type: 'circle', source: 'households', 'source-layer': 'households', filter: ['==', ['get', 'agg'], ''],
      paint: { 'circle-radius': ['interpolate', ['linear'], ['zoom'], 13, 2, 16, 5], 'circle-color': ['match', ['get', 'risk'], 'red', '#ff3b30', 'yellow', '#ffcc00', '#34c759'] },
    },
    { id: 'shelters', type: 'circle', source: 'shelters', 'source-layer': 'shelters', minzoom: 11, paint: { 'circle-radius': 6, 'circle-color': '#39c0ff', 'circle-stroke-color': '#fff', 'circle-stroke-width': 1.5 } },
    { id: 'hazards', type: 'circle', source: 'hazards', 'source-layer': 'hazards', paint: { 'circle-radius': ['interpolate', ['linear'], ['zoom'], 8, ['match', ['get', 'danger_level'], '特大型', 4, '大型', 3.5, '中型', 2.5, 1.5], 14, ['match', ['get', 'danger_level'], '特大型', 10, '大型', 8, '中型', 6, 5]], 'circle-color': '#b620e0', 'circle-stroke-color': '#fff', 'circle-stroke-width': ['interpolate', ['linear'], ['zoom'], 8, 0, 12, 1] } },
  ],
}

function MapView() {
  const el = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const map = new maplibregl.Map({ container: el.current!, style, center: [103.72, 27.34], zoom: 9, attributionControl: false })
    map.addControl(new maplibregl.NavigationControl(), 'top-right')
    ;(window as unknown as { map: maplibregl.Map }).map = map
    return () => map.remove()
  }, [])
  return <div ref={el} style={{ position: 'absolute', inset: 0 }} />
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MapView />
    <div style={{ position: 'absolute', top: 12, left: 12, padding: '8px 14px', background: 'rgba(11,18,32,.85)', color: '#e6edf7', font: '600 18px system-ui, "Noto Sans CJK SC", sans-serif', borderRadius: 6 }}>
      昭通防汛网格指挥图 · gridwatch
    </div>
  </StrictMode>,
)
