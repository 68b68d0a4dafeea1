import type * as maplibregl from 'maplibre-gl'
import { useEffect, useState } from 'react'
import { sendJson } from '../api.ts'
import { useI18n } from '../i18n/index.tsx'
import { apiMessage } from '../panels/apiMessage.ts'
import type { OrderRow, OrderSummary, Proposal } from './types.ts'
import { useAreaDraw } from './useAreaDraw.ts'

type Target = 'sitesIn' | 'units' | 'area'

/**
 * A transfer order for the chosen area: everyone threatened by its hazard
 * sites, every household in it, or every household inside a polygon drawn on
 * the map; vulnerable people first or everyone. The preview (a dry run) shows
 * who and what is short before anything is sent.
 */
export function IssueOrderForm({ unitCode, unitName, proposal, map, onDrawing, onIssued, onCancel }: {
  unitCode: string
  unitName: string
  proposal?: Proposal | null
  /** The command map, to draw an area on. */
  map: maplibregl.Map | null
  /** Drawing on the map: clicks there draw, they do not open records. */
  onDrawing(on: boolean): void
  onIssued(order: OrderRow): void
  onCancel(): void
}) {
  const { t, m, lang, num } = useI18n()
  const [target, setTarget] = useState<Target>('sitesIn')
  const [stage, setStage] = useState<'vulnerable' | 'everyone'>(proposal?.stage ?? 'everyone')
  const [trigger, setTrigger] = useState(proposal ? 'forecast' : 'manual')
  const [minutes, setMinutes] = useState(120)
  const [title, setTitle] = useState('')
  const [preview, setPreview] = useState<OrderSummary | null>(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const drawing = !proposal && target === 'area'
  const { area, clear } = useAreaDraw(map, drawing)
  useEffect(() => {
    onDrawing(drawing)
    return () => onDrawing(false)
  }, [drawing, onDrawing])
  // A new or moved polygon is a new question.
  useEffect(() => setPreview(null), [area])

  const body = (dryRun: boolean) => ({
    stage,
    trigger: proposal
      ? { kind: 'forecast', ref: { eventId: proposal.eventId, step: proposal.step, township: proposal.township } }
      : { kind: trigger },
    ...(proposal ? { sites: proposal.sites } : target === 'area' ? { area } : target === 'sitesIn' ? { sitesIn: [unitCode] } : { units: [unitCode] }),
    deadline: minutes,
    ...(title.trim() ? { title: title.trim() } : {}),
    dryRun,
  })
  const run = async (dryRun: boolean) => {
    setBusy(true)
    setError(null)
    try {
      const r = await sendJson<{ order: OrderRow | null; summary: OrderSummary }>('POST', '/api/evacuation/orders', body(dryRun))
      if (dryRun) setPreview(r.summary)
      else onIssued(r.order!)
    } catch (err) {
      setError(apiMessage(err, lang, m))
    } finally {
      setBusy(false)
    }
  }
  const change = <T,>(set: (v: T) => void) => (v: T) => {
    set(v)
    setPreview(null)
  }

  return (
    <div className="evac-form" data-testid="evac-form">
      <h3>{proposal ? t('evac.confirmProposal', { name: proposal.townshipName, step: m.evac.steps[proposal.step] }) : t('evac.newOrderFor', { name: unitName })}</h3>
      {!proposal && (
        <fieldset>
          <legend>{t('evac.target')}</legend>
          {(['sitesIn', 'units', 'area'] as Target[]).map((x) => (
            <label key={x} className="check">
              <input type="radio" name="evac-target" checked={target === x} onChange={() => change(setTarget)(x)} data-testid={`evac-target-${x}`} />
              {m.evac.targets[x]}
            </label>
          ))}
          {drawing && (
            <div className="evac-draw" data-testid="evac-draw">
              <span className={area ? '' : 'muted'}>{area ? t('evac.areaDrawn', { n: area.coordinates[0].length - 1 }) : t('evac.drawHint')}</span>
              {area && <button className="link" onClick={clear} data-testid="evac-redraw">{t('evac.redraw')}</button>}
            </div>
          )}
        </fieldset>
      )}
      <fieldset>
        <legend>{t('evac.stage')}</legend>
        {(['vulnerable', 'everyone'] as const).map((x) => (
          <label key={x} className="check">
            <input type="radio" name="evac-stage" checked={stage === x} onChange={() => change(setStage)(x)} data-testid={`evac-stage-${x}`} />
            {m.evac.stages[x]}
          </label>
        ))}
      </fieldset>
      {!proposal && (
        <label className="row">
          {t('evac.trigger')}
          <select value={trigger} onChange={(e) => setTrigger(e.target.value)}>
            {(['manual', 'warning', 'site_alert', 'forecast'] as const).map((k) => <option key={k} value={k}>{m.evac.triggers[k]}</option>)}
          </select>
        </label>
      )}
      <label className="row">
        {t('evac.deadline')}
        <select value={minutes} onChange={(e) => setMinutes(Number(e.target.value))}>
          {[30, 60, 120, 240, 480].map((x) => <option key={x} value={x}>{t('evac.minutes', { n: x })}</option>)}
        </select>
      </label>
      <label className="row">
        {t('evac.orderTitle')}
        <input value={title} maxLength={80} placeholder={m.evac.stageTitles[stage]} onChange={(e) => setTitle(e.target.value)} />
      </label>
      {preview && (
        <div className="evac-preview" data-testid="evac-preview">
          <div>{t('evac.previewLine', { households: num(preview.households), people: num(preview.people), vulnerable: num(preview.vulnerable) })}</div>
          <div>{t('evac.previewShelters', { planned: num(preview.planned), nearest: num(preview.nearest) })}</div>
          {preview.shortfall.households > 0 && (
            <div className="late">{t('evac.shortfall', { households: num(preview.shortfall.households), people: num(preview.shortfall.people) })}</div>
          )}
          {preview.alreadyInTransfer > 0 && <div className="muted">{t('evac.alreadyIn', { n: num(preview.alreadyInTransfer) })}</div>}
          {preview.outsideScope > 0 && <div className="muted">{t('evac.outsideScope', { n: num(preview.outsideScope) })}</div>}
          {preview.uncertifiedPlanned > 0 && <div className="muted">{t('evac.uncertified', { n: num(preview.uncertifiedPlanned) })}</div>}
        </div>
      )}
      {error && <div className="error" role="alert" data-testid="evac-form-error">{error}</div>}
      <div className="actions">
        <button disabled={busy || (drawing && !area)} onClick={() => void run(true)} data-testid="evac-preview-button">{t('evac.preview')}</button>
        <button className="primary" disabled={busy || !preview} onClick={() => void run(false)} data-testid="evac-issue-button">{t('evac.issue')}</button>
        <button onClick={onCancel}>{t('evac.cancel')}</button>
      </div>
    </div>
  )
}
