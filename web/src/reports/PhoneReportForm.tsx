import { Marker, type Map as MapLibreMap, type MapMouseEvent } from 'maplibre-gl'
import { useEffect, useState, type FormEvent } from 'react'
import { sendJson, type UnitSummary } from '../api.ts'
import { useI18n } from '../i18n/index.tsx'
import { apiMessage } from '../panels/apiMessage.ts'
import { fromBeijingInput, toBeijingInput } from './beijing.ts'
import type { ReportTypes, Urgency } from './types.ts'

const urgencies: Urgency[] = ['normal', 'urgent', 'critical']

/**
 * 值班电话: a duty officer files what a caller says — the problem, how
 * urgent, where (a click on the map, or the chosen area's centre), a note,
 * the caller's name and number, and when it was seen. The server places it in
 * its grid and starts it at the level its type and urgency say.
 */
export function PhoneReportForm({ unit, types, map, onDrawing, onCancel, onFiled }: {
  unit: UnitSummary | null
  types: ReportTypes | null
  map: MapLibreMap | null
  onDrawing(on: boolean): void
  onCancel(): void
  onFiled(id: number): void
}) {
  const { t, m, lang } = useI18n()
  const [type, setType] = useState('')
  const [urgency, setUrgency] = useState<Urgency>('urgent')
  const [place, setPlace] = useState<{ lng: number; lat: number } | null>(null)
  const [picking, setPicking] = useState(false)
  const [note, setNote] = useState('')
  const [callerName, setCallerName] = useState('')
  const [callerPhone, setCallerPhone] = useState('')
  const [at, setAt] = useState(() => toBeijingInput(new Date()))
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const chosenType = type || types?.types[0]?.code || ''

  // Picking: the next click on the map is the place, and opens nothing there.
  useEffect(() => {
    if (!picking || !map) return
    onDrawing(true)
    const canvas = map.getCanvas()
    canvas.style.cursor = 'crosshair'
    const click = (e: MapMouseEvent) => {
      setPlace({ lng: e.lngLat.lng, lat: e.lngLat.lat })
      setPicking(false)
    }
    map.once('click', click)
    return () => {
      map.off('click', click)
      canvas.style.cursor = ''
      onDrawing(false)
    }
  }, [picking, map, onDrawing])

  // The chosen place, marked on the map while the form is open.
  useEffect(() => {
    if (!map || !place) return
    const el = document.createElement('div')
    el.className = 'report-pin'
    el.dataset.testid = 'report-pin'
    const marker = new Marker({ element: el }).setLngLat([place.lng, place.lat]).addTo(map)
    return () => void marker.remove()
  }, [map, place])

  async function submit(e: FormEvent) {
    e.preventDefault()
    if (!place) return setError(t('reports.phone.needPlace'))
    setBusy(true)
    try {
      const body = {
        type: chosenType, urgency, lng: place.lng, lat: place.lat, note,
        ...(callerName.trim() ? { caller: { name: callerName, ...(callerPhone.trim() ? { phone: callerPhone } : {}) } } : {}),
        ...(fromBeijingInput(at) ? { at: fromBeijingInput(at) } : {}),
      }
      const out = await sendJson<{ id: number }>('POST', '/api/reports', body)
      onFiled(out.id)
    } catch (err) {
      setError(apiMessage(err, lang, m))
    } finally {
      setBusy(false)
    }
  }

  const fixed = (n: number) => n.toFixed(5)
  return (
    <form className="phone-report" data-testid="phone-report-form" onSubmit={submit}>
      <h3>{t('reports.phone.title')}</h3>
      <label>{t('reports.phone.type')}
        <select name="type" value={chosenType} onChange={(e) => setType(e.target.value)} required>
          {types?.types.map((x) => <option key={x.code} value={x.code}>{x[lang]}</option>)}
        </select>
      </label>
      <fieldset className="urgency-choice">
        <legend>{t('reports.phone.urgency')}</legend>
        {urgencies.map((u) => (
          <label key={u} className={`check u-choice${urgency === u ? ' on' : ''}`}>
            <input type="radio" name="urgency" value={u} checked={urgency === u} onChange={() => setUrgency(u)} />
            <span className={`urgency u-${u}`}>{m.reports.urgencies[u]}</span>
          </label>
        ))}
      </fieldset>
      <div className="phone-place">
        <span className="label">{t('reports.phone.place')}</span>
        <span data-testid="phone-place">{picking ? t('reports.phone.picking') : place ? t('reports.phone.placeAt', { lng: fixed(place.lng), lat: fixed(place.lat) }) : t('reports.phone.noPlace')}</span>
        <div className="buttons">
          <button type="button" className={picking ? 'on' : undefined} data-testid="phone-pick" disabled={!map} onClick={() => {
            // At once, in the click: the map must ignore the very next click, not one render later.
            if (!picking) onDrawing(true)
            setPicking(!picking)
          }}>{t('reports.phone.pickOnMap')}</button>
          {unit && <button type="button" data-testid="phone-centre" onClick={() => setPlace({ lng: unit.center[0], lat: unit.center[1] })}>{t('reports.phone.unitCentre')}</button>}
        </div>
      </div>
      <label>{t('reports.phone.note')}<textarea name="note" value={note} onChange={(e) => setNote(e.target.value)} maxLength={500} /></label>
      <div className="two">
        <label>{t('reports.phone.callerName')}<input name="callerName" value={callerName} onChange={(e) => setCallerName(e.target.value)} maxLength={40} /></label>
        <label>{t('reports.phone.callerPhone')}<input name="callerPhone" type="tel" value={callerPhone} onChange={(e) => setCallerPhone(e.target.value)} maxLength={20} /></label>
      </div>
      <label>{t('reports.phone.at')}<input name="at" type="datetime-local" value={at} onChange={(e) => setAt(e.target.value)} /></label>
      <div className="buttons">
        <button type="submit" className="primary" disabled={busy || !types} data-testid="phone-submit">{t('reports.phone.submit')}</button>
        <button type="button" onClick={onCancel}>{t('reports.form.cancel')}</button>
      </div>
      {error && <p className="error" role="alert" data-testid="phone-error">{error}</p>}
    </form>
  )
}
