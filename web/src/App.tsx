import type * as maplibregl from 'maplibre-gl'
import { useCallback, useEffect, useMemo, useState } from 'react'
import { CITY_CODE, getJson, recordPath, type BBox, type ClientConfig, type RecordKind, type RecordTypes, type UnitSummary } from './api.ts'
import { useI18n } from './i18n/index.tsx'
import { MapView, type Pick } from './map/MapView.tsx'
import type { Highlight } from './map/overlay.ts'
import { defaultVisible, type GridMode } from './map/style.ts'
import { useAuth } from './auth/AuthProvider.tsx'
import { ChecksPanel } from './panels/ChecksPanel.tsx'
import { EvacPanel } from './evac/EvacPanel.tsx'
import { useEvacTicks } from './live/useEvacTicks.ts'
import { useLiveFeed } from './live/useLiveFeed.ts'
import { useGridProgress } from './rain/useGridProgress.ts'
import { useRainOnMap } from './rain/useRainOnMap.ts'
import { apiMessage } from './panels/apiMessage.ts'
import { ErrorBanner, type Problem } from './panels/ErrorBanner.tsx'
import { LayerSwitcher } from './panels/LayerSwitcher.tsx'
import { Legend } from './panels/Legend.tsx'
import { RecordPanel } from './panels/RecordPanel.tsx'
import { TopBar } from './panels/TopBar.tsx'
import { PlanningPanel, type AnalysisResult } from './planning/PlanningPanel.tsx'
import { UnitPanel } from './panels/UnitPanel.tsx'
import { readUrlState, writeUrlState, type RecordRef } from './urlState.ts'
import { useApi } from './useApi.ts'

/** Where a record sits, for the highlight and the "zoom to" button. */
function recordGeometry(kind: RecordKind, r: RecordTypes[RecordKind]): { geometry: GeoJSON.Geometry; bbox: BBox } {
  if (kind === 'grid') {
    const g = r as RecordTypes['grid']
    return { geometry: g.outline, bbox: g.bbox }
  }
  const p = r as { lon: number; lat: number }
  const d = 0.002
  return { geometry: { type: 'Point', coordinates: [p.lon, p.lat] }, bbox: [p.lon - d, p.lat - d, p.lon + d, p.lat + d] }
}

export function App() {
  const { lang, m } = useI18n()
  const initial = useMemo(readUrlState, [])
  const { me } = useAuth()
  // With no unit in the address, a user opens on their own area (a county commander on the county, where
  // orders can be issued), not on the whole city.
  const home = me.user.unitCode.slice(0, 12)
  const [unitCode, setUnitCode] = useState(initial.unit ?? home)
  const [recordRef, setRecordRef] = useState<RecordRef | null>(initial.record)
  const [retry, setRetry] = useState(0)
  const [visible, setVisible] = useState(defaultVisible)
  const [target, setTarget] = useState<{ bbox: BBox; maxZoom?: number } | null>(null)
  const [flyOnLoad, setFlyOnLoad] = useState(initial.unit !== null || initial.record !== null || home !== CITY_CODE)
  const [problems, setProblems] = useState<Problem[]>([])
  const [config, setConfig] = useState<ClientConfig | null | undefined>(undefined)
  const [gridMode, setGridMode] = useState<GridMode>('risk')
  const [checksOpen, setChecksOpen] = useState(false)
  const [planningOpen, setPlanningOpen] = useState(false)
  const [analysis, setAnalysis] = useState<AnalysisResult | null>(null)
  const [view, setView] = useState<BBox | null>(null)
  const [evacOpen, setEvacOpen] = useState(initial.order !== null)
  const [order, setOrder] = useState<number | null>(initial.order)
  // The map itself, for an order's area drawn on it; while drawing, clicks there open nothing.
  const [map, setMap] = useState<maplibregl.Map | null>(null)
  const [drawing, setDrawing] = useState(false)
  const feed = useLiveFeed()

  // Transfer tiles follow the live feed.
  const evacVersion = useEvacTicks(feed)

  const report = useCallback((p: Problem) => setProblems((ps) => [...ps.filter((x) => x.id !== p.id), p]), [])
  const clear = useCallback((id: string) => setProblems((ps) => (ps.some((x) => x.id === id) ? ps.filter((x) => x.id !== id) : ps)), [])
  useEffect(() => {
    if (feed.state === 'down') report({ id: 'feed', message: m.evac.feed.down })
    else clear('feed')
  }, [feed.state, m, report, clear])

  // Without /api/config the map still runs, offline style only.
  useEffect(() => {
    getJson<ClientConfig>('/api/config').then(setConfig, (err) => {
      setConfig(null)
      report({ id: 'config', message: apiMessage(err, lang, m) })
    })
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [])

  const unit = useApi<UnitSummary>(`/api/units/${unitCode}`, retry)
  // Rain over the user's whole area, not only the chosen unit: the map shows more than one unit.
  const rain = useRainOnMap(me.user.unitCode.slice(0, 12), (err) => report({ id: 'rain', message: apiMessage(err, lang, m) }))
  const progress = useGridProgress(gridMode === 'progress', (err) => report({ id: 'progress', message: apiMessage(err, lang, m) }))
  const record = useApi<RecordTypes[RecordKind]>(recordRef ? `/api/${recordPath[recordRef.kind]}/${recordRef.id}` : null, retry)

  useEffect(() => writeUrlState({ unit: unitCode === CITY_CODE ? null : unitCode, record: recordRef, order: evacOpen ? order : null }), [unitCode, recordRef, order, evacOpen])

  useEffect(() => {
    if (unit.state === 'error') report({ id: 'unit', message: apiMessage(unit.error, lang, m), retry: () => setRetry((n) => n + 1) })
    else if (unit.state === 'ok') clear('unit')
  }, [unit, lang, m, report, clear])

  // A unit chosen from the panel (or given in the URL) flies the map there once it has loaded.
  useEffect(() => {
    if (flyOnLoad && unit.state === 'ok' && !recordRef) {
      setTarget({ bbox: unit.data.bbox, maxZoom: 14 })
      setFlyOnLoad(false)
    }
  }, [flyOnLoad, unit, recordRef])
  useEffect(() => {
    if (flyOnLoad && record.state === 'ok' && recordRef) {
      setTarget({ bbox: recordGeometry(recordRef.kind, record.data).bbox, maxZoom: 16 })
      setFlyOnLoad(false)
    }
  }, [flyOnLoad, record, recordRef])

  const selectUnit = useCallback((code: string) => {
    setUnitCode(code)
    setFlyOnLoad(true)
  }, [])
  const openRecord = useCallback((kind: RecordKind, id: number, fly = false) => {
    setRecordRef({ kind, id })
    if (fly) setFlyOnLoad(true)
  }, [])
  const onPick = useCallback(
    (pick: Pick) => (pick.kind === 'unit' ? selectUnit(pick.code) : openRecord(pick.kind, pick.id)),
    [selectUnit, openRecord],
  )

  const highlight = useMemo<Highlight>(
    () => ({
      area: unit.state === 'ok' && unit.data.level !== 'city' ? unit.data.outline : null,
      record: record.state === 'ok' && recordRef ? { geometry: recordGeometry(recordRef.kind, record.data).geometry } : null,
    }),
    [unit, record, recordRef],
  )

  return (
    <div className="app">
      {config !== undefined && (
        <MapView
          config={config}
          visible={visible}
          highlight={highlight}
          target={target}
          gridMode={gridMode}
          rain={rain.rain}
          progress={progress.grids}
          evacVersion={evacVersion}
          analysis={analysis?.geojson ?? null}
          onPick={onPick}
          onMap={setMap}
          drawing={drawing}
          onView={setView}
          onError={(message) => report({ id: 'map', message })}
          onTilesOk={() => clear('map')}
        />
      )}
      <TopBar onPlanning={() => setPlanningOpen((o) => !o)} />
      <ErrorBanner problems={problems} onDismiss={clear} />
      <aside className="left">
        <UnitPanel unit={unit} code={unitCode} onSelect={selectUnit} />
      </aside>
      <aside className="right">
        <LayerSwitcher
          visible={visible}
          hasBasemap={!!config?.basemap}
          onChange={(g, on) => setVisible((v) => ({ ...v, [g]: on }))}
          gridMode={gridMode}
          onGridMode={setGridMode}
          checksOpen={checksOpen}
          onChecks={setChecksOpen}
          evacOpen={evacOpen}
          onEvac={setEvacOpen}
        />
        {evacOpen && (
          <EvacPanel
            unitCode={unitCode}
            unitName={unit.state === 'ok' ? unit.data.name : unitCode}
            feed={feed}
            selected={order}
            onSelect={setOrder}
            map={map}
            onDrawing={setDrawing}
            onClose={() => setEvacOpen(false)}
            onFly={(lon, lat) => setTarget({ bbox: [lon - 0.002, lat - 0.002, lon + 0.002, lat + 0.002], maxZoom: 16 })}
          />
        )}
        {planningOpen && <PlanningPanel unitCode={unitCode} view={view} visible={visible} onResult={setAnalysis} onClose={() => setPlanningOpen(false)} />}
        {checksOpen && <ChecksPanel unitCode={unitCode} scope={me.user.unitCode} onClose={() => setChecksOpen(false)} />}
        {recordRef && (
          <RecordPanel
            kind={recordRef.kind}
            record={record}
            onClose={() => setRecordRef(null)}
            onFlyTo={() => record.state === 'ok' && setTarget({ bbox: recordGeometry(recordRef.kind, record.data).bbox, maxZoom: 16 })}
            onOpen={(kind, id) => openRecord(kind, id, true)}
            onRetry={() => setRetry((n) => n + 1)}
          />
        )}
      </aside>
      <div className="bottom-left">
        <Legend gridMode={gridMode} rainAsOf={rain.asOf} progressCounts={progress.counts} />
      </div>
    </div>
  )
}
