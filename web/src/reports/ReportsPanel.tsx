import type * as maplibregl from 'maplibre-gl'
import { useCallback, useState } from 'react'
import { inScope } from '../../../core/units.ts'
import type { UnitSummary } from '../api.ts'
import { useAuth } from '../auth/AuthProvider.tsx'
import { useI18n } from '../i18n/index.tsx'
import { reportAge } from './age.ts'
import type { LiveFeed } from '../live/useLiveFeed.ts'
import { apiMessage } from '../panels/apiMessage.ts'
import { useApi } from '../useApi.ts'
import { PhoneReportForm } from './PhoneReportForm.tsx'
import { ReportImport } from './ReportImport.tsx'
import { ReportRecord } from './ReportRecord.tsx'
import { ReportRulesForm } from './ReportRulesForm.tsx'
import type { ReportList, ReportRow, ReportTypes, Urgency } from './types.ts'
import { useEvery, useReportTicks } from './useReportTicks.ts'

type StateFilter = 'open' | 'closed' | 'all'
const urgencies: Urgency[] = ['critical', 'urgent', 'normal']

export interface ReportsPanelProps {
  unitCode: string
  /** The chosen area's summary (its name, its centre for a phone report), when loaded. */
  unit: UnitSummary | null
  feed: LiveFeed
  /** The report open in the panel (also opened by a click on the map). */
  selected: number | null
  onSelect(id: number | null): void
  map: maplibregl.Map | null
  onDrawing(on: boolean): void
  onClose(): void
  onFly(lon: number, lat: number): void
  /** Opens a hazard site's record (the site a report is at, or proposed from it). */
  onOpenSite(id: number): void
}

/**
 * 问题上报: the reports of the chosen area (the user's own when the chosen one
 * is wider) with their counts and filters, live; a report's record with its
 * timeline and the actions the user may take; the duty phone's form.
 */
export function ReportsPanel({ unitCode: chosen, unit, feed, selected, onSelect, map, onDrawing, onClose, onFly, onOpenSite }: ReportsPanelProps) {
  const { t, m, lang, num } = useI18n()
  const { me, may } = useAuth()
  const scope = me.user.unitCode
  const unitCode = inScope(scope, chosen) ? chosen : scope
  const [state, setState] = useState<StateFilter>('open')
  const [urgency, setUrgency] = useState<Urgency | null>(null)
  const [overdue, setOverdue] = useState(false)
  const [filing, setFiling] = useState(false)
  const [editingRules, setEditingRules] = useState(false)
  const [rulesRead, setRulesRead] = useState(0)
  const [reload, setReload] = useState(0)
  const tick = useReportTicks(feed, unitCode)
  const minute = useEvery(60_000)
  const path = `/api/reports?unit=${unitCode}&state=${state}${urgency ? `&urgency=${urgency}` : ''}${overdue ? '&overdue=true' : ''}&limit=200`
  const list = useApi<ReportList>(path, tick + minute + reload)
  const types = useApi<ReportTypes>('/api/reports/types', rulesRead)
  const typeName = useCallback((code: string) => {
    const found = types.state === 'ok' ? types.data.types.find((x) => x.code === code) : undefined
    return found ? found[lang] : t('unknown')
  }, [types, lang, t])
  const changed = useCallback(() => setReload((n) => n + 1), [])
  const counts = list.state === 'ok' ? list.data.counts : null

  return (
    <section className="panel reports" data-testid="reports-panel">
      <header>
        <h2>{t('reports.title')}</h2>
        <span className={`feed ${feed.state}`} title={t('evac.feedTip')}>{m.evac.feed[feed.state]}</span>
        <button className="close" aria-label={t('close')} onClick={onClose}>×</button>
      </header>
      {unit?.code === unitCode && <div className="small">{t('reports.area', { name: unit.name })}</div>}
      <div className="report-counts" data-testid="report-counts">
        {counts && (
          <>
            <span><strong data-testid="count-open">{num(counts.open)}</strong> {m.reports.counts.open}</span>
            <span className={counts.overdue ? 'late' : 'muted'}><strong data-testid="count-overdue">{num(counts.overdue)}</strong> {m.reports.counts.overdue}</span>
            {urgencies.map((u) => (
              <span key={u}><strong>{num(counts[u])}</strong> <span className={`urgency u-${u}`}>{m.reports.counts[u]}</span></span>
            ))}
          </>
        )}
      </div>
      {editingRules && types.state === 'ok' ? (
        <ReportRulesForm types={types.data} onSaved={() => setRulesRead((n) => n + 1)} onClose={() => setEditingRules(false)} />
      ) : filing ? (
        <PhoneReportForm
          unit={unit}
          types={types.state === 'ok' ? types.data : null}
          map={map}
          onDrawing={onDrawing}
          onCancel={() => setFiling(false)}
          onFiled={(id) => {
            setFiling(false)
            changed()
            onSelect(id)
          }}
        />
      ) : selected !== null ? (
        <ReportRecord id={selected} tick={tick} typeName={typeName} onBack={() => onSelect(null)} onFly={onFly} onOpenSite={onOpenSite} onChanged={changed} />
      ) : (
        <>
          {may('report.file') && <button className="toggle" data-testid="phone-report-open" onClick={() => setFiling(true)}>{t('reports.phone.open')}</button>}
          {may('report.file') && <ReportImport onDone={changed} />}
          {/* The limits are the whole city's: offered to a city-level account that may manage the rules (core/policy.ts mayDo). */}
          {may('task.manage') && <button className="toggle" data-testid="report-rules-open" onClick={() => setEditingRules(true)}>{t('reports.rules.open')}</button>}
          <div className="tabs" data-testid="report-state-filter">
            {(['open', 'closed', 'all'] as const).map((s) => (
              <button key={s} className={s === state ? 'on' : ''} onClick={() => setState(s)} data-testid={`report-state-${s}`}>{m.reports.stateFilter[s]}</button>
            ))}
          </div>
          <div className="tabs small-tabs">
            <button className={urgency === null ? 'on' : ''} onClick={() => setUrgency(null)}>{t('reports.anyUrgency')}</button>
            {urgencies.map((u) => (
              <button key={u} className={urgency === u ? 'on' : ''} onClick={() => setUrgency(u)} data-testid={`report-urgency-${u}`}>{m.reports.urgencies[u]}</button>
            ))}
            <button className={overdue ? 'on' : ''} aria-pressed={overdue} onClick={() => setOverdue(!overdue)} data-testid="report-overdue">{t('reports.overdueOnly')}</button>
          </div>
          {list.state === 'error' && <p className="error">{apiMessage(list.error, lang, m)}</p>}
          {list.state === 'ok' && (
            <ol className="report-list" data-testid="report-list">
              {list.data.reports.length === 0 && <li className="muted">{t('reports.none')}</li>}
              {list.data.reports.map((r) => (
                <ReportListRow key={r.id} r={r} typeName={typeName} onOpen={() => {
                  onSelect(r.id)
                  onFly(r.lng, r.lat)
                }} />
              ))}
              {list.data.total > list.data.reports.length && <li className="muted">{t('reports.more', { n: list.data.total - list.data.reports.length })}</li>}
            </ol>
          )}
        </>
      )}
    </section>
  )
}

function ReportListRow({ r, typeName, onOpen }: { r: ReportRow; typeName(code: string): string; onOpen(): void }) {
  const { t, m } = useI18n()
  return (
    <li className={r.overdue ? 'late' : ''} data-report={r.id}>
      <button className="report-row" onClick={onOpen}>
        <span className="report-row-head">
          <span className={`urgency u-${r.urgency}`}>{m.reports.urgencies[r.urgency]}</span>
          <strong>{typeName(r.type)}</strong>
          {r.overdue && <span className="overdue-badge">{t('reports.overdue')}</span>}
        </span>
        <span className="small">
          {r.gridName ?? t('unknown')} · {m.reports.levels[r.level]} · {m.reports.states[r.state]} · {reportAge(r.reportedAt, t)}
        </span>
      </button>
    </li>
  )
}
