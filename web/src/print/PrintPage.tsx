/**
 * /print?unit=…&size=a4|a3&orient=landscape|portrait&title=…&bbox=w,s,e,n&layers=g1,g2…&analysis=…&p.<param>=…&lang=zh|en
 * A map sheet laid out in millimetres for the server's Chromium to print
 * (api/print/render.ts): title, the map (the view and layer groups the
 * planner had on screen, plus an analysis result when asked), a legend of
 * what is drawn (legend.ts), scale bar, north arrow, date and source. It sets
 * window.__printReady once the map and its legend are drawn (with
 * __printLegend and __printBounds for the job), or __printError.
 */
import { useEffect, useRef, useState } from 'react'
import * as maplibregl from 'maplibre-gl'
import 'maplibre-gl/dist/maplibre-gl.css'
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?worker&url'
import type { ClientConfig } from '../api.ts'
import { applyVisibility, buildStyle, defaultVisible, fontStack, layerGroups, makeIcons, type LayerGroup } from '../map/style.ts'
import { useI18n } from '../i18n/index.tsx'
import { renderedLegend, type LegendEntry } from './legend.ts'
import './print.css'
import { when } from '../i18n/when.ts'
import { resolveRelativeUrls } from '../map/resolve-url.ts'
import { mapLocale } from '../map/locale.ts'
import { applyReports } from '../map/reportsLayer.ts'
import { reportsGeoJson } from '../reports/geojson.ts'
import type { ReportList } from '../reports/types.ts'

declare global {
  interface Window { __printReady?: boolean; __printError?: string; __printLegend?: string[]; __printBounds?: number[] }
}

/** The groups named in `layers` (unknown names ignored), or the map's defaults when absent. */
function visibleGroups(param: string | null): Record<LayerGroup, boolean> {
  if (param === null) return defaultVisible
  const on = new Set(param.split(','))
  return Object.fromEntries(Object.keys(layerGroups).map((g) => [g, on.has(g)])) as Record<LayerGroup, boolean>
}

maplibregl.setWorkerUrl(workerUrl)

const paper = { a4: [297, 210], a3: [420, 297] } as const

/**
 * Resolves once the map has drawn everything it asked for. 'load' already waits for the tiles, and
 * the 'idle' of that same frame is fired before an awaited 'load' resumes: so look first, then wait.
 */
function drawnOut(map: maplibregl.Map) {
  return new Promise<void>((resolve) => {
    const check = () => (map.loaded() && map.areTilesLoaded() && !map.isMoving() ? resolve() : map.once('idle', check))
    map.once('render', check)
    map.triggerRepaint()
  })
}

export function PrintPage() {
  const { t, m, lang } = useI18n()
  const q = new URLSearchParams(location.search)
  const size = q.get('size') === 'a3' ? 'a3' : 'a4'
  const portrait = q.get('orient') === 'portrait'
  const [w, h] = portrait ? [paper[size][1], paper[size][0]] : paper[size]
  const unit = q.get('unit') ?? '530600000000'
  const analysis = q.get('analysis')
  const mapRef = useRef<HTMLDivElement>(null)
  const [title, setTitle] = useState(q.get('title') ?? '')
  const [analysisName, setAnalysisName] = useState<string | null>(null)
  const [legend, setLegend] = useState<LegendEntry[] | null>(null)
  const [attribution, setAttribution] = useState<string | null>(null)
  const mapObj = useRef<maplibregl.Map | null>(null)

  useEffect(() => {
    let map: maplibregl.Map | undefined
    void (async () => {
      try {
        const u = await (await fetch(`/api/units/${unit}`)).json()
        if (!q.get('title')) setTitle(u.name)
        const bbox = (q.get('bbox')?.split(',').map(Number) ?? u.bbox) as [number, number, number, number]
        // The analysis first: the map's load must not pass while it is fetched.
        let result: { zh: string; en: string; geojson: GeoJSON.FeatureCollection } | null = null
        if (analysis) {
          const params = new URLSearchParams([...q].filter(([k]) => k.startsWith('p.')).map(([k, v]) => [k.slice(2), v]))
          params.set('unit', unit)
          const r = await fetch(`/api/analysis/${analysis}?${params}`)
          if (!r.ok) throw new Error(`analysis ${r.status}`)
          result = await r.json()
        }
        const visible = visibleGroups(q.get('layers'))
        // The open reports of the area, as the command map shows them (its layer is fed from the list, not tiles).
        const reports = visible.reports
          ? await fetch(`/api/reports?unit=${unit}&state=open&limit=1000`).then((r) => (r.ok ? (r.json() as Promise<ReportList>) : null))
          : null
        const name = result && (lang === 'zh' ? result.zh : result.en)
        setAnalysisName(name)
        // The online basemap when the server has one (and the planner shows it); the offline style otherwise.
        const cfg = await fetch('/api/config').then((r) => (r.ok ? (r.json() as Promise<ClientConfig>) : null), () => null)
        if (cfg?.basemap && visible.basemap) setAttribution(cfg.basemap.attribution)
        // A given view is printed as it is (no padding); a unit's box keeps a margin round its outline.
        map = new maplibregl.Map({
          container: mapRef.current!, transformRequest: resolveRelativeUrls, style: buildStyle(location.origin, cfg), bounds: bbox, fitBoundsOptions: { padding: q.get('bbox') ? 0 : 20 },
          attributionControl: false, interactive: false, localIdeographFontFamily: fontStack.join(', '), fadeDuration: 0, canvasContextAttributes: { preserveDrawingBuffer: true },
          locale: mapLocale(m),
        })
        mapObj.current = map
        for (const icon of makeIcons()) map.addImage(icon.name, icon.image, { pixelRatio: icon.pixelRatio })
        map.addControl(new maplibregl.ScaleControl({ unit: 'metric', maxWidth: 160 }), 'bottom-left')
        await map.once('load')
        if (result) {
          map.addSource('analysis', { type: 'geojson', data: result.geojson })
          const flag = ['case', ['to-boolean', ['get', '_flag']], '#ff1744', '#00bcd4'] as unknown as string
          map.addLayer({ id: 'analysis-fill', type: 'fill', source: 'analysis', filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': flag, 'fill-opacity': 0.45, 'fill-outline-color': '#ffffff' } })
          map.addLayer({ id: 'analysis-point', type: 'circle', source: 'analysis', filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-color': flag, 'circle-radius': 3, 'circle-stroke-color': '#fff', 'circle-stroke-width': 0.5 } })
        }
        if (reports) applyReports(map, reportsGeoJson(reports), true)
        applyVisibility(map, visible)
        // The legend is read off the drawn map; the sheet is ready once React has laid it out (the effect below).
        await drawnOut(map)
        setLegend(renderedLegend(map, m, name))
      } catch (e) {
        window.__printError = (e as Error).message
      }
    })()
    return () => map?.remove()
    // The sheet is made once, from its address.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [])

  useEffect(() => {
    if (!legend || !mapObj.current) return
    window.__printLegend = legend.map((e) => e.key)
    window.__printBounds = mapObj.current.getBounds().toArray().flat()
    window.__printReady = true
  }, [legend])

  return (
    <div className="print-sheet" style={{ width: `${w}mm`, height: `${h}mm` }} data-testid="print-sheet">
      <header className="print-title">{title}{analysisName ? ` · ${analysisName}` : ''}</header>
      <div className="print-map" ref={mapRef} data-testid="print-map">
        <svg className="print-north" viewBox="0 0 40 60" aria-label={t('print.north')}>
          <polygon points="20,4 32,44 20,36 8,44" fill="#111" />
          <text x="20" y="58" textAnchor="middle" fontSize="14" fontWeight="bold">N</text>
        </svg>
      </div>
      <aside className="print-legend" data-testid="print-legend">
        <h3>{t('print.legend')}</h3>
        {legend?.map((e) => (
          <div key={e.key} data-legend={e.key}><span className={`sw ${e.swatch}`} style={e.swatch === 'tri' ? { borderBottomColor: e.color } : { background: e.color, borderColor: e.swatch === 'line' || e.swatch === 'dash' ? e.color : undefined }} />{e.label}</div>
        ))}
      </aside>
      <footer className="print-foot">
        <span>{t('print.date')}: {when(new Date(), 'zh', { dateStyle: 'medium' })}</span>
        <span>{t('print.source')}{attribution ? ` · ${attribution}` : ''}</span>
      </footer>
    </div>
  )
}
