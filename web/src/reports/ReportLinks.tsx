import { useState, type FormEvent } from 'react'
import { siteScales, siteTypes, suggestSiteType, type SiteType } from '../../../core/rules/report-links.ts'
import { sendJson } from '../api.ts'
import type { OrderSummary } from '../evac/types.ts'
import { useI18n } from '../i18n/index.tsx'
import { apiMessage } from '../panels/apiMessage.ts'
import type { ReportDetail } from './types.ts'

type Link = 'proposeSite' | 'confirmSite' | 'transfer'

/**
 * What a report can start beyond its own handling, as the server offers it:
 * a new hazard site proposed at its place (a township), confirmed into the
 * register (the county); a transfer order for its grid (who may issue orders).
 * The site and the orders it started are shown beside it. A refusal is the
 * server's own words beside the control.
 */
export function ReportLinks({ d, onOpenSite, onChanged }: { d: ReportDetail; onOpenSite(id: number): void; onChanged(): void }) {
  const { t, m, lang } = useI18n()
  const [form, setForm] = useState<Link | null>(null)
  const [error, setError] = useState<{ link: Link; message: string } | null>(null)
  const [busy, setBusy] = useState(false)

  async function send<T>(link: Link, path: string, body: Record<string, unknown>, done = true): Promise<T | null> {
    setBusy(true)
    try {
      const out = await sendJson<T>('POST', `/api/reports/${d.id}/${path}`, body)
      setError(null)
      if (done) {
        setForm(null)
        onChanged()
      }
      return out
    } catch (err) {
      setError({ link, message: apiMessage(err, lang, m) })
      return null
    } finally {
      setBusy(false)
    }
  }
  const refusal = (l: Link) => error?.link === l && <p className="error" role="alert" data-testid="report-link-error">{error.message}</p>
  const offered = (['proposeSite', 'confirmSite', 'transfer'] as Link[]).filter((l) => d.offers[l])

  return (
    <>
      {(d.site || d.orders.length > 0) && (
        <dl className="rows" data-testid="report-links">
          {d.site && (
            <>
              <dt>{t('reports.fields.site')}</dt>
              <dd>
                <button className="link" data-testid="report-site" data-status={d.site.status} onClick={() => onOpenSite(d.site!.id)}>
                  {t('reports.siteLine', { name: d.site.name, status: m.reports.siteStatus[d.site.status] })}
                </button>
              </dd>
            </>
          )}
          {d.orders.length > 0 && (
            <>
              <dt>{t('reports.fields.orders')}</dt>
              <dd data-testid="report-orders">
                {d.orders.map((o) => <div key={o.id} data-order={o.id}>{t('reports.orderLine', { title: o.title, id: o.id, status: m.reports.orderStatus[o.status] })}</div>)}
              </dd>
            </>
          )}
        </dl>
      )}
      {offered.length > 0 && (
        <div className="record-actions report-actions" data-testid="report-link-actions">
          {offered.map((l) => (
            <div key={l} className="report-action" data-link={l}>
              {form === l && l === 'proposeSite' ? (
                <SiteForm d={d} busy={busy} onCancel={() => setForm(null)} onSubmit={(body) => void send(l, 'propose-site', body)} />
              ) : form === l && l === 'transfer' ? (
                <TransferForm d={d} busy={busy} onCancel={() => setForm(null)}
                  onPreview={(body) => send<{ summary: OrderSummary }>(l, 'transfer', { ...body, dryRun: true }, false)}
                  onSubmit={(body) => void send(l, 'transfer', body)} />
              ) : (
                <button disabled={busy} data-testid={`report-link-${l}`}
                  onClick={() => (l === 'confirmSite' ? void send(l, 'confirm-site', {}) : (setError(null), setForm(l)))}>
                  {m.reports.links[l]}
                </button>
              )}
              {refusal(l)}
            </div>
          ))}
        </div>
      )}
      {/* Refused, and no longer offered once the record was read again: the reason still shows. */}
      {error && !offered.includes(error.link) && refusal(error.link)}
    </>
  )
}

/** The proposed site: its type first guessed from the reporter's note, its name from the grid; the place and the note are the report's. */
function SiteForm({ d, busy, onCancel, onSubmit }: { d: ReportDetail; busy: boolean; onCancel(): void; onSubmit(body: Record<string, unknown>): void }) {
  const { t, m } = useI18n()
  const [type, setType] = useState<SiteType>(() => suggestSiteType(d.note))
  const [name, setName] = useState('')
  const [scale, setScale] = useState<(typeof siteScales)[number]>('小型')
  const [threat, setThreat] = useState('')
  // The name the server gives it when none is typed (api/reports/propose-site.ts): the register's names are Chinese.
  const placeholder = t('reports.siteForm.defaultName', { grid: d.gridName ?? '', type: m.hazardTypes[type] })
  function submit(e: FormEvent) {
    e.preventDefault()
    onSubmit({ type, scale, ...(name.trim() ? { name: name.trim() } : {}), ...(threat.trim() ? { threatObject: threat.trim() } : {}) })
  }
  return (
    <form onSubmit={submit} data-testid="report-site-form">
      <label>{t('reports.siteForm.type')}
        <select name="type" value={type} onChange={(e) => setType(e.target.value as SiteType)}>
          {siteTypes.map((x) => <option key={x} value={x}>{m.hazardTypes[x]}</option>)}
        </select>
      </label>
      <label>{t('reports.siteForm.name')}<input name="name" value={name} placeholder={placeholder} minLength={2} maxLength={60} onChange={(e) => setName(e.target.value)} /></label>
      <label>{t('reports.siteForm.scale')}
        <select name="scale" value={scale} onChange={(e) => setScale(e.target.value as typeof scale)}>
          {siteScales.map((x) => <option key={x} value={x}>{m.dangerLevels[x]}</option>)}
        </select>
      </label>
      <label>{t('reports.siteForm.threatObject')}<input name="threatObject" value={threat} maxLength={100} onChange={(e) => setThreat(e.target.value)} /></label>
      <p className="small">{t('reports.siteForm.hint')}</p>
      <div className="buttons">
        <button type="submit" className="primary" disabled={busy}>{t('reports.siteForm.submit')}</button>
        <button type="button" onClick={onCancel}>{t('reports.form.cancel')}</button>
      </div>
    </form>
  )
}

/** A transfer of the report's grid (and its site's threatened households): who is moved and what is short, previewed before it is sent. */
function TransferForm({ d, busy, onCancel, onPreview, onSubmit }: {
  d: ReportDetail
  busy: boolean
  onCancel(): void
  onPreview(body: Record<string, unknown>): Promise<{ summary: OrderSummary } | null>
  onSubmit(body: Record<string, unknown>): void
}) {
  const { t, m, num } = useI18n()
  const [stage, setStage] = useState<'vulnerable' | 'everyone'>('everyone')
  const [minutes, setMinutes] = useState(d.urgency === 'critical' ? 30 : 60)
  const [preview, setPreview] = useState<OrderSummary | null>(null)
  const body = { stage, deadline: minutes }
  return (
    <div className="evac-form" data-testid="report-transfer-form">
      <p>
        {t('reports.transferForm.scope', { grid: d.gridName ?? t('unknown') })}
        {d.site?.status === 'active' && t('reports.transferForm.withSite', { name: d.site.name })}
      </p>
      <fieldset>
        <legend>{t('evac.stage')}</legend>
        {(['vulnerable', 'everyone'] as const).map((x) => (
          <label key={x} className="check">
            <input type="radio" name="report-transfer-stage" checked={stage === x} onChange={() => (setStage(x), setPreview(null))} data-testid={`report-transfer-${x}`} />
            {m.evac.stages[x]}
          </label>
        ))}
      </fieldset>
      <label className="row">
        {t('evac.deadline')}
        <select value={minutes} onChange={(e) => (setMinutes(Number(e.target.value)), setPreview(null))}>
          {[30, 60, 120, 240].map((x) => <option key={x} value={x}>{t('evac.minutes', { n: x })}</option>)}
        </select>
      </label>
      {preview && (
        <div className="evac-preview" data-testid="report-transfer-preview">
          <div>{t('evac.previewLine', { households: num(preview.households), people: num(preview.people), vulnerable: num(preview.vulnerable) })}</div>
          <div>{t('evac.previewShelters', { planned: num(preview.planned), nearest: num(preview.nearest) })}</div>
          {preview.shortfall.households > 0 && (
            <div className="late">{t('evac.shortfall', { households: num(preview.shortfall.households), people: num(preview.shortfall.people) })}</div>
          )}
          {preview.alreadyInTransfer > 0 && <div className="muted">{t('evac.alreadyIn', { n: num(preview.alreadyInTransfer) })}</div>}
        </div>
      )}
      <div className="buttons">
        <button disabled={busy} data-testid="report-transfer-preview-button" onClick={() => void onPreview(body).then((r) => r && setPreview(r.summary))}>{t('evac.preview')}</button>
        <button className="primary" disabled={busy || !preview} data-testid="report-transfer-issue" onClick={() => onSubmit(body)}>{t('evac.issue')}</button>
        <button onClick={onCancel}>{t('reports.form.cancel')}</button>
      </div>
    </div>
  )
}
