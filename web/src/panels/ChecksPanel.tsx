import { useState } from 'react'
import { inScope } from '../../../api/auth/policy.ts'
import { ApiError, sendJson } from '../api.ts'
import { useI18n } from '../i18n/index.tsx'
import { useApi } from '../useApi.ts'
import { when } from '../i18n/when.ts'

type Phase = 'before' | 'during' | 'after'
type Status = 'not_started' | 'in_progress' | 'done'
interface Counts { total: number; done: number; doneLate: number; overdue: number; notStarted: number; inProgress: number }
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
 * started), the task list with filters, and a task's items to tick.
 */
export function ChecksPanel({ unitCode: chosen, scope, onClose }: { unitCode: string; scope: string; onClose(): void }) {
  const { t, m, lang, num } = useI18n()
  // The chosen area, or the user's own when the chosen one is wider (a grid worker sees their grid).
  const unitCode = inScope(scope, chosen) ? chosen : scope
  const isGrid = unitCode.length > 12
  const [phase, setPhase] = useState<Phase | 'all'>('all')
  const [filter, setFilter] = useState<'all' | 'overdue' | 'not_started' | 'done'>('all')
  const [open, setOpen] = useState<number | null>(null)
  const [reload, setReload] = useState(0)
  const phaseQ = phase === 'all' ? '' : `&phase=${phase}`
  const filterQ = filter === 'all' ? '' : filter === 'overdue' ? '&overdue=true' : `&status=${filter}`
  // A grid has no units below it: its totals come from the task list.
  const rollup = useApi<Rollup>(isGrid ? null : `/api/tasks/rollup?unit=${unitCode}${phaseQ}`, reload)
  const list = useApi<{ total: number; tasks: TaskRow[] }>(`/api/tasks?unit=${unitCode}${phaseQ}${filterQ}&limit=100`, reload)
  const at = (iso: string) => when(iso, lang, { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' })
  const share = (c: Counts) => (c.total ? Math.round((100 * c.done) / c.total) : 0)

  return (
    <section className="panel checks" data-testid="checks-panel">
      <header>
        <h2>{t('checks.title')}</h2>
        <button className="close" aria-label={t('close')} onClick={onClose}>×</button>
      </header>
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
        </div>
      )}
      {rollup.state === 'error' && <p className="error">{lang === 'zh' ? rollup.error.zh : rollup.error.en}</p>}
      <div className="tabs small-tabs">
        {(['all', 'overdue', 'not_started', 'done'] as const).map((f) => (
          <button key={f} className={f === filter ? 'on' : ''} onClick={() => setFilter(f)}>{m.checks.filters[f]}</button>
        ))}
      </div>
      {list.state === 'ok' && (
        <ol className="task-list" data-testid="task-list">
          {list.data.tasks.length === 0 && <li className="muted">{t('checks.none')}</li>}
          {list.data.tasks.map((task) => (
            <li key={task.id} className={task.overdue ? 'late' : ''}>
              <button className="link" onClick={() => setOpen(open === task.id ? null : task.id)}>
                {m.checks.phases[task.phase]} · {task.targetName ?? task.unitCode}
              </button>
              <span className="small">
                {' '}{t('checks.progress', { done: task.itemsDone, total: task.itemCount })} · {t('checks.due', { when: at(task.dueAt) })}
                {task.assigneeName ? ` · ${task.assigneeName}` : ''}
              </span>
              {open === task.id && <TaskItems id={task.id} onChanged={() => setReload((n) => n + 1)} />}
            </li>
          ))}
          {list.data.total > list.data.tasks.length && <li className="muted">{t('checks.more', { n: list.data.total - list.data.tasks.length })}</li>}
        </ol>
      )}
    </section>
  )
}

function TaskItems({ id, onChanged }: { id: number; onChanged(): void }) {
  const { t, lang } = useI18n()
  const [reload, setReload] = useState(0)
  const task = useApi<TaskDetail>(`/api/tasks/${id}`, reload)
  const [error, setError] = useState<string | null>(null)
  async function tick(n: number, done: boolean) {
    try {
      await sendJson('PATCH', `/api/tasks/${id}/items/${n}`, { done })
      setError(null)
      setReload((k) => k + 1)
      onChanged()
    } catch (err) {
      setError(err instanceof ApiError ? (lang === 'zh' ? err.zh : err.en) : String(err))
    }
  }
  if (task.state !== 'ok') return null
  return (
    <ul className="task-items" data-testid="task-items">
      {task.data.items.map((item, i) => (
        <li key={i}>
          <label className="check">
            <input type="checkbox" checked={item.done} onChange={(e) => void tick(i + 1, e.target.checked)} />
            {lang === 'zh' ? item.zh : item.en}
          </label>
          {item.done && item.byName && <span className="small"> {t('checks.doneBy', { name: item.byName })}</span>}
        </li>
      ))}
      {error && <li className="error" role="alert">{error}</li>}
    </ul>
  )
}
