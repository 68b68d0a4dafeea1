import { useState } from 'react'
import { useI18n } from '../i18n/index.tsx'
import { dangerColor, evacColor, reportColor, gridFill, progressColor, rainColor, riskColor, routeColor, shelterColor, type EvacStatus, type ProgressState } from '../map/colors.ts'
import type { GridMode } from '../map/style.ts'
import { ageOf, when } from '../i18n/when.ts'
import type { RainAge } from '../rain/useRainOnMap.ts'
import type { ProgressOnMap } from '../rain/useGridProgress.ts'

interface LegendProps {
  gridMode: GridMode
  /** How old the rain is (the server's, the same on every screen). */
  rain: RainAge | null
  /** Grids per 三查 state, shown beside the progress colours, and the storm events they are of. */
  progress: Pick<ProgressOnMap, 'counts' | 'events'>
  /** The transfer layer is shown: its dots, routes and shelter gauges are explained. */
  evacuation: boolean
  /** The problem reports layer is shown: its urgency colours and the overdue ring are explained. */
  reports?: boolean
  /** The hexagon view is on. */
  hexagons?: boolean
}

export function Legend(props: LegendProps) {
  const { t } = useI18n()
  // Open on a wall-sized screen; folded on a laptop, where it would cover the map.
  const [open, setOpen] = useState(() => window.innerWidth >= 1600)
  return (
    <section className={`panel legend${open ? '' : ' folded'}`} data-testid="legend">
      <h2>
        <button className="fold" aria-expanded={open} onClick={() => setOpen(!open)}>{open ? '▾' : '▸'} {t('legend.title')}</button>
      </h2>
      {open && <LegendRows {...props} />}
    </section>
  )
}

const progressStates: ProgressState[] = ['overdue', 'not_started', 'in_progress', 'done']

function LegendRows({ gridMode, rain, progress, evacuation, reports, hexagons }: LegendProps) {
  const { t, m, term, lang } = useI18n()
  const progressCounts = progress.counts
  // The storm the 三查 colours are of, when it is over: its checks are history, not work in progress.
  const over = progress.events.length > 0 && progress.events.every((e) => e.overAt)
    ? progress.events.map((e) => e.overAt!).sort().at(-1)! : null
  const stale = rain?.asOf && !rain.current
    ? t('rainLegend.stale', { age: t(`age.${ageOf(rain.ageMinutes ?? 0).unit}`, { n: ageOf(rain.ageMinutes ?? 0).n }), when: when(rain.asOf, lang) })
    : null
  return (
    <>
      {gridMode === 'progress' && (
        <div data-testid="legend-progress">
          {progressStates.map((k) => (
            <div key={k} className="legend-row" data-testid={`legend-progress-${k}`}>
              <span className="swatch" style={{ background: progressColor[k] }} />
              {t(`progressLegend.${k}`)}
              {progressCounts && <span className="small">{t('progressLegend.grids', { n: progressCounts[k] })}</span>}
            </div>
          ))}
          {progressCounts && progressCounts.missed > 0 && (
            <div className="legend-row muted" data-testid="legend-progress-missed">
              <span className="swatch" style={{ background: progressColor.none }} />
              {t('progressLegend.missed')}<span className="small">{t('progressLegend.grids', { n: progressCounts.missed })}</span>
            </div>
          )}
          <div className="legend-row"><span className="swatch" style={{ background: progressColor.none }} />{t('progressLegend.none')}</div>
          {over && <div className="legend-row small muted" data-testid="legend-progress-over">{t('progressLegend.over', { when: when(over, lang) })}</div>}
        </div>
      )}
      {gridMode === 'rain' && (
        <div className="legend-row" data-testid="legend-rain">
          <span className="swatches">
            {(['blue', 'yellow', 'orange', 'red'] as const).map((k) => <span key={k} className="swatch" title={t(`rainLegend.${k}`)} style={{ background: rainColor[k] }} />)}
          </span>
          <span className="small">
            {!rain?.asOf ? t('rainLegend.noData') : rain.current ? t('rainLegend.asOf', { when: when(rain.asOf, lang) }) : t('rainLegend.staleGrids')}
          </span>
        </div>
      )}
      {stale && (
        <div className="legend-row rain-stale" data-testid="legend-rain-stale">
          <span className="swatch" style={{ background: rainColor.stale }} /><span className="small">{stale}</span>
        </div>
      )}
      <div className="legend-row"><span className="dot" style={{ background: rainColor.alert, boxShadow: `0 0 6px ${rainColor.alert}` }} />{t('rainLegend.alert')}</div>
      <div className="legend-row"><span className="dot" style={{ background: riskColor.red }} />{t('legend.riskRed')}</div>
      <div className="legend-row"><span className="dot" style={{ background: riskColor.yellow }} />{t('legend.riskYellow')}</div>
      <div className="legend-row"><span className="dot" style={{ background: riskColor.green }} />{t('legend.riskGreen')}</div>
      {gridMode === 'risk' && (
        <div className="legend-row">
          <span className="swatches">
            {(['red', 'yellow', 'green'] as const).map((k) => <span key={k} className="swatch" style={{ background: gridFill[k] }} />)}
          </span>
          <span className="small">{t('legend.gridRule')}</span>
        </div>
      )}
      {hexagons && (
        <div className="legend-row" data-testid="legend-hexagons">
          <span className="swatches">
            {(['red', 'yellow', 'green'] as const).map((k) => <span key={k} className="swatch hex" style={{ background: gridFill[k] }} />)}
          </span>
          <span className="small">{t('hexagons.legend')}</span>
        </div>
      )}
      <div className="legend-row">
        <span className="nested"><span style={{ background: riskColor.green }} /><span style={{ background: riskColor.yellow }} /><span style={{ background: riskColor.red }} /></span>
        <span className="small">{t('legend.aggregate')}</span>
      </div>
      <div className="legend-row">
        <span className="tris">
          {Object.entries(dangerColor).map(([level, c]) => <span key={level} className="tri" title={term('dangerLevels', level)} style={{ borderBottomColor: c }} />)}
        </span>
        <span className="small">{t('legend.hazard')}</span>
      </div>
      <div className="legend-row"><span className="house" style={{ background: shelterColor }} />{t('legend.shelter')}</div>
      <div className="legend-row"><span className="dash" style={{ borderColor: routeColor }} />{t('legend.route')}</div>
      {reports && (
        <div data-testid="legend-reports">
          <div className="legend-row">
            <span className="swatches">
              {(['critical', 'urgent', 'normal'] as const).map((k) => (
                <span key={k} className="dot report-dot" title={m.reports.urgencies[k]} style={{ background: reportColor[k] }} />
              ))}
            </span>
            <span className="small">{t('legend.reports')}</span>
          </div>
          <div className="legend-row">
            <span className="dot report-dot overdue" style={{ background: reportColor.urgent, boxShadow: `0 0 0 3px ${reportColor.overdue}` }} />
            <span className="small">{t('legend.reportsOverdue')}</span>
          </div>
        </div>
      )}
      {evacuation && (
        <div data-testid="legend-evac">
          <div className="legend-row small">{t('legend.evacTitle')}</div>
          <div className="legend-chips">
            {(Object.keys(evacColor) as EvacStatus[]).map((k) => (
              <span key={k} className="legend-row" data-testid={`legend-evac-${k}`}>
                <span className="dot" style={{ background: evacColor[k] }} />{m.evac.statuses[k]}
              </span>
            ))}
          </div>
          <div className="legend-row"><span className="dot ringed" style={{ background: evacColor.not_notified }} /><span className="small">{t('legend.evacVulnerable')}</span></div>
          <div className="legend-row"><span className="dash solid" style={{ borderColor: evacColor.moving }} /><span className="small">{t('legend.evacRoute')}</span></div>
          <div className="legend-row"><span className="gauge"><span style={{ background: evacColor.at_shelter }} /></span><span className="small">{t('legend.evacShelter')}</span></div>
        </div>
      )}
    </>
  )
}
