import type * as maplibregl from 'maplibre-gl'
import { useEffect, useState } from 'react'
import { sendJson } from '../api.ts'
import { useAuth } from '../auth/AuthProvider.tsx'
import { useI18n } from '../i18n/index.tsx'
import type { LiveFeed } from '../live/useLiveFeed.ts'
import { useEvacTicks } from '../live/useEvacTicks.ts'
import { evacColor, type EvacStatus } from '../map/colors.ts'
import { apiMessage } from '../panels/apiMessage.ts'
import { useApi } from '../useApi.ts'
import { IssueOrderForm } from './IssueOrderForm.tsx'
import { evacStatuses, nextStatus, type HouseholdList, type OrderProgress, type OrderRow, type Proposal, type TransferRow } from './types.ts'
import { when } from '../i18n/when.ts'

/**
 * 转移避险: the 1262 ladder's proposals, open orders, and one order's progress
 * (status counts, roll-up per child unit, shelters filling, exceptions) with
 * the households to move along — live on every open screen.
 */
export function EvacPanel({ unitCode, unitName, feed, selected, onSelect, map, onDrawing, onClose, onFly, onOpenReport }: {
  unitCode: string
  unitName: string
  feed: LiveFeed
  selected: number | null
  onSelect(id: number | null): void
  /** The command map, where an order's area is drawn. */
  map: maplibregl.Map | null
  onDrawing(on: boolean): void
  onClose(): void
  onFly(lon: number, lat: number): void
  /** Opens the problem report an order was started from. */
  onOpenReport(id: number): void
}) {
  const { t, m, num } = useI18n()
  const { may } = useAuth()
  const tick = useEvacTicks(feed)
  const [reload, setReload] = useState(0)
  const [form, setForm] = useState<Proposal | 'new' | null>(null)
  const [view, setView] = useState<string | null>(null)
  const orders = useApi<{ orders: OrderRow[] }>('/api/evacuation/orders?status=active', tick + reload)
  const proposals = useApi<{ proposals: Proposal[] }>(may('order.issue') ? '/api/evacuation/proposals' : null, tick + reload)
  useEffect(() => setView(null), [selected])

  return (
    <section className="panel evac" data-testid="evac-panel">
      <header>
        <h2>{t('evac.title')}</h2>
        <span className={`feed ${feed.state}`} data-testid="feed-state" title={t('evac.feedTip')}>{m.evac.feed[feed.state]}</span>
        <button className="close" aria-label={t('close')} onClick={onClose}>×</button>
      </header>
      {proposals.state === 'ok' && proposals.data.proposals.length > 0 && !form && (
        <div className="evac-proposals" data-testid="evac-proposals">
          <h3>{t('evac.proposals')}</h3>
          {proposals.data.proposals.map((p) => (
            <div key={`${p.eventId}/${p.step}/${p.township}`} className="proposal">
              <span>{t('evac.proposalLine', { name: p.townshipName, step: m.evac.steps[p.step], stage: m.evac.stages[p.stage], sites: p.sites.length })}</span>
              <button onClick={() => setForm(p)}>{t('evac.review')}</button>
            </div>
          ))}
        </div>
      )}
      {form ? (
        <IssueOrderForm
          unitCode={unitCode}
          unitName={unitName}
          proposal={form === 'new' ? null : form}
          map={map}
          onDrawing={onDrawing}
          onCancel={() => setForm(null)}
          onIssued={(o) => {
            setForm(null)
            setReload((n) => n + 1)
            onSelect(o.id)
          }}
        />
      ) : (
        may('order.issue') && (unitCode.length === 12 && !unitCode.endsWith('00000000')
          ? <button className="toggle" data-testid="evac-new" onClick={() => setForm('new')}>{t('evac.newOrder')}</button>
          : <div className="muted" data-testid="evac-pick-area">{t('evac.pickAreaToIssue')}</div>)
      )}
      {orders.state === 'ok' && (
        <div className="evac-orders" data-testid="evac-orders">
          {orders.data.orders.length === 0 && <div className="muted">{t('evac.noOrders')}</div>}
          {orders.data.orders.map((o) => (
            <button key={o.id} className={`order ${o.id === selected ? 'on' : ''}`} onClick={() => onSelect(o.id === selected ? null : o.id)} data-testid={`evac-order-${o.id}`}>
              <span className="name">{o.title}</span>
              <span className="muted">{o.unitName ?? o.unitCode} · {m.evac.stages[o.stage]}</span>
              <span className="bar"><span style={{ width: `${o.households ? (100 * o.safe) / o.households : 0}%` }} /></span>
              <span>{t('evac.safeOf', { safe: num(o.safe), total: num(o.households) })}</span>
            </button>
          ))}
        </div>
      )}
      {selected && <OrderDetail id={selected} view={view} onView={setView} tick={tick} onFly={onFly} onOpenReport={onOpenReport} onClosed={() => onSelect(null)} />}
    </section>
  )
}

function OrderDetail({ id, view, onView, tick, onFly, onOpenReport, onClosed }: {
  id: number; view: string | null; onView(code: string | null): void; tick: number; onFly(lon: number, lat: number): void
  onOpenReport(id: number): void; onClosed(): void
}) {
  const { t, m, lang, num } = useI18n()
  const { may } = useAuth()
  const [reload, setReload] = useState(0)
  const [statusFilter, setStatusFilter] = useState<EvacStatus | 'exceptions' | ''>('')
  // A refusal is said where it was caused: on the household's row, by the grid's buttons, by "close".
  const [error, setError] = useState<{ at: string; text: string } | null>(null)
  const q = view ? `?unit=${view}` : ''
  const progress = useApi<OrderProgress>(`/api/evacuation/orders/${id}${q}`, tick + reload)
  const listQ = new URLSearchParams({ limit: '50', ...(view ? { unit: view } : {}),
    ...(statusFilter === 'exceptions' ? { exceptions: 'true' } : statusFilter ? { status: statusFilter } : {}) })
  const list = useApi<HouseholdList>(`/api/evacuation/orders/${id}/households?${listQ}`, tick + reload)
  const at = (iso: string) => when(iso, lang, { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' })
  const act = async (at: string, work: () => Promise<unknown>) => {
    setError(null)
    try {
      await work()
    } catch (err) {
      setError({ at, text: apiMessage(err, lang, m) })
    }
    // Also after a refusal: a conflict means the list is behind, and the row should show where it stands now.
    setReload((n) => n + 1)
  }
  const refusal = (at: string, testid?: string) =>
    error?.at === at ? <div className="error" role="alert" data-testid={testid ?? 'evac-error'}>{error.text}</div> : null
  const move = (h: TransferRow, status: EvacStatus) => {
    const back = !nextStatus[h.status] || nextStatus[h.status] !== status
    // Going back, or off the way, says why (the server insists where the rules do).
    const reason = back && status !== 'refused' && status !== 'unreachable' ? window.prompt(t('evac.reasonPrompt')) : undefined
    if (reason === null) return
    return act(`household:${h.id}`, () => sendJson('PATCH', `/api/evacuation/orders/${id}/households/${h.id}`, { status, from: h.status, ...(reason ? { reason } : {}) }))
  }
  if (progress.state === 'error') return <div className="error" role="alert">{apiMessage(progress.error, lang, m)}</div>
  if (progress.state !== 'ok') return <div className="muted">{t('loading')}</div>
  const p = progress.data
  const total = evacStatuses.reduce((n, s) => n + p.totals[s].households, 0)
  const safe = p.totals.at_shelter.households + p.totals.returned.households
  const isGrid = p.view.length === 15
  const canMove = may('evacuation.update')
  return (
    <div className="evac-detail" data-testid="evac-detail">
      <h3>{p.order.title}</h3>
      <div className="muted small">
        {t('evac.issuedBy', { who: p.order.issuedBy, when: at(p.order.issuedAt) })} · {t('evac.deadlineAt', { when: at(p.order.deadline) })} · {m.evac.triggers[p.order.triggerKind as 'manual'] ?? p.order.triggerKind}
        {/* Started from a problem report (api/reports/transfer.ts): the way back to it. */}
        {p.order.triggerKind === 'report' && typeof p.order.triggerRef?.reportId === 'number' && (
          <>{' '}<button className="link" data-testid="evac-from-report" onClick={() => onOpenReport(p.order.triggerRef!.reportId as number)}>
            {t('evac.fromReport', { id: p.order.triggerRef.reportId })}
          </button></>
        )}
      </div>
      {view && <button className="link" onClick={() => onView(view.length === 15 ? view.slice(0, 12) : null)}>{t('evac.up')}</button>}
      <div className="status-bar" data-testid="evac-status-bar">
        {evacStatuses.map((s) => p.totals[s].households > 0 && (
          <span key={s} style={{ width: `${(100 * p.totals[s].households) / Math.max(1, total)}%`, background: evacColor[s] }} title={`${m.evac.statuses[s]} ${p.totals[s].households}`} />
        ))}
      </div>
      <div className="evac-totals" data-testid="evac-totals">
        <span><strong data-testid="evac-safe">{num(safe)}</strong>/{num(total)} {t('evac.householdsSafe')}</span>
        <span>{t('evac.peopleAtShelter', { n: num(p.totals.at_shelter.counted) })}</span>
        <span className={p.vulnerableNotSafe ? 'late' : 'muted'} data-testid="evac-vulnerable">{t('evac.vulnerableNotSafe', { n: num(p.vulnerableNotSafe) })}</span>
        {p.shortfallHouseholds > 0 && <span className="late">{t('evac.shortfall', { households: num(p.shortfallHouseholds), people: num(p.shortfallPeople) })}</span>}
      </div>
      <div className="chips">
        {evacStatuses.map((s) => (
          <span key={s} className="chip" data-testid={`evac-count-${s}`}><i style={{ background: evacColor[s] }} />{m.evac.statuses[s]} {num(p.totals[s].households)}</span>
        ))}
      </div>
      {!isGrid && p.children.length > 0 && (
        <table className="evac-children" data-testid="evac-children">
          <thead><tr><th>{t('evac.area')}</th><th /><th>{t('evac.safe')}</th><th>{t('evac.notNotified')}</th><th>{t('evac.exceptions')}</th></tr></thead>
          <tbody>
            {p.children.map((c) => (
              <tr key={c.code} onClick={() => onView(c.code)} className="clickable">
                <td>{c.name ?? c.code}</td>
                <td className="bar"><span style={{ width: `${(100 * c.safe) / Math.max(1, c.households)}%` }} /></td>
                <td>{num(c.safe)}/{num(c.households)}</td>
                <td>{num(c.notNotified)}</td>
                <td className={c.exceptions ? 'late' : 'muted'}>{num(c.exceptions)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {isGrid && canMove && (
        <div className="actions" data-testid="evac-bulk">
          {(['not_notified', 'notified', 'moving'] as const).map((from) => p.totals[from].households > 0 && (
            <button key={from} onClick={() => void act('bulk', () => sendJson('POST', `/api/evacuation/orders/${id}/bulk`, { grid: p.view, from, status: nextStatus[from] }))}>
              {t('evac.bulk', { from: m.evac.statuses[from], to: m.evac.statuses[nextStatus[from]!], n: p.totals[from].households })}
            </button>
          ))}
          {refusal('bulk')}
        </div>
      )}
      {p.shelters.length > 0 && (
        <details className="evac-shelters" data-testid="evac-shelters">
          <summary>{t('evac.shelters', { n: p.shelters.length })}</summary>
          {p.shelters.map((s) => (
            <div key={s.id} className="gauge clickable" onClick={() => onFly(s.lon, s.lat)}>
              <span className="name">{s.name}</span>
              <span className="bar"><span style={{ width: `${Math.min(100, (100 * s.present) / s.capacity)}%` }} /></span>
              <span className={s.assignedAllOrders > s.capacity ? 'late' : ''}>{t('evac.gauge', { present: num(s.present), assigned: num(s.assignedAllOrders), capacity: num(s.capacity) })}</span>
            </div>
          ))}
        </details>
      )}
      <div className="row">
        <select value={statusFilter} onChange={(e) => setStatusFilter(e.target.value as EvacStatus)} data-testid="evac-filter">
          <option value="">{t('evac.allHouseholds')}</option>
          <option value="exceptions">{t('evac.onlyExceptions')}</option>
          {evacStatuses.map((s) => <option key={s} value={s}>{m.evac.statuses[s]}</option>)}
        </select>
        <a className="link" href={`/cards?order=${id}${view ? `&unit=${view}` : ''}`} target="_blank" rel="noreferrer" data-testid="evac-cards">{t('evac.printCards')}</a>
      </div>
      {list.state === 'ok' && (
        <table className="evac-households" data-testid="evac-households">
          <tbody>
            {list.data.households.map((h) => [
              <tr key={h.id} data-testid={`evac-household-${h.id}`}>
                <td className="clickable" onClick={() => onFly(h.lon, h.lat)}>
                  <strong>{h.householder}</strong> <span className="muted">{h.members}{t('evac.people')}{h.vulnerable ? ` · ${t('evac.vulnerableN', { n: h.vulnerable })}` : ''}</span>
                  <div className="small muted">{h.gridName} · {h.shelter ? `→ ${h.shelter.name}${h.route ? ` (${num(h.route.lengthM)} m)` : ''}` : t('evac.noShelter')} · {h.cadre?.name ?? '—'}</div>
                </td>
                <td><span className="chip"><i style={{ background: evacColor[h.status] }} />{m.evac.statuses[h.status]}</span></td>
                {canMove && (
                  <td>
                    {nextStatus[h.status] && (
                      <button data-testid={`evac-next-${h.id}`} onClick={() => void move(h, nextStatus[h.status]!)}>{m.evac.statuses[nextStatus[h.status]!]}</button>
                    )}
                    <select value="" aria-label={t('evac.setStatus')} onChange={(e) => e.target.value && void move(h, e.target.value as EvacStatus)}>
                      <option value="">…</option>
                      {evacStatuses.filter((s) => s !== h.status).map((s) => <option key={s} value={s}>{m.evac.statuses[s]}</option>)}
                    </select>
                  </td>
                )}
              </tr>,
              error?.at === `household:${h.id}` && (
                <tr key={`${h.id}-refused`} data-testid={`evac-household-error-${h.id}`}>
                  <td colSpan={3}>{refusal(`household:${h.id}`)}</td>
                </tr>
              ),
            ])}
          </tbody>
        </table>
      )}
      {list.state === 'ok' && list.data.total > list.data.households.length && (
        <div className="muted small">{t('evac.more', { n: num(list.data.total - list.data.households.length) })}</div>
      )}
      {may('order.issue') && (
        <button className="danger" onClick={() => window.confirm(t('evac.closeConfirm')) &&
          void act('close', async () => { await sendJson('POST', `/api/evacuation/orders/${id}/close`, { version: p.order.version }); onClosed() })}>
          {t('evac.closeOrder')}
        </button>
      )}
      {refusal('close')}
    </div>
  )
}
