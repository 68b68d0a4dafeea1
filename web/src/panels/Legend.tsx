import { useState } from 'react'
import { useI18n } from '../i18n/index.tsx'
import { dangerColor, gridFill, progressColor, rainColor, riskColor, routeColor, shelterColor, type ProgressState } from '../map/colors.ts'
import type { GridMode } from '../map/style.ts'
import { when } from '../i18n/when.ts'

interface LegendProps {
  gridMode: GridMode
  rainAsOf: string | null
  /** Grids per 三查 state, shown beside the progress colours. */
  progressCounts: Record<ProgressState, number> | null
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

function LegendRows({ gridMode, rainAsOf, progressCounts }: LegendProps) {
  const { t, term, lang } = useI18n()
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
          <div className="legend-row"><span className="swatch" style={{ background: progressColor.none }} />{t('progressLegend.none')}</div>
        </div>
      )}
      {gridMode === 'rain' && (
        <div className="legend-row" data-testid="legend-rain">
          <span className="swatches">
            {(['blue', 'yellow', 'orange', 'red'] as const).map((k) => <span key={k} className="swatch" title={t(`rainLegend.${k}`)} style={{ background: rainColor[k] }} />)}
          </span>
          <span className="small">
            {rainAsOf ? t('rainLegend.asOf', { when: when(rainAsOf, lang) }) : t('rainLegend.noData')}
          </span>
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
    </>
  )
}
