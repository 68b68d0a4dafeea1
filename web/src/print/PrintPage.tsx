/**
 * /print?unit=…&size=a4|a3&orient=landscape|portrait&title=…&bbox=w,s,e,n&analysis=…&p.<param>=…
 * A map sheet laid out in millimetres for the server's Chromium to print
 * (api/print/render.ts): title, the map (our tiles, plus an analysis result
 * when asked), legend, scale bar, north arrow, date and source. It sets
 * window.__printReady once the map has drawn everything, or __printError.
 */
import { useEffect, useRef, useState } from 'react'
import * as maplibregl from 'maplibre-gl'
import 'maplibre-gl/dist/maplibre-gl.css'
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?worker&url'
import { buildStyle, fontStack, makeIcons } from '../map/style.ts'
import { dangerColor, riskColor, shelterColor } from '../map/colors.ts'
import { useI18n } from '../i18n/index.tsx'
import './print.css'

declare global {
  interface Window { __printReady?: boolean; __printError?: string }
}

maplibregl.setWorkerUrl(workerUrl)

const paper = { a4: [297, 210], a3: [420, 297] } as const

export function PrintPage() {
  const { t } = useI18n()
  const q = new URLSearchParams(location.search)
  const size = q.get('size') === 'a3' ? 'a3' : 'a4'
  const portrait = q.get('orient') === 'portrait'
  const [w, h] = portrait ? [paper[size][1], paper[size][0]] : paper[size]
  const unit = q.get('unit') ?? '530600000000'
  const analysis = q.get('analysis')
  const mapRef = useRef<HTMLDivElement>(null)
  const [title, setTitle] = useState(q.get('title') ?? '')
  const [analysisName, setAnalysisName] = useState<string | null>(null)

  useEffect(() => {
    let map: maplibregl.Map | undefined
    void (async () => {
      try {
        const u = await (await fetch(`/api/units/${unit}`)).json()
        if (!q.get('title')) setTitle(u.name)
        const bbox = (q.get('bbox')?.split(',').map(Number) ?? u.bbox) as [number, number, number, number]
        map = new maplibregl.Map({
          container: mapRef.current!, style: buildStyle(location.origin, null), bounds: bbox, fitBoundsOptions: { padding: 20 },
          attributionControl: false, interactive: false, localIdeographFontFamily: fontStack.join(', '), fadeDuration: 0, canvasContextAttributes: { preserveDrawingBuffer: true },
        })
        for (const icon of makeIcons()) map.addImage(icon.name, icon.image, { pixelRatio: icon.pixelRatio })
        map.addControl(new maplibregl.ScaleControl({ unit: 'metric', maxWidth: 160 }), 'bottom-left')
        if (analysis) {
          const params = new URLSearchParams([...q].filter(([k]) => k.startsWith('p.')).map(([k, v]) => [k.slice(2), v]))
          params.set('unit', unit)
          const r = await fetch(`/api/analysis/${analysis}?${params}`)
          if (!r.ok) throw new Error(`analysis ${r.status}`)
          const res = await r.json()
          setAnalysisName(res.zh)
          await map.once('load')
          map.addSource('analysis', { type: 'geojson', data: res.geojson })
          const flag = ['case', ['get', '_flag'], '#ff1744', '#00bcd4'] as unknown as string
          map.addLayer({ id: 'analysis-fill', type: 'fill', source: 'analysis', filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': flag, 'fill-opacity': 0.45, 'fill-outline-color': '#ffffff' } })
          map.addLayer({ id: 'analysis-point', type: 'circle', source: 'analysis', filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-color': flag, 'circle-radius': 3, 'circle-stroke-color': '#fff', 'circle-stroke-width': 0.5 } })
        }
        map.once('idle', () => (window.__printReady = true))
        map.triggerRepaint()
      } catch (e) {
        window.__printError = (e as Error).message
      }
    })()
    return () => map?.remove()
    // The sheet is made once, from its address.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [])

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
        {analysisName && (
          <>
            <div><span className="sw" style={{ background: '#ff1744' }} />{analysisName}</div>
            <div><span className="sw" style={{ background: '#00bcd4' }} />{t('print.analysisOk')}</div>
          </>
        )}
        {(['red', 'yellow', 'green'] as const).map((k) => <div key={k}><span className="sw round" style={{ background: riskColor[k] }} />{t(`print.risk.${k}`)}</div>)}
        <div><span className="sw tri" style={{ borderBottomColor: dangerColor['中型'] }} />{t('print.hazard')}</div>
        <div><span className="sw" style={{ background: shelterColor }} />{t('print.shelter')}</div>
      </aside>
      <footer className="print-foot">
        <span>{t('print.date')}: {new Date().toLocaleDateString('zh-CN')}</span>
        <span>{t('print.source')}</span>
      </footer>
    </div>
  )
}
