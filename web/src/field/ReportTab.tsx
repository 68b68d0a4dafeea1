import { lazy, Suspense, useEffect, useState, useSyncExternalStore } from 'react'
import { urgencies, type Urgency } from '../../../core/rules/escalation.ts'
import { clock, fill, type FieldMessages, type Lang } from './i18n/index.ts'
import { shrinkPhoto, type Shrunk } from './photo.ts'
import { Thumbs } from './Thumbs.tsx'
import { inOutline, placesOf, type Place } from './place.ts'
import { reports, typeName, watchReports, type ReportType } from './reports.ts'
import { act, field, logout, resolve } from './state.ts'
import type { Action, Entry } from './store.ts'
import type { Today } from './types.ts'

type UI = { m: FieldMessages; lang: Lang }
type ReportAction = Extract<Action, { kind: 'report' }>
const MAX_PHOTOS = 3
const GridMap = lazy(() => import('./GridMap.tsx'))

/** What the form holds: kept when a refused report is taken back to change it (nothing entered is lost). */
interface Draft { type: string | null; urgency: Urgency; placeKey: string | null; tapped: { lng: number; lat: number } | null; note: string; photos: Shrunk[] }
const empty: Draft = { type: null, urgency: 'normal', placeKey: null, tapped: null, note: '', photos: [] }

/** The 上报 tab: the form, then the worker's reports (waiting on the phone, then as the server has them). */
export function ReportTab(ui: UI) {
  const s = useSyncExternalStore(field.subscribe, field.get)
  const r = useSyncExternalStore(reports.subscribe, reports.get)
  const [draft, setDraft] = useState<Draft>(empty)
  // A refused report taken back: the form starts again from it.
  const [edits, setEdits] = useState(0)
  useEffect(() => watchReports(), [])
  const mine = s.entries.filter((e): e is Entry & { action: ReportAction } => e.action.kind === 'report')
  return (
    <>
      {mine.filter((e) => e.state !== 'waiting').map((e) => (
        <Refused key={e.seq} {...ui} entry={e} types={r.types} onEdit={() => {
          const a = e.action
          setDraft({ type: a.type, urgency: a.urgency, placeKey: null, tapped: null, note: a.note ?? '', photos: (a.photos ?? []).map((photo, i) => ({ photo, thumb: a.thumbs?.[i] ?? '' })) })
          setEdits((n) => n + 1)
          void resolve(e)
        }} />
      ))}
      {s.today ? <ReportForm key={edits} {...ui} today={s.today} types={r.types} initial={draft} />
        : <p className="fa-muted">{s.online ? ui.m.today.loading : ui.m.today.noData}</p>}
      <MyReports {...ui} waiting={mine.filter((e) => e.state === 'waiting')} />
      <p className="fa-muted">{ui.m.report.emergency}</p>
      <button className="fa-link" onClick={() => void logout()}>{ui.m.logout}</button>
    </>
  )
}

function usePhonePosition() {
  const [pos, setPos] = useState<{ lng: number; lat: number; accuracy: number } | null>(null)
  const [state, setState] = useState<'locating' | 'ok' | 'none'>('locating')
  const locate = () => {
    if (!('geolocation' in navigator)) return setState('none')
    setState('locating')
    navigator.geolocation.getCurrentPosition(
      (p) => {
        setPos({ lng: p.coords.longitude, lat: p.coords.latitude, accuracy: p.coords.accuracy })
        setState('ok')
      },
      () => setState('none'),
      { enableHighAccuracy: true, timeout: 20_000, maximumAge: 60_000 },
    )
  }
  useEffect(locate, [])
  return { pos, state, locate }
}

function placeWords(m: FieldMessages, p: Place) {
  switch (p.kind) {
    case 'phone': return fill(m.report.phone, { m: p.accuracy ?? 0 })
    case 'tapped': return m.report.tapped
    case 'center': return m.report.center
    case 'hazard': return fill(m.report.hazard, { name: p.name ?? '' })
    case 'household': return fill(m.report.household, { name: p.name ?? '' })
  }
}

function ReportForm({ m, lang, today, types, initial }: UI & { today: Today; types: ReportType[]; initial: Draft }) {
  const online = useSyncExternalStore(field.subscribe, () => field.get().online)
  const phone = usePhonePosition()
  const [d, setD] = useState<Draft>(initial)
  const [problem, setProblem] = useState<string | null>(null)
  const [saved, setSaved] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const [mapOpen, setMapOpen] = useState(false)
  const places = placesOf(today, phone.pos, d.tapped)
  // A tapped point, else the phone's position once it has one, unless a place was picked; else the grid's centre.
  const place = places.find((p) => p.key === d.placeKey) ?? places[0]
  const outside = (place.kind === 'phone' || place.kind === 'tapped') && !inOutline(today.grid.outline, place.lng, place.lat)
  const kb = Math.round(d.photos.reduce((a, p) => a + (p.photo.length * 3) / 4, 0) / 1024)
  const change = (patch: Partial<Draft>) => {
    setD({ ...d, ...patch })
    setSaved(null)
  }
  return (
    <section className="fa-sheet fa-report-form" data-testid="report-form">
      <h2>{m.report.title}</h2>
      <fieldset className="fa-choices">
        <legend>{m.report.type}</legend>
        {types.map((t) => (
          <button key={t.code} type="button" className={`fa-choice ${d.type === t.code ? 'on' : ''}`} aria-pressed={d.type === t.code}
            data-testid={`report-type-${t.code}`} onClick={() => change({ type: t.code })}>{t[lang]}</button>
        ))}
      </fieldset>
      <fieldset className="fa-choices fa-urgency">
        <legend>{m.report.urgency}</legend>
        {urgencies.map((u) => (
          <button key={u} type="button" className={`fa-choice ${u} ${d.urgency === u ? 'on' : ''}`} aria-pressed={d.urgency === u}
            data-testid={`report-urgency-${u}`} onClick={() => change({ urgency: u })}>{m.report.urgencies[u]}</button>
        ))}
      </fieldset>
      <label className="fa-field">{m.report.place}
        <select value={place.key} data-testid="report-place" onChange={(e) => change({ placeKey: e.target.value })}>
          {places.map((p) => <option key={p.key} value={p.key}>{placeWords(m, p)}</option>)}
        </select>
      </label>
      <button type="button" className="fa-link" data-testid="report-map-toggle" onClick={() => setMapOpen(!mapOpen)}>{mapOpen ? m.report.mapClose : m.report.mapOpen}</button>
      {mapOpen && (
        <Suspense fallback={<p className="fa-muted">{m.map.loading}</p>}>
          <GridMap today={today} m={m} picked={d.tapped} onPick={(lng, lat) => change({ tapped: { lng, lat }, placeKey: 'tapped' })} />
        </Suspense>
      )}
      {phone.state !== 'ok' && (
        <p className="fa-muted" data-testid="report-locating">
          {phone.state === 'locating' ? m.report.locating : m.report.noPosition}
          {phone.state === 'none' && <button type="button" className="fa-link" onClick={phone.locate}>{m.report.locate}</button>}
        </p>
      )}
      {outside && <p className="fa-stale">{m.report.outside}</p>}
      <textarea value={d.note} maxLength={500} placeholder={m.report.note} aria-label={m.report.note} data-testid="report-note" onChange={(e) => change({ note: e.target.value })} />
      <Photos m={m} photos={d.photos} kb={kb} onChange={(photos) => change({ photos })} />
      {problem && <p className="fa-error" role="alert">{problem}</p>}
      {saved && <p className="fa-ok" role="status" data-testid="report-saved">{saved}</p>}
      <button className="fa-primary fa-big" data-testid="report-submit" disabled={busy} onClick={async () => {
        if (!d.type) return setProblem(m.report.needType)
        setProblem(null)
        setBusy(true)
        try {
          await act({
            kind: 'report', type: d.type, urgency: d.urgency, lng: place.lng, lat: place.lat,
            ...(d.note.trim() ? { note: d.note.trim() } : {}), ...(place.hazardSiteId ? { hazardSiteId: place.hazardSiteId } : {}),
            ...(d.photos.length ? { photos: d.photos.map((p) => p.photo) } : {}),
            // One thumbnail a photo, or none (a draft kept from before thumbnails has none).
            ...(d.photos.length && d.photos.every((p) => p.thumb) ? { thumbs: d.photos.map((p) => p.thumb) } : {}),
          })
          setD(empty)
          setSaved(online ? m.report.sent : m.report.savedOffline)
        } finally {
          setBusy(false)
        }
      }}>{m.report.submit}</button>
    </section>
  )
}

function Photos({ m, photos, kb, onChange }: { m: FieldMessages; photos: Shrunk[]; kb: number; onChange(p: Shrunk[]): void }) {
  const [bad, setBad] = useState(false)
  return (
    <div className="fa-photos">
      {photos.length > 0 && (
        <>
          <p className="fa-muted" data-testid="report-photos">{fill(m.report.photos, { n: photos.length, kb })}</p>
          <div className="fa-thumbs">
            {photos.map((p, i) => (
              <figure key={i}>
                <img src={`data:image/jpeg;base64,${p.thumb || p.photo}`} alt="" />
                <button type="button" className="fa-link" onClick={() => onChange(photos.filter((_, j) => j !== i))}>{m.report.removePhoto}</button>
              </figure>
            ))}
          </div>
        </>
      )}
      {bad && <p className="fa-error">{m.report.photoBad}</p>}
      {photos.length < MAX_PHOTOS && (
        <label className="fa-outline fa-photo">
          {photos.length ? m.report.photoMore : m.report.photo}
          <input type="file" accept="image/*" capture="environment" data-testid="report-photo-input" onChange={async (e) => {
            const f = e.target.files?.[0]
            e.target.value = ''
            if (!f) return
            try {
              const shot = await shrinkPhoto(f)
              setBad(false)
              onChange([...photos, shot].slice(0, MAX_PHOTOS))
            } catch {
              setBad(true)
            }
          }} />
        </label>
      )}
    </div>
  )
}

function Refused({ m, lang, entry, types, onEdit }: UI & { entry: Entry & { action: ReportAction }; types: ReportType[]; onEdit(): void }) {
  const a = entry.action
  return (
    <div className="fa-card fa-conflict" role="alert" data-testid="report-refused">
      <h2>{m.report.rejected} · {typeName(types, a.type, lang)}</h2>
      <p>{entry.answer?.error?.[lang] ?? ''}</p>
      {a.note && <p className="fa-muted">{a.note}</p>}
      <button className="fa-primary" onClick={onEdit}>{m.report.edit}</button>
      <button className="fa-outline" onClick={() => void resolve(entry)}>{m.conflict.dismiss}</button>
    </div>
  )
}

function MyReports({ m, lang, waiting }: UI & { waiting: (Entry & { action: ReportAction })[] }) {
  const r = useSyncExternalStore(reports.subscribe, reports.get)
  const online = useSyncExternalStore(field.subscribe, () => field.get().online)
  const old = !online || !r.mineAt || Date.now() - r.mineAt > 30 * 60_000
  return (
    <section data-testid="my-reports">
      <h2>{m.report.mine}</h2>
      {waiting.map((e) => (
        <div key={e.seq} className="fa-report" data-testid="report-waiting">
          <span><b>{typeName(r.types, e.action.type, lang)}</b> <i className={`fa-urg ${e.action.urgency}`}>{m.report.urgencies[e.action.urgency]}</i>
            <br /><small>{fill(m.report.made, { t: clock(e.action.at, lang) })}</small></span>
          <span className="fa-chip wait">{m.report.waiting}</span>
        </div>
      ))}
      {r.mine?.map((x) => (
        <div key={x.id} className={`fa-report ${x.overdue ? 'late' : ''}`} data-testid={`report-${x.id}`} data-state={x.state}>
          <span><b>{typeName(r.types, x.type, lang)}</b> <i className={`fa-urg ${x.urgency}`}>{m.report.urgencies[x.urgency]}</i>
            <br /><small>{fill(m.report.made, { t: clock(x.reportedAt, lang) })}{x.note ? ` · ${x.note}` : ''}</small>
            <Thumbs ids={x.photos ?? []} label={m.report.photo} /></span>
          <span className={`fa-chip st-${x.state}`}>
            <b>{m.report.states[x.state]}</b>
            {x.state !== 'closed' && x.state !== 'merged' && <><br />{m.report.levels[x.level]}</>}
            {x.overdue && <><br /><em>{m.report.overdue}</em></>}
          </span>
        </div>
      ))}
      {!waiting.length && r.mine?.length === 0 && <p className="fa-muted">{m.report.none}</p>}
      {!waiting.length && r.mine === null && <p className="fa-muted">{m.report.noneYet}</p>}
      {r.mineAt && <p className={old ? 'fa-stale' : 'fa-muted'} data-testid="reports-age">{fill(m.report.asOf, { t: clock(r.mineAt, lang) })}</p>}
    </section>
  )
}
