import { useState } from 'react'
import { inScope } from '../../../core/units.ts'
import { ApiError, sendJson } from '../api.ts'
import { useAuth } from '../auth/AuthProvider.tsx'
import { useI18n } from '../i18n/index.tsx'
import { useApi } from '../useApi.ts'
import { when } from '../i18n/when.ts'

type Phase = 'before' | 'during' | 'after'
type Status = 'not_started' | 'in_progress' | 'done' | 'missed'
interface Counts { total: number; done: number; doneLate: number; overdue: number; notStarted: number; inProgress: number; missed: number }
/** A storm event with tasks in the area (GET /api/tasks/events), newest first. */
interface StormEvent { id: number; county: string; countyName: string | null; startedAt: string; overAt: string | null }
interface Rollup { code: string; level: string; totals: Counts; children: (Counts & { code: string; name: string | null })[] }
interface TaskRow {
  id: number; phase: Phase; step: string | null; targetKind: string; targetName: string | null; unitCode: string
  assigneeName: string | null; dueAt: string; status: Status; overdue: boolean; itemCount: number; itemsDone: number
}
interface TaskDetail extends TaskRow {
  items: { zh: string; en: string; done: boolean; note?: string | null; byName?: string | null; at?: string | null }[]
  version: number
}

const phases: (Phase | 'all')[] = ['all', 'before', 'during', 'after']

/**
 * 三查 for the chosen area: completion per child unit (done / late / not
 * started), the task list with filters, and a task's items to tick; of the
 * current storm event (each county's latest) unless an older one is chosen.
 */
export function ChecksPanel({ unitCode: chosen, scope, onClose }: { unitCode: string; scope: string; onClose(): void }) {
  const { t, m, lang, num } = useI18n()
  const { may } = useAuth()
  // The chosen area, or the user's own when the chosen one is wider (a grid worker sees their grid).
  const unitCode = inScope(scope, chosen) ? chosen : scope
  const isGrid = unitCode.length > 12
  const [phase, setPhase] = useState<Phase | 'all'>('all')
  const [filter, setFilter] = useState<'all' | 'overdue' | 'not_started' | 'done'>('all')
  const [reload, setReload] = useState(0)
  const [event, setEvent] = useState<'current' | number>('current')
  const events = useApi<{ events: StormEvent[] }>(`/api/tasks/events?unit=${unitCode}`, reload)
  const eventQ = `&event=${event}`
  const phaseQ = eventQ + (phase === 'all' ? '' : `&phase=${phase}`)
  const filterQ = filter === 'all' ? '' : filter === 'overdue' ? '&overdue=true' : `&status=${filter}`
  const listPath = `/api/tasks?unit=${unitCode}${phaseQ}${filterQ}&limit=100`
  // The open task, as it was listed (and where) when opened. It stays open when a tick takes it out of
  // the filtered list (a first tick under 未开始 makes it 进行中): the user is still ticking its items.
  // Another area, phase or filter is leaving it.
  const [opened, setOpened] = useState<{ row: TaskRow; at: number; listPath: string } | null>(null)
  const open = opened?.listPath === listPath ? opened : null
  // A grid has no units below it: its totals come from the task list.
  const rollup = useApi<Rollup>(isGrid ? null : `/api/tasks/rollup?unit=${unitCode}${phaseQ}`, reload)
  const list = useApi<{ total: number; tasks: TaskRow[] }>(listPath, reload)
  const at = (iso: string) => when(iso, lang, { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' })
  const share = (c: Counts) => (c.total ? Math.round((100 * c.done) / c.total) : 0)
  const rows: { task: TaskRow; gone: boolean }[] = list.state === 'ok' ? list.data.tasks.map((task) => ({ task, gone: false })) : []
  if (open && list.state === 'ok' && !list.data.tasks.some((x) => x.id === open.row.id)) {
    rows.splice(Math.min(open.at, rows.length), 0, { task: open.row, gone: true })
  }
  const toggle = (task: TaskRow, i: number) => setOpened(open?.row.id === task.id ? null : { row: task, at: i, listPath })
  const changed = (d: TaskDetail) => {
    // The open row shows the answer to the tick at once, also when the refreshed list no longer holds it.
    setOpened((o) => (o && o.row.id === d.id ? { ...o, row: { ...o.row, status: d.status, overdue: d.overdue, itemsDone: d.itemsDone } } : o))
    setReload((n) => n + 1)
  }

  return (
    <section className="panel checks" data-testid="checks-panel">
      <header>
        <h2>{t('checks.title')}</h2>
        <button className="close" aria-label={t('close')} onClick={onClose}>×</button>
      </header>
      {/* Always there (options come when loaded): a row appearing above the tabs would move them under a click. */}
      <label className="checks-event">{t('checks.event')}{' '}
        <select data-testid="checks-event" value={String(event)} onChange={(e) => setEvent(e.target.value === 'current' ? 'current' : Number(e.target.value))}>
          <option value="current">{t('checks.currentEvent')}</option>
          {events.state === 'ok' && events.data.events.map((ev) => (
            <option key={ev.id} value={ev.id}>
              {t('checks.eventOption', { county: ev.countyName ?? ev.county, when: at(ev.startedAt) })}{ev.overAt ? t('checks.eventOver') : ''}
            </option>
          ))}
        </select>
      </label>
      <div className="tabs">
        {phases.map((p) => (
          <button key={p} className={p === phase ? 'on' : ''} onClick={() => setPhase(p)} data-testid={`checks-phase-${p}`}>{m.checks.phases[p]}</button>
        ))}
      </div>
      {rollup.state === 'ok' && (
        <>
          <div className="checks-totals" data-testid="checks-totals">
            <span><strong>{num(rollup.data.totals.done)}</strong>/{num(rollup.data.totals.total)} {t('checks.done')}</span>
            <span className="late"><strong>{num(rollup.data.totals.overdue)}</strong> {t('checks.overdue')}</span>
            <span className="muted"><strong>{num(rollup.data.totals.notStarted)}</strong> {t('checks.notStarted')}</span>
            {rollup.data.totals.missed > 0 && <span className="muted"><strong>{num(rollup.data.totals.missed)}</strong> {t('checks.missed')}</span>}
          </div>
          {rollup.data.children.length > 0 && (
            <table className="checks-children">
              <tbody>
                {rollup.data.children.map((c) => (
                  <tr key={c.code}>
                    <td>{c.name ?? c.code}</td>
                    <td className="bar"><span style={{ width: `${share(c)}%` }} /></td>
                    <td>{share(c)}%</td>
                    <td className={c.overdue ? 'late' : 'muted'}>{c.overdue ? t('checks.nOverdue', { n: c.overdue }) : ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
      {isGrid && list.state === 'ok' && filter === 'all' && (
        <div className="checks-totals" data-testid="checks-totals">
          <span><strong>{num(list.data.tasks.filter((x) => x.status === 'done').length)}</strong>/{num(list.data.total)} {t('checks.done')}</span>
          <span className="late"><strong>{num(list.data.tasks.filter((x) => x.overdue).length)}</strong> {t('checks.overdue')}</span>
          {list.data.tasks.some((x) => x.status === 'missed') && (
            <span className="muted"><strong>{num(list.data.tasks.filter((x) => x.status === 'missed').length)}</strong> {t('checks.missed')}</span>
          )}
        </div>
      )}
      {rollup.state === 'error' && <p className="error">{lang === 'zh' ? rollup.error.zh : rollup.error.en}</p>}
      <div className="tabs small-tabs">
        {(['all', 'overdue', 'not_started', 'done'] as const).map((f) => (
          <button key={f} className={f === filter ? 'on' : ''} onClick={() => setFilter(f)} data-testid={`checks-filter-${f}`}>{m.checks.filters[f]}</button>
        ))}
      </div>
      {!may('task.complete') && <p className="small" data-testid="checks-read-only">{t('checks.readOnly')}</p>}
      {list.state === 'error' && <p className="error">{lang === 'zh' ? list.error.zh : list.error.en}</p>}
      {list.state === 'ok' && (
        <ol className="task-list" data-testid="task-list">
          {rows.length === 0 && <li className="muted">{t('checks.none')}</li>}
          {rows.map(({ task, gone }, i) => (
            <li key={task.id} className={`${task.overdue ? 'late' : task.status === 'missed' ? 'missed' : ''}${gone ? ' gone' : ''}`} data-task={task.id}>
              <button className="link" aria-expanded={open?.row.id === task.id} onClick={() => toggle(task, i)}>
                {m.checks.phases[task.phase]} · {task.targetName ?? task.unitCode}
              </button>
              <span className="small">
                {' '}{t('checks.progress', { done: task.itemsDone, total: task.itemCount })} · {task.status === 'missed' ? t('checks.closed') : t('checks.due', { when: at(task.dueAt) })}
                {task.assigneeName ? ` · ${task.assigneeName}` : ''}
              </span>
              {gone && <> <span className="badge gone-note" data-testid="task-gone" title={t('checks.noLongerMatchesTip')}>{t('checks.noLongerMatches')}</span></>}
              {open?.row.id === task.id && <TaskItems id={task.id} canTick={may('task.complete')} onChanged={changed} />}
            </li>
          ))}
          {list.data.total > list.data.tasks.length && <li className="muted">{t('checks.more', { n: list.data.total - list.data.tasks.length })}</li>}
        </ol>
      )}
    </section>
  )
}

function TaskItems({ id, canTick, onChanged }: { id: number; canTick: boolean; onChanged(d: TaskDetail): void }) {
  const { t, lang } = useI18n()
  const fetched = useApi<TaskDetail>(`/api/tasks/${id}`)
  // The PATCH answers the whole task: shown as is, with no second request.
  const [answered, setAnswered] = useState<TaskDetail | null>(null)
  const [error, setError] = useState<{ item: number; message: string } | null>(null)
  const [busy, setBusy] = useState<number | null>(null)
  async function tick(n: number, done: boolean) {
    setBusy(n)
    try {
      const d = await sendJson<TaskDetail>('PATCH', `/api/tasks/${id}/items/${n}`, { done })
      setError(null)
      setAnswered(d)
      onChanged(d)
    } catch (err) {
      setError({ item: n, message: err instanceof ApiError ? (lang === 'zh' ? err.zh : err.en) : String(err) })
    } finally {
      setBusy(null)
    }
  }
  const task = answered ?? (fetched.state === 'ok' ? fetched.data : null)
  if (fetched.state === 'error' && !answered) return <p className="error">{lang === 'zh' ? fetched.error.zh : fetched.error.en}</p>
  if (!task) return null
  return (
    <ul className="task-items" data-testid="task-items">
      {task.items.map((item, i) => (
        <li key={i}>
          <label className="check">
            <input type="checkbox" checked={item.done} disabled={!canTick || busy !== null} onChange={(e) => void tick(i + 1, e.target.checked)} />
            {lang === 'zh' ? item.zh : item.en}
          </label>
          {item.done && item.byName && <span className="small"> {t('checks.doneBy', { name: item.byName })}</span>}
          {/* A refused tick says why beside the box that was ticked. */}
          {error?.item === i + 1 && <div className="error" role="alert">{error.message}</div>}
        </li>
      ))}
    </ul>
  )
}
