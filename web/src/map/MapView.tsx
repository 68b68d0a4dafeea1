import 'maplibre-gl/dist/maplibre-gl.css'
import * as maplibregl from 'maplibre-gl'
// MapLibre 6 loads its worker from a separate module: let Vite bundle it.
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?worker&url'
import { Protocol } from 'pmtiles'
import { useEffect, useRef, useState } from 'react'
import type { BBox, ClientConfig } from '../api.ts'
import { useI18n } from '../i18n/index.tsx'
import type { Highlight, Overlay } from './overlay.ts'
import { applyGridStates, type RainOnMap } from './rainStates.ts'
import { applyVisibility, fontStack, gridFillColor, makeIcons, pickableLayers, type GridMode, type LayerGroup, buildStyle, warmUpStyle } from './style.ts'
import { evacTiles } from './evacStyle.ts'
import { applyReports } from './reportsLayer.ts'
import { applyHexagons } from './hexagons.ts'
import { whenStyleReady } from './when-style.ts'
import { exposeForTests, markFirstDraw, markStep } from './test-hooks.ts'
import { paintWhenLoaded, whenLoaded } from './paint-when-loaded.ts'
import { resolveRelativeUrls } from './resolve-url.ts'
import { mapLocale } from './locale.ts'

maplibregl.setWorkerUrl(workerUrl)
// The worker (a file as big as MapLibre itself) is started as soon as this module runs — the screen's
// chunk is fetched while the login form is shown (routes.tsx) — not when the first map is made.
maplibregl.prewarm()
// A PMTiles basemap (pmtiles://…) is read by range requests, with no tile server.
maplibregl.addProtocol('pmtiles', new Protocol().tile)

/** What every command map is made with, whether in advance (the spare) or when it opens. */
const mapOptions = {
  transformRequest: resolveRelativeUrls,
  localIdeographFontFamily: fontStack.join(', '),
  maxPitch: 0,
  // Labels show at once rather than fading in over 300 ms after each tile's placement: a command map
  // wants them read, and the map is not still (idle) until the last fade ends.
  fadeDuration: 0,
} satisfies Partial<maplibregl.MapOptions>

/**
 * A map made in advance, while the login form is shown: its WebGL context and painter cost 250–350 ms of the
 * page and of the GPU process on software GL (SwiftShader answers the new context's first call only once it
 * has set it up), which a map made after the login waited for. Off screen, with an empty style (nothing may be
 * asked for before the login); the first MapView takes it, gives it its style, view, texts and place.
 */
let spare: maplibregl.Map | null = null
let spareWanted = true

function makeSpareMap() {
  if (!spareWanted || spare) return
  const box = document.createElement('div')
  box.setAttribute('aria-hidden', 'true')
  box.style.cssText = 'position: fixed; inset: 0; visibility: hidden; pointer-events: none'
  document.body.appendChild(box)
  try {
    // Drawn once off screen with made-up features: the layers' shader programs are linked by the login.
    spare = new maplibregl.Map({ ...mapOptions, container: box, style: warmUpStyle(), attributionControl: false, center: [0, 0], zoom: 2 })
    for (const icon of makeIcons()) spare.addImage(icon.name, icon.image, { pixelRatio: icon.pixelRatio })
  } catch {
    // No WebGL: the map made after the login says why.
    box.remove()
  }
}

function takeSpareMap(): maplibregl.Map | null {
  spareWanted = false
  const map = spare
  spare = null
  return map
}

// After this module's own work, not within it: the login form stays answerable while the chunk arrives.
setTimeout(makeSpareMap, 0)

/** What a click on the map found, most specific first. */
export type Pick =
  | { kind: 'household' | 'hazard' | 'shelter' | 'grid'; id: number }
  | { kind: 'unit'; code: string }
  | { kind: 'report'; id: number }

export interface MapViewProps {
  config: ClientConfig | null
  visible: Record<LayerGroup, boolean>
  highlight: Highlight
  /** Fit the map to this box whenever the object changes. */
  target: { bbox: BBox; maxZoom?: number } | null
  gridMode: GridMode
  /** Signal colours per grid and alerts per hazard site, drawn as feature state. */
  rain: RainOnMap
  /** 三查 progress per grid id (done / in_progress / not_started / overdue), drawn as feature state. */
  progress: Map<number, string>
  /** Steps on every evacuation event: the transfer tiles are asked for again. */
  evacVersion: number
  /** A planning analysis result (web/src/planning), drawn over the tiles: red where the row is the problem. */
  analysis?: GeoJSON.FeatureCollection | null
  /** Open problem reports (web/src/reports/useReportsOnMap.ts), drawn by urgency over everything else. */
  reports?: GeoJSON.FeatureCollection
  /** The hexagon view (app/useHexagons.ts) and whether it is switched on. */
  hexagons?: GeoJSON.FeatureCollection | null
  hexagonsOn?: boolean
  onPick(pick: Pick): void
  /** The box the map shows, after each move (what "print the current view" prints). */
  onView?(bbox: BBox): void
  onError(message: string): void
  onTilesOk(): void
  /** The map once made (null when it goes): panels that draw on it (web/src/evac/useAreaDraw.ts). */
  onMap?(map: maplibregl.Map | null): void
  /** Something is being drawn on the map: clicks draw, they pick nothing. */
  drawing?: boolean
}

const ZHAOTONG: BBox = [102.87, 26.55, 105.32, 28.66]
/** Keeps what the map fits to clear of the side panels. */
const panelPadding = { top: 70, bottom: 30, left: 370, right: 40 }

function pickFrom(feature: maplibregl.MapGeoJSONFeature): Pick | undefined {
  const p = feature.properties as Record<string, string | number>
  switch (feature.layer.id) {
    case 'reports': return { kind: 'report', id: Number(p.id) }
    case 'households': return { kind: 'household', id: Number(p.id) }
    case 'hazards': return { kind: 'hazard', id: Number(p.id) }
    case 'shelters': return { kind: 'shelter', id: Number(p.id) }
    case 'grids-fill': return { kind: 'grid', id: Number(p.id) }
    case 'household-agg-total': return p.agg === 'grid' ? { kind: 'grid', id: Number(p.id) } : { kind: 'unit', code: String(p.code) }
    case 'admin-fill': return { kind: 'unit', code: String(p.code) }
  }
  return undefined
}

export function MapView(props: MapViewProps) {
  const el = useRef<HTMLDivElement>(null)
  const mapRef = useRef<maplibregl.Map | null>(null)
  const overlayRef = useRef<Overlay | null>(null)
  // The map has been idle once (its first tiles drawn): deck.gl is fetched only after that.
  const [settled, setSettled] = useState(false)
  // The target the map was made at (not flown to again), and whether it has been idle once: a target
  // that comes before the first map is drawn is jumped to, since nobody has seen a view to fly from.
  const shownRef = useRef<MapViewProps['target']>(null)
  const firstIdleRef = useRef(false)
  const propsRef = useRef(props)
  propsRef.current = props
  const { t, m } = useI18n()
  const tRef = useRef(t)
  const mRef = useRef(m)
  mRef.current = m
  tRef.current = t

  // The map is made once per basemap configuration; everything else is applied to it.
  useEffect(() => {
    let map: maplibregl.Map
    markStep('map')
    const startAt = propsRef.current.target
    shownRef.current = startAt
    firstIdleRef.current = false
    // Where the user is going when it is already known (their own county, a shared link's unit): the
    // first tiles asked for are that view's, with no city view loaded first and no flight to wait for.
    const bounds = startAt?.bbox ?? ZHAOTONG
    const fit = { padding: panelPadding, maxZoom: startAt?.maxZoom ?? 15 }
    const locale = mapLocale(mRef.current)
    const made = takeSpareMap()
    if (made) {
      map = made
      const box = map.getContainer()
      box.style.cssText = 'position: absolute; inset: 0'
      el.current!.appendChild(box)
      map._locale = { ...map._locale, ...locale }
      map.getCanvas().setAttribute('aria-label', locale['Map.Title'])
      map.resize()
      map.setStyle(buildStyle(location.origin, props.config), { diff: false })
      map.fitBounds(bounds, { ...fit, duration: 0 })
      if (props.config?.basemap) map.addControl(new maplibregl.AttributionControl({ compact: true }))
    } else {
      try {
        map = new maplibregl.Map({
          ...mapOptions, container: el.current!, style: buildStyle(location.origin, props.config), bounds, fitBoundsOptions: fit,
          attributionControl: props.config?.basemap ? { compact: true } : false, locale,
        })
      } catch (err) {
        propsRef.current.onError(tRef.current('errors.mapInit', { msg: (err as Error).message }))
        return
      }
    }
    mapRef.current = map
    paintWhenLoaded(map)
    for (const icon of makeIcons()) map.addImage(icon.name, icon.image, { pixelRatio: icon.pixelRatio })
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'bottom-right')
    map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left')
    exposeForTests(map)
    propsRef.current.onMap?.(map)

    map.on('error', (e) => {
      const msg = (e.error as Error | undefined)?.message ?? 'error'
      propsRef.current.onError(tRef.current('errors.tiles', { msg }))
    })
    const view = () => propsRef.current.onView?.(map.getBounds().toArray().flat() as BBox)
    map.once('style.load', () => markStep('style'))
    whenLoaded(map, () => {
      markStep('load')
      view()
    })
    map.on('moveend', view)
    map.on('idle', () => {
      firstIdleRef.current = true
      markFirstDraw(map)
      setSettled(true)
      propsRef.current.onTilesOk()
    })
    map.on('click', (e) => {
      if (propsRef.current.drawing) return
      const box: [maplibregl.PointLike, maplibregl.PointLike] = [[e.point.x - 4, e.point.y - 4], [e.point.x + 4, e.point.y + 4]]
      const layers = pickableLayers.filter((id) => map.getLayer(id))
      const found = map.queryRenderedFeatures(box, { layers: [...layers] })
      for (const id of pickableLayers) {
        const f = found.find((x) => x.layer.id === id)
        const pick = f && pickFrom(f)
        if (pick) return propsRef.current.onPick(pick)
      }
    })
    for (const id of pickableLayers) {
      map.on('mouseenter', id, () => (map.getCanvas().style.cursor = 'pointer'))
      map.on('mouseleave', id, () => (map.getCanvas().style.cursor = ''))
    }
    return () => {
      mapRef.current = null
      overlayRef.current = null
      setSettled(false)
      propsRef.current.onMap?.(null)
      map.remove()
    }
  }, [props.config])

  useEffect(() => {
    const map = mapRef.current
    if (!map) return
    const apply = () => applyVisibility(map, props.visible)
    whenStyleReady(map, apply)
  }, [props.visible, props.config])

  useEffect(() => {
    const map = mapRef.current
    if (!map) return
    const apply = () => {
      if (map.getLayer('grids-fill')) map.setPaintProperty('grids-fill', 'fill-color', gridFillColor(props.gridMode))
      applyGridStates(map, props.rain, props.progress)
    }
    whenStyleReady(map, apply)
  }, [props.gridMode, props.rain, props.progress, props.config])

  useEffect(() => {
    const source = mapRef.current?.getSource('evac') as maplibregl.VectorTileSource | undefined
    if (props.evacVersion && source) source.setTiles(evacTiles(location.origin, props.evacVersion))
  }, [props.evacVersion])

  useEffect(() => {
    const map = mapRef.current
    if (!map) return
    const apply = () => {
      const data = props.analysis ?? { type: 'FeatureCollection' as const, features: [] }
      const src = map.getSource('analysis') as maplibregl.GeoJSONSource | undefined
      if (src) return src.setData(data)
      map.addSource('analysis', { type: 'geojson', data })
      const colour: maplibregl.ExpressionSpecification = ['case', ['to-boolean', ['get', '_flag']], '#ff1744', '#00bcd4']
      map.addLayer({ id: 'analysis-fill', type: 'fill', source: 'analysis', filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': colour, 'fill-opacity': 0.45, 'fill-outline-color': '#ffffff' } })
      map.addLayer({ id: 'analysis-point', type: 'circle', source: 'analysis', filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-color': colour, 'circle-radius': 4, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1 } })
    }
    whenStyleReady(map, apply)
  }, [props.analysis, props.config])

  useEffect(() => {
    const map = mapRef.current
    if (!map || !props.reports) return
    const data = props.reports
    const apply = () => applyReports(map, data, propsRef.current.visible.reports)
    whenStyleReady(map, apply)
  }, [props.reports, props.config])

  useEffect(() => {
    const map = mapRef.current
    if (!map || (!props.hexagonsOn && !map.getSource('hexagons'))) return
    const data = props.hexagonsOn ? props.hexagons ?? null : null
    // Over the grid fill, under the outlines, household circles and labels.
    const apply = () => applyHexagons(map, data, { beforeId: 'admin-line', visible: !!props.hexagonsOn })
    whenStyleReady(map, apply)
  }, [props.hexagons, props.hexagonsOn, props.config])

  // deck.gl draws the highlights. Its code is a third of the page's: it is fetched the first time there is
  // something to highlight, and not before the first tiles are drawn, so that it never holds up the first map
  // (a county commander's own county is outlined from the start).
  useEffect(() => {
    const map = mapRef.current
    const h = props.highlight
    if (!map || !settled || (!h.area && !h.record && !overlayRef.current)) return
    let current = true
    import('./overlay.ts').then(({ createOverlay, highlightLayers }) => {
      if (!current || mapRef.current !== map) return
      if (!overlayRef.current) {
        overlayRef.current = createOverlay()
        map.addControl(overlayRef.current)
      }
      overlayRef.current.setProps({ layers: highlightLayers(h) })
    }, (err: Error) => {
      console.error(err)
      propsRef.current.onError(tRef.current('errors.page', { msg: err.message }))
    })
    return () => {
      current = false
    }
  }, [props.highlight, props.config, settled])

  useEffect(() => {
    const map = mapRef.current
    if (!map || !props.target || props.target === shownRef.current) return
    markStep('target')
    shownRef.current = props.target
    const [w, s, e, n] = props.target.bbox
    map.fitBounds([w, s, e, n], { padding: panelPadding, maxZoom: props.target.maxZoom ?? 15, duration: firstIdleRef.current ? 1200 : 0 })
  }, [props.target])

  return <div ref={el} className="map" data-testid="map" />
}
