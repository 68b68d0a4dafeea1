import { useState, type FormEvent, type ReactNode } from 'react'
import { sendJson } from '../api.ts'
import { useI18n } from '../i18n/index.tsx'
import { when } from '../i18n/when.ts'
import { apiMessage } from '../panels/apiMessage.ts'
import { withPhones } from '../panels/Phones.tsx'
import { useApi } from '../useApi.ts'
import { fromBeijingInput, toBeijingInput } from './beijing.ts'
import { reportAge } from './age.ts'
import { ReportLinks } from './ReportLinks.tsx'
import type { Action, ReportDetail, ReportStep } from './types.ts'

/** Actions with something to fill in first; the others are one click. */
const withForm: Action[] = ['dispatch', 'handled', 'escalate', 'merge']
/** The order the actions are offered in: the way forward first. */
const order: Action[] = ['acknowledge', 'dispatch', 'handled', 'close', 'escalate', 'merge']

/**
 * One report: what, where, who, its clock; the timeline of its steps; and the
 * actions the server says this user may take now. A refused action shows the
 * server's own words beside the control that was used. `tick` steps on live
 * report events in the area: the record is read again (someone else acted).
 */
export function ReportRecord({ id, tick, typeName, onBack, onFly, onOpenSite, onChanged }: {
  id: number
  tick: number
  typeName(code: string): string
  onBack(): void
  onFly(lon: number, lat: number): void
  onOpenSite(id: number): void
  onChanged(): void
}) {
  const { t, m, lang } = useI18n()
  const [reload, setReload] = useState(0)
  const r = useApi<ReportDetail>(`/api/reports/${id}`, tick + reload)
  const [form, setForm] = useState<Action | null>(null)
  const [error, setError] = useState<{ action: Action; message: string } | null>(null)
  const [busy, setBusy] = useState(false)
  const at = (iso: string) => when(iso, lang, { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' })

  async function act(action: Action, body: Record<string, unknown>) {
    setBusy(true)
    try {
      await sendJson('POST', `/api/reports/${id}/${action}`, body)
      setError(null)
      setForm(null)
      setReload((n) => n + 1)
      onChanged()
    } catch (err) {
      setError({ action, message: apiMessage(err, lang, m) })
    } finally {
      setBusy(false)
    }
  }

  const back = <button className="link" data-testid="report-back" onClick={onBack}>← {t('reports.back')}</button>
  if (r.state === 'error') return <div className="report-record">{back}<p className="error">{apiMessage(r.error, lang, m)}</p></div>
  if (r.state !== 'ok') return <div className="report-record">{back}<p className="muted">{t('loading')}</p></div>
  const d = r.data
  const owner = t('reports.owner', { level: m.reports.levels[d.level], name: d.unitName ?? t('unknown') })
  const refusal = (a: Action) => error?.action === a && <p className="error" role="alert" data-testid="report-action-error">{error.message}</p>
  const offered = order.filter((a) => d.may.includes(a))

  return (
    <div className="report-record" data-testid="report-record" data-state={d.state}>
      {back}
      <div className="record-title">
        <span className={`urgency u-${d.urgency}`}>{m.reports.urgencies[d.urgency]}</span>
        <h1 data-testid="report-title">{typeName(d.type)}</h1>
        <span className="small">{t('reports.number', { id: d.id })}</span>
      </div>
      <div className={`report-clock${d.overdue ? ' late' : ''}`} data-testid="report-clock">
        <strong data-testid="report-state">{m.reports.states[d.state]}</strong>
        {' · '}{owner}
        {d.overdue && <> · <span className="overdue-badge">{t('reports.overdue')}</span></>}
        {d.dueAt && <div className="small-text">{t('reports.dueIn', { when: at(d.dueAt), what: m.reports.dueWhat[d.state === 'reported' ? 'ack' : 'handle'] })}</div>}
      </div>
      <dl className="rows">
        <Row label={t('reports.fields.place')}>
          <button className="link" onClick={() => onFly(d.lng, d.lat)}>{d.gridName ?? t('unknown')}</button>
        </Row>
        {d.note && <Row label={t('reports.fields.note')}>{withPhones(d.note)}</Row>}
        <Row label={t('reports.fields.reportedAt')}>{t('reports.atAge', { at: at(d.reportedAt), age: reportAge(d.reportedAt, t) })}</Row>
        {Math.abs(Date.parse(d.receivedAt) - Date.parse(d.reportedAt)) >= 60_000 && <Row label={t('reports.fields.receivedAt')}>{at(d.receivedAt)}</Row>}
        <Row label={t('reports.fields.reportedBy')}><span translate="no">{d.reportedBy}</span></Row>
        {d.callerName && (
          <Row label={t('reports.fields.caller')}>{d.callerName}{d.callerPhone && <> · <span className="phone">{d.callerPhone}</span></>}</Row>
        )}
        {d.assignee && (
          <Row label={t('reports.fields.assignee')}>{d.assigneeDueAt ? t('reports.assigneeDue', { name: d.assignee, due: at(d.assigneeDueAt) }) : d.assignee}</Row>
        )}
        {d.handledNote && <Row label={t('reports.fields.handledNote')}>{d.handledNote}</Row>}
        {d.closedAt && <Row label={t('reports.fields.closedAt')}>{at(d.closedAt)}</Row>}
        {d.mergedInto && <Row label={t('reports.fields.mergedInto')}>{t('reports.number', { id: d.mergedInto })}</Row>}
        {d.photos.length > 0 && (
          <Row label={t('reports.fields.photos')}>
            <span className="report-photos" data-testid="report-photos">
              {d.photos.map((id, i) => (
                <a key={id} href={`/api/field/photos/${id}`} target="_blank" rel="noreferrer">
                  <img src={`/api/field/photos/${id}/thumb`} data-photo={id} alt={t('reports.photoAlt', { n: i + 1 })} title={t('reports.photoAlt', { n: i + 1 })} loading="lazy" />
                </a>
              ))}
            </span>
          </Row>
        )}
      </dl>

      <div className="record-actions report-actions" data-testid="report-actions">
        {offered.length === 0 && (
          <p className="small" data-testid="report-read-only">
            {d.state === 'closed' || d.state === 'merged' ? t('reports.nothingToDo') : t('reports.readOnly', { owner })}
          </p>
        )}
        {offered.map((a) => (
          <div key={a} className="report-action" data-action={a}>
            {form === a ? (
              <ActionForm action={a} busy={busy} urgencyHours={d.urgency === 'critical' ? 2 : d.urgency === 'urgent' ? 6 : 24}
                onCancel={() => setForm(null)} onSubmit={(body) => void act(a, body)} />
            ) : (
              <button className={a === 'acknowledge' || a === 'close' ? 'primary' : undefined} disabled={busy} data-testid={`report-${a}`}
                onClick={() => (withForm.includes(a) ? (setError(null), setForm(a)) : void act(a, {}))}>
                {m.reports.actions[a]}
              </button>
            )}
            {refusal(a)}
          </div>
        ))}
        {/* Refused, and no longer offered once the record was read again: the reason still shows. */}
        {error && !offered.includes(error.action) && refusal(error.action)}
      </div>

      <ReportLinks d={d} onOpenSite={onOpenSite} onChanged={() => {
        setReload((n) => n + 1)
        onChanged()
      }} />

      <h3>{t('reports.timeline')}</h3>
      <ol className="report-steps" data-testid="report-steps">
        {d.steps.map((s, i) => <StepRow key={i} s={s} at={at} />)}
      </ol>
    </div>
  )
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  )
}

function StepRow({ s, at }: { s: ReportStep; at(iso: string): string }) {
  const { t, m } = useI18n()
  const levels = s.fromLevel && s.toLevel && s.fromLevel !== s.toLevel
    ? t('reports.stepLevel', { from: m.reports.levels[s.fromLevel], to: m.reports.levels[s.toLevel] })
    : s.toLevel ? m.reports.levels[s.toLevel] : ''
  // The clock writes a reason code; people write words.
  const why = s.auto && s.reason && s.reason in m.reports.autoReasons
    ? m.reports.autoReasons[s.reason as keyof typeof m.reports.autoReasons]
    : s.reason
  return (
    <li data-step={s.action}>
      <span className="small">{at(s.at)}</span>{' '}
      <strong>{m.reports.steps[s.action]}</strong>{' · '}{levels}{' · '}
      {s.auto ? t('reports.clock') : <span translate="no">{s.actorName}</span>}
      {why && <div className="step-why">{why}</div>}
    </li>
  )
}

/** What an action needs filled in: dispatch (to whom, by when), handled (what was done), escalate (why), merge (into which). */
function ActionForm({ action, busy, urgencyHours, onCancel, onSubmit }: {
  action: Action
  busy: boolean
  urgencyHours: number
  onCancel(): void
  onSubmit(body: Record<string, unknown>): void
}) {
  const { t, m } = useI18n()
  const [text, setText] = useState('')
  const [due, setDue] = useState(() => toBeijingInput(new Date(Date.now() + urgencyHours * 3600_000)))
  const [into, setInto] = useState('')
  function submit(e: FormEvent) {
    e.preventDefault()
    if (action === 'dispatch') onSubmit({ assignee: text, due: fromBeijingInput(due) ?? due })
    else if (action === 'handled') onSubmit({ note: text })
    else if (action === 'escalate') onSubmit({ reason: text })
    else if (action === 'merge') onSubmit({ into: Number(into) || 0, ...(text.trim() ? { reason: text } : {}) })
  }
  return (
    <form onSubmit={submit} data-testid={`report-form-${action}`}>
      {action === 'dispatch' && (
        <>
          <label>{t('reports.form.assignee')}<input name="assignee" value={text} onChange={(e) => setText(e.target.value)} required maxLength={60} /></label>
          <label>{t('reports.form.due')}<input name="due" type="datetime-local" value={due} onChange={(e) => setDue(e.target.value)} required /></label>
        </>
      )}
      {action === 'handled' && <label>{t('reports.form.note')}<textarea name="note" value={text} onChange={(e) => setText(e.target.value)} required maxLength={500} /></label>}
      {action === 'escalate' && <label>{t('reports.form.reason')}<textarea name="reason" value={text} onChange={(e) => setText(e.target.value)} required maxLength={300} /></label>}
      {action === 'merge' && (
        <>
          <label>{t('reports.form.into')}<input name="into" inputMode="numeric" value={into} onChange={(e) => setInto(e.target.value)} required /></label>
          <label>{t('reports.form.reason')}<input name="reason" value={text} onChange={(e) => setText(e.target.value)} maxLength={300} /></label>
        </>
      )}
      <div className="buttons">
        <button type="submit" className="primary" disabled={busy}>{m.reports.actions[action]}</button>
        <button type="button" onClick={onCancel}>{t('reports.form.cancel')}</button>
      </div>
    </form>
  )
}
