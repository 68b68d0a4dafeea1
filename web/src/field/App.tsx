import { lazy, Suspense, useEffect, useState, useSyncExternalStore } from 'react'
import { clock, fill, statusWord, useLang, type FieldMessages, type Lang } from './i18n/index.ts'
import { nextStatus } from './local.ts'
import { patrolling, startPatrol, stopPatrol } from './patrol.ts'
import { shrinkPhoto, type Shrunk } from './photo.ts'
import { Thumbs } from './Thumbs.tsx'
import { act, chooseGrid, field, listGrids, login, resolve } from './state.ts'
import type { Entry } from './store.ts'
import type { Household, Task, Today } from './types.ts'
import { visitOrder } from './visit-order.ts'
import { useHere } from './useHere.ts'

// The map is not on the first screen: its code loads when the tab is opened (and once in idle time, so it is kept offline).
const loadMap = () => import('./GridMap.tsx')
const GridMap = lazy(loadMap)
// The report tab likewise (issue #19: on a slow line every KB before the first screen is 25 ms); in idle time too.
const loadReport = () => import('./ReportTab.tsx')
const ReportTab = lazy(() => loadReport().then((x) => ({ default: x.ReportTab })))

type UI = { m: FieldMessages; lang: Lang }

/**
 * The code this page loaded, kept by the service worker too: on the first
 * visit the map's chunk may have come before the worker took the page, and
 * would then be missing with no signal.
 */
function keepAssets() {
  const urls = performance.getEntriesByType('resource').map((r) => new URL(r.name)).filter((u) => u.origin === location.origin && u.pathname.startsWith('/assets/')).map((u) => u.pathname)
  void navigator.serviceWorker?.ready.then((reg) => reg.active?.postMessage({ type: 'keep-assets', urls }))
}

export function App() {
  const s = useSyncExternalStore(field.subscribe, field.get)
  const { lang, setLang, m } = useLang()
  const [tab, setTab] = useState<'today' | 'map' | 'report'>('today')
  useEffect(() => {
    const idle = (window as { requestIdleCallback?: (f: () => void) => void }).requestIdleCallback ?? ((f: () => void) => setTimeout(f, 3000))
    idle(() => void Promise.all([loadMap(), loadReport()]).then(keepAssets, () => {}))
  }, [])
  const langButton = <button className="fa-lang" onClick={() => setLang(lang === 'zh' ? 'en' : 'zh')}>{m.lang}</button>
  if (!s.ready) return null
  if (!s.me || s.needLogin) return <Login m={m} lang={lang} langButton={langButton} />
  const gridKnown = s.grid ?? (s.me.user.unitCode.length === 15 ? s.me.user.unitCode : null)
  const ui = { m, lang }
  return (
    <div className="fa">
      <div className="fa-head">
      <header className="fa-top">
        <div className="fa-where">
          <strong>{s.today?.grid.name ?? m.title}</strong>
          {s.today && <span>{s.today.grid.township} · {s.today.grid.village}</span>}
        </div>
        {langButton}
      </header>
      <OutboxLine {...ui} />
      </div>
      <main className="fa-main">
        {!gridKnown ? <GridChooser {...ui} /> : tab === 'today' ? <TodayScreen {...ui} /> : tab === 'map' ? (
          s.today ? <Suspense fallback={<p className="fa-muted">{m.map.loading}</p>}><GridMap today={s.today} m={m} /></Suspense> : <p className="fa-muted">{m.today.noData}</p>
        ) : <Suspense fallback={<p className="fa-muted">{m.today.loading}</p>}><ReportTab {...ui} /></Suspense>}
      </main>
      <nav className="fa-tabs">
        {(['today', 'map', 'report'] as const).map((t) => (
          <button key={t} className={t === tab ? 'on' : ''} data-testid={`tab-${t}`} onClick={() => setTab(t)}>{m.tabs[t]}</button>
        ))}
      </nav>
    </div>
  )
}

function OutboxLine({ m, lang }: UI) {
  const s = useSyncExternalStore(field.subscribe, field.get)
  const waiting = s.entries.filter((e) => e.state === 'waiting').length
  const problems = s.entries.length - waiting
  const parts = [
    !s.online ? m.outbox.offline : null,
    waiting ? fill(m.outbox.waiting, { n: waiting }) : m.outbox.none,
    s.sending && s.online ? m.outbox.sending : null,
    problems ? fill(m.outbox.problems, { n: problems }) : null,
    s.lastContact ? fill(m.outbox.lastContact, { t: clock(s.lastContact, lang) }) : m.outbox.never,
  ].filter(Boolean)
  return (
    <div className={`fa-outbox ${!s.online ? 'off' : waiting ? 'wait' : ''}`} data-testid="outbox-line" data-waiting={waiting} role="status">
      {parts.join(' · ')}
    </div>
  )
}

function Login({ m, langButton }: UI & { langButton: React.ReactNode }) {
  const [user, setUser] = useState('')
  const [pw, setPw] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const { lang } = useLang()
  return (
    <div className="fa fa-login">
      <header className="fa-top"><div className="fa-where"><strong>{m.login.title}</strong></div>{langButton}</header>
      <form className="fa-card" onSubmit={async (e) => {
        e.preventDefault()
        setBusy(true)
        setError(null)
        try {
          await login(user, pw)
          if (field.get().me?.user.mustChangePassword) setError(m.login.changePassword)
        } catch (err) {
          const body = (err as { body?: { error?: { zh: string; en: string } } }).body
          setError(body?.error ? body.error[lang] : m.login.offline)
          setPw('')
        } finally {
          setBusy(false)
        }
      }}>
        <label>{m.login.user}<input name="username" autoComplete="username" value={user} onChange={(e) => setUser(e.target.value)} required /></label>
        <label>{m.login.password}<input name="password" type="password" autoComplete="current-password" value={pw} onChange={(e) => setPw(e.target.value)} required /></label>
        {error && <p className="fa-error" role="alert">{error}</p>}
        <button className="fa-primary" type="submit" disabled={busy}>{busy ? m.login.busy : m.login.submit}</button>
      </form>
    </div>
  )
}

function GridChooser({ m }: UI) {
  const [grids, setGrids] = useState<{ code: string; name: string; village: string }[] | null>(null)
  useEffect(() => void listGrids().then(setGrids, () => setGrids([])), [])
  return (
    <section>
      <h2>{m.today.chooseGrid}</h2>
      {grids === null ? <p className="fa-muted">{m.today.loading}</p> : grids.map((g) => (
        <button key={g.code} className="fa-row" onClick={() => void chooseGrid(g.code)}><span>{g.village} · {g.name}</span></button>
      ))}
    </section>
  )
}

function TodayScreen(ui: UI) {
  const { m, lang } = ui
  const s = useSyncExternalStore(field.subscribe, field.get)
  const [task, setTask] = useState<number | null>(null)
  const [household, setHousehold] = useState<number | null>(null)
  const here = useHere()
  const today = s.today
  if (!today) return <p className="fa-muted">{s.online ? m.today.loading : m.today.noData}</p>
  const openTask = today.tasks.find((t) => t.id === task)
  const openHousehold = today.households.find((h) => h.id === household)
  if (openTask) return <TaskSheet {...ui} task={openTask} onBack={() => setTask(null)} />
  if (openHousehold) return <HouseholdSheet {...ui} h={openHousehold} onBack={() => setHousehold(null)} />
  const old = !s.todayAt || Date.now() - s.todayAt > 30 * 60_000 || !s.online
  const problems = s.entries.filter((e) => e.state !== 'waiting')
  return (
    <>
      {problems.map((e) => <Problem key={e.seq} {...ui} entry={e} today={today} />)}
      <Patrol {...ui} />
      {s.todayAt && <p className={old ? 'fa-stale' : 'fa-muted'} data-testid="data-age">{fill(old ? m.today.stale : m.today.fresh, { t: clock(s.todayAt, lang) })}</p>}
      {today.transfer.length > 0 && <TransferList {...ui} today={today} />}
      <section>
        <h2>{m.today.tasks}</h2>
        {!today.tasks.length && <p className="fa-muted">{m.today.noTasks}</p>}
        {today.tasks.map((t) => {
          const done = t.items.filter((i) => i.done).length
          return (
            <button key={t.id} className={`fa-row ${t.overdue ? 'late' : ''}`} data-testid={`task-${t.id}`} onClick={() => setTask(t.id)}>
              <span><b>{m.phase[t.phase]} · {m.target[t.targetKind]}</b> {t.targetName}</span>
              <span className="fa-chip">{t.overdue ? m.today.overdue : fill(m.today.due, { t: clock(t.dueAt, lang) })} · {fill(m.today.items, { done, all: t.items.length })}</span>
            </button>
          )
        })}
      </section>
      <section>
        <h2>{m.today.visits}</h2>
        {today.cadre && <p className="fa-muted" data-testid="cadre-line">{fill(m.today.cadre, { name: today.cadre.name, n: today.households.length })}</p>}
        {visitOrder(today.households, here).map(({ h, metres }) => (
          <button key={h.id} className={`fa-row ${h.overdue ? 'late' : ''}`} data-testid={`household-${h.id}`} onClick={() => setHousehold(h.id)}>
            <span><i className={`fa-dot ${h.risk}`} aria-label={m.risk[h.risk]} />{h.householder} <small>{fill(m.visit.members, { n: h.members })}</small>
              <Thumbs ids={(h.photos ?? []).slice(0, 1)} label={m.task.photo} size="small" /></span>
            <span className="fa-chip">
              {h.overdue ? m.today.overdue : fill(m.today.due, { t: clock(h.dueAt, lang) })}
              {metres !== null && <> · {fill(metres < 1000 ? m.today.metres : m.today.km, { n: metres < 1000 ? Math.round(metres / 10) * 10 : (metres / 1000).toFixed(1) })}</>}
            </span>
          </button>
        ))}
      </section>
    </>
  )
}

function Patrol({ m }: UI) {
  const [on, setOn] = useState(patrolling())
  const [denied, setDenied] = useState(false)
  return (
    <div className="fa-patrol">
      <span>{on ? m.patrol.on : denied ? m.patrol.denied : ''}</span>
      <button className={on ? 'fa-secondary' : 'fa-outline'} data-testid="patrol" onClick={async () => {
        if (on) {
          await stopPatrol()
          setOn(false)
        } else {
          setDenied(false)
          startPatrol(() => { setDenied(true); setOn(false); void stopPatrol() })
          setOn(patrolling())
        }
      }}>{on ? m.patrol.stop : m.patrol.off}</button>
    </div>
  )
}

function TransferList({ m, lang, today }: UI & { today: Today }) {
  const names = new Map(today.households.map((h) => [h.id, h]))
  return (
    <section>
      <h2>{m.today.transfer}</h2>
      {today.orders.map((o) => (
        <div key={o.id}>
          <p className="fa-muted">{o.title}</p>
          {today.transfer.filter((t) => t.orderId === o.id).map((t) => {
            const next = nextStatus(t.status)
            const h = names.get(t.householdId)
            return (
              <div key={t.householdId} className="fa-transfer" data-testid={`evac-${t.householdId}`} data-status={t.status}>
                <span>{h?.householder ?? t.householdId} <small>{fill(m.visit.members, { n: t.members })}</small><br /><b className={`fa-status ${t.status}`}>{statusWord(t.status, lang)}</b></span>
                {next && (
                  <button className="fa-primary" data-testid={`evac-next-${t.householdId}`}
                    onClick={() => void act({ kind: 'evac.status', order: t.orderId, household: t.householdId, from: t.status, status: next })}>
                    {fill(m.transfer.next, { s: statusWord(next, lang) })}
                  </button>
                )}
              </div>
            )
          })}
        </div>
      ))}
    </section>
  )
}

function Problem({ m, lang, entry, today }: UI & { entry: Entry; today: Today }) {
  const a = entry.action
  const answer = entry.answer
  if (entry.state === 'conflict' && a.kind === 'evac.status' && answer?.current) {
    const h = today.households.find((x) => x.id === a.household)
    return (
      <div className="fa-card fa-conflict" role="alert" data-testid={`conflict-${a.household}`}>
        <h2>{m.conflict.title} · {h?.householder ?? a.household}</h2>
        <p>{fill(m.conflict.body, { mine: statusWord(a.status, lang), current: statusWord(answer.current, lang) })}</p>
        <button className="fa-outline" data-testid="conflict-keep" onClick={() => void resolve(entry)}>{fill(m.conflict.keep, { current: statusWord(answer.current, lang) })}</button>
        <button className="fa-primary" data-testid="conflict-redo"
          onClick={() => void resolve(entry, { kind: 'evac.status', order: a.order, household: a.household, from: answer.current!, status: a.status })}>
          {fill(m.conflict.redo, { mine: statusWord(a.status, lang) })}
        </button>
      </div>
    )
  }
  return (
    <div className="fa-card fa-conflict" role="alert" data-testid="rejected">
      <h2>{m.conflict.rejected}</h2>
      <p>{answer?.error?.[lang] ?? ''}</p>
      <button className="fa-outline" onClick={() => void resolve(entry)}>{m.conflict.dismiss}</button>
    </div>
  )
}

function PhotoButton({ m, onPhoto }: { m: FieldMessages; onPhoto(p: Shrunk | null): void }) {
  const [shot, setShot] = useState<Shrunk | null>(null)
  const [bad, setBad] = useState(false)
  return (
    <div className="fa-photo-row">
      {shot && <img className="fa-thumb-local" src={`data:image/jpeg;base64,${shot.thumb}`} alt="" data-testid="photo-local-thumb" />}
      <label className="fa-outline fa-photo">
        {shot ? fill(m.task.photoAdded, { kb: Math.round((shot.photo.length * 3) / 4 / 1024) }) : bad ? m.task.photoBad : m.task.photo}
        <input type="file" accept="image/*" capture="environment" data-testid="photo-input" onChange={async (e) => {
          const f = e.target.files?.[0]
          if (!f) return
          try {
            const p = await shrinkPhoto(f)
            setShot(p)
            setBad(false)
            onPhoto(p)
          } catch {
            setBad(true)
            setShot(null)
            onPhoto(null)
          }
        }} />
      </label>
    </div>
  )
}

function TaskSheet({ m, lang, task, onBack }: UI & { task: Task; onBack(): void }) {
  const [noteFor, setNoteFor] = useState<number | null>(null)
  const [note, setNote] = useState('')
  const [photo, setPhoto] = useState<Shrunk | null>(null)
  return (
    <section className="fa-sheet" data-testid="task-sheet">
      <button className="fa-back" onClick={onBack}>‹ {m.task.back}</button>
      <h2>{m.phase[task.phase]} · {m.target[task.targetKind]} {task.targetName}</h2>
      <p className={task.overdue ? 'fa-stale' : 'fa-muted'}>{task.overdue ? m.today.overdue : fill(m.today.due, { t: clock(task.dueAt, lang) })}</p>
      {task.items.map((it, i) => (
        <div key={i} className="fa-item">
          <button className={`fa-check ${it.done ? 'on' : ''}`} role="checkbox" aria-checked={it.done} data-testid={`item-${i + 1}`}
            onClick={() => void act({ kind: 'task.item', task: task.id, item: i + 1, done: !it.done })}>
            <span className="box">{it.done ? '✓' : ''}</span><span>{it[lang]}{it.note ? <small><br />{it.note}</small> : null}</span>
          </button>
          <Thumbs ids={(task.photos ?? []).filter((p) => p.item === i + 1).map((p) => p.id)} label={m.task.photo} />
          {noteFor === i ? (
            <div className="fa-note">
              <textarea value={note} maxLength={500} placeholder={m.task.note} onChange={(e) => setNote(e.target.value)} data-testid="item-note" />
              <PhotoButton m={m} onPhoto={setPhoto} />
              <button className="fa-primary" data-testid="item-note-save" onClick={() => {
                void act({ kind: 'task.item', task: task.id, item: i + 1, note: note.trim() || null, ...(photo ? { photo: photo.photo, thumb: photo.thumb } : {}) })
                setNoteFor(null)
                setPhoto(null)
              }}>{m.task.saveNote}</button>
            </div>
          ) : (
            <button className="fa-link" data-testid={`item-note-${i + 1}`} onClick={() => { setNoteFor(i); setNote(it.note ?? ''); setPhoto(null) }}>{m.task.note}</button>
          )}
        </div>
      ))}
    </section>
  )
}

function HouseholdSheet({ m, lang, h, onBack }: UI & { h: Household; onBack(): void }) {
  const [note, setNote] = useState('')
  const [photo, setPhoto] = useState<Shrunk | null>(null)
  const [done, setDone] = useState(false)
  return (
    <section className="fa-sheet" data-testid="household-sheet">
      <button className="fa-back" onClick={onBack}>‹ {m.task.back}</button>
      <h2><i className={`fa-dot ${h.risk}`} aria-label={m.risk[h.risk]} />{h.householder}</h2>
      <p>{fill(m.visit.members, { n: h.members })}{h.vulnerable ? ` · ${fill(m.visit.vulnerable, { n: h.vulnerable })}` : ''}</p>
      <p className={h.overdue ? 'fa-stale' : 'fa-muted'}>{h.lastVisitAt ? fill(m.visit.last, { t: clock(h.lastVisitAt, lang) }) : m.visit.never}</p>
      <Thumbs ids={h.photos ?? []} label={m.task.photo} />
      {h.phone && !h.phone.includes('*') && <a className="fa-outline" href={`tel:${h.phone}`}>{m.visit.call} {h.phone}</a>}
      <textarea value={note} maxLength={500} placeholder={m.visit.note} onChange={(e) => setNote(e.target.value)} data-testid="visit-note" />
      <PhotoButton m={m} onPhoto={setPhoto} />
      {done ? <p className="fa-ok" role="status">{m.visit.done}</p> : (
        <button className="fa-primary fa-big" data-testid="visit-record" onClick={() => {
          void act({ kind: 'visit', household: h.id, ...(note.trim() ? { note: note.trim() } : {}), ...(photo ? { photo: photo.photo, thumb: photo.thumb } : {}) })
          setDone(true)
        }}>{m.visit.record}</button>
      )}
    </section>
  )
}
