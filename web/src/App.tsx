import { lazy, useCallback, useEffect, useMemo, useState } from 'react'
import { CITY_CODE } from './api.ts'
import { format, useI18n } from './i18n/index.tsx'
import { MapView, type Pick } from './map/MapView.tsx'
import { markStep } from './map/test-hooks.ts'
import { defaultVisible, prefetchTileJsons, type GridMode } from './map/style.ts'
import { useAuth } from './auth/AuthProvider.tsx'
import { useEvacTicks } from './live/useEvacTicks.ts'
import { useLiveFeed } from './live/useLiveFeed.ts'
import { useGridProgress } from './rain/useGridProgress.ts'
import { useRainOnMap } from './rain/useRainOnMap.ts'
import { apiMessage } from './panels/apiMessage.ts'
import { ErrorBanner } from './panels/ErrorBanner.tsx'
import { LayerSwitcher } from './panels/LayerSwitcher.tsx'
import { Legend } from './panels/Legend.tsx'
import { RecordPanel } from './panels/RecordPanel.tsx'
import { TopBar } from './panels/TopBar.tsx'
import type { AnalysisResult } from './planning/PlanningPanel.tsx'
import { UnitPanel } from './panels/UnitPanel.tsx'
import { readUrlState, writeUrlState } from './urlState.ts'
import { LazyPanel as Panel } from './ChunkBoundary.tsx'
import { useCriticalAlarm } from './reports/alarm.ts'
import type { ReportEvent } from './reports/types.ts'
import { useReportsOnMap } from './reports/useReportsOnMap.ts'
import { useMapConfig } from './app/useMapConfig.ts'
import { useMapLink } from './app/useMapLink.ts'
import { useOpenPanels } from './app/useOpenPanels.ts'
import { useProblems } from './app/useProblems.ts'
import { useSelection } from './app/useSelection.ts'
import { ServerWorkNote } from './app/ServerWorkNote.tsx'
import { useHexagons } from './app/useHexagons.ts'

// Panels a user opens, each its own chunk: the first screen of the map does not wait for them (the transfer
// panel carries the area drawing tool).
const EvacPanel = lazy(() => import('./evac/EvacPanel.tsx').then((m) => ({ default: m.EvacPanel })))
const PlanningPanel = lazy(() => import('./planning/PlanningPanel.tsx').then((m) => ({ default: m.PlanningPanel })))
const ChecksPanel = lazy(() => import('./panels/ChecksPanel.tsx').then((m) => ({ default: m.ChecksPanel })))
const ReportsPanel = lazy(() => import('./reports/ReportsPanel.tsx').then((m) => ({ default: m.ReportsPanel })))

/**
 * The command map: the map, the chosen area's panel, the layer list and the
 * panels a user opens. A composition of hooks: the selection and where the map
 * goes (app/useSelection.ts), the open panels (app/useOpenPanels.ts), the
 * problems banner (app/useProblems.ts), what panels need of the map
 * (app/useMapLink.ts); the address follows the selection and the open panels.
 */
export function App() {
  const { lang, m } = useI18n()
  const initial = useMemo(readUrlState, [])
  const { me } = useAuth()
  useEffect(() => {
    markStep('app')
    prefetchTileJsons(location.origin)
  }, [])
  // With no unit in the address, a user opens on their own area (a county commander on the county, where
  // orders can be issued), not on the whole city.
  const home = me.user.unitCode.slice(0, 12)
  const sel = useSelection(initial, home, me.home?.code === home ? me.home.bbox : undefined)
  const { unitCode, unit, recordRef, record, selectUnit, openRecord } = sel
  const panels = useOpenPanels(initial)
  const { setReportsOpen, setReportId } = panels
  const { problems, report, clear, add } = useProblems()
  const link = useMapLink()
  const [visible, setVisible] = useState(defaultVisible)
  const [gridMode, setGridMode] = useState<GridMode>('risk')
  const [hexagonsOn, setHexagonsOn] = useState(false)
  const [analysis, setAnalysis] = useState<AnalysisResult | null>(null)
  const feed = useLiveFeed()
  // Problem reports (问题上报): the layer, and the duty desk's alarm.
  const reportsOnMap = useReportsOnMap(visible.reports, me.user.unitCode, feed)
  const onAlarm = useCallback((e: ReportEvent) => add({
    id: `alarm-${e.id}`, message: format(m.reports.alarm, { id: e.id, level: m.reports.levels[e.level] }),
  }), [m, add])
  useCriticalAlarm(feed, me.user.unitCode, onAlarm)

  // Transfer tiles follow the live feed.
  const evacVersion = useEvacTicks(feed)

  useEffect(() => {
    if (feed.state === 'down') report({ id: 'feed', message: m.evac.feed.down })
    else clear('feed')
  }, [feed.state, m, report, clear])

  const config = useMapConfig((err) => report({ id: 'config', message: apiMessage(err, lang, m) }))

  // Rain over the user's whole area, not only the chosen unit: the map shows more than one unit.
  const rain = useRainOnMap(me.user.unitCode.slice(0, 12), (err) => report({ id: 'rain', message: apiMessage(err, lang, m) }))
  // The hexagon view of the user's whole area, as rain is.
  const hexagons = useHexagons(hexagonsOn, me.user.unitCode.slice(0, 12), link.map, (err) => report({ id: 'hexagons', message: apiMessage(err, lang, m) }))
  const progress = useGridProgress(gridMode === 'progress', (err) => report({ id: 'progress', message: apiMessage(err, lang, m) }))

  const { order, evacOpen, reportsOpen, reportId } = panels
  useEffect(() => writeUrlState({
    unit: unitCode === CITY_CODE ? null : unitCode, record: recordRef, order: evacOpen ? order : null, report: reportsOpen ? reportId : null,
  }), [unitCode, recordRef, order, evacOpen, reportsOpen, reportId])

  const { retry } = sel
  useEffect(() => {
    if (unit.state === 'error') report({ id: 'unit', message: apiMessage(unit.error, lang, m), retry })
    else if (unit.state === 'ok') clear('unit')
  }, [unit, lang, m, report, clear, retry])

  const onPick = useCallback(
    (pick: Pick) => {
      if (pick.kind === 'unit') return selectUnit(pick.code)
      if (pick.kind !== 'report') return openRecord(pick.kind, pick.id)
      setReportsOpen(true)
      setReportId(pick.id)
    },
    [selectUnit, openRecord, setReportsOpen, setReportId],
  )

  return (
    <div className="app">
      {config !== undefined && sel.placed && (
        <MapView
          config={config}
          visible={visible}
          highlight={sel.highlight}
          target={sel.target}
          gridMode={gridMode}
          rain={rain.rain}
          progress={progress.grids}
          evacVersion={evacVersion}
          analysis={analysis?.geojson ?? null}
          reports={reportsOnMap}
          hexagons={hexagons}
          hexagonsOn={hexagonsOn}
          onPick={onPick}
          onMap={link.setMap}
          drawing={link.drawing}
          onView={link.setView}
          onError={(message) => report({ id: 'map', message })}
          onTilesOk={() => clear('map')}
        />
      )}
      <TopBar onPlanning={() => panels.setPlanningOpen((o) => !o)} onReports={() => setReportsOpen((o) => !o)} />
      <ErrorBanner problems={problems} onDismiss={clear} />
      <ServerWorkNote />
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
          checksOpen={panels.checksOpen}
          onChecks={panels.setChecksOpen}
          evacOpen={evacOpen}
          onEvac={panels.setEvacOpen}
          planningOpen={panels.planningOpen}
          recordOpen={recordRef !== null}
          reportsOpen={reportsOpen}
          hexagons={hexagonsOn}
          onHexagons={setHexagonsOn}
        />
        {reportsOpen && (
          <Panel>
            <ReportsPanel
              unitCode={unitCode}
              unit={unit.state === 'ok' ? unit.data : null}
              feed={feed}
              selected={reportId}
              onSelect={setReportId}
              map={link.map}
              onDrawing={link.setDrawing}
              onClose={() => setReportsOpen(false)}
              onFly={sel.flyToPoint}
              onOpenSite={(id) => openRecord('hazard', id, true)}
            />
          </Panel>
        )}
        {evacOpen && (
          <Panel>
            <EvacPanel
              unitCode={unitCode}
              unitName={unit.state === 'ok' ? unit.data.name : unitCode}
              feed={feed}
              selected={order}
              onSelect={panels.setOrder}
              map={link.map}
              onDrawing={link.setDrawing}
              onClose={() => panels.setEvacOpen(false)}
              onFly={sel.flyToPoint}
              onOpenReport={(id) => {
                setReportsOpen(true)
                setReportId(id)
              }}
            />
          </Panel>
        )}
        {panels.planningOpen && (
          <Panel>
            <PlanningPanel unitCode={unitCode} unitName={unit.state === 'ok' ? unit.data.name : unitCode} view={link.view} visible={visible} onResult={setAnalysis} onClose={() => panels.setPlanningOpen(false)} />
          </Panel>
        )}
        {panels.checksOpen && (
          <Panel>
            <ChecksPanel unitCode={unitCode} scope={me.user.unitCode} onClose={() => panels.setChecksOpen(false)} />
          </Panel>
        )}
        {recordRef && (
          <RecordPanel
            kind={recordRef.kind}
            record={record}
            onClose={sel.closeRecord}
            onFlyTo={sel.flyToRecord}
            onOpen={(kind, id) => openRecord(kind, id, true)}
            onRetry={retry}
            map={link.map}
          />
        )}
      </aside>
      <div className="bottom-left">
        <Legend gridMode={gridMode} rain={rain.age} progress={progress} evacuation={visible.evacuation} reports={visible.reports} hexagons={hexagonsOn} />
      </div>
    </div>
  )
}
