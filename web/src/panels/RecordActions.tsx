import { useState, type FormEvent } from 'react'
import { ApiError, sendJson, type AuditEntry, type GridRecord, type HouseholdRecord, type Risk } from '../api.ts'
import { useI18n } from '../i18n/index.tsx'
import { useApi } from '../useApi.ts'
import { when } from '../i18n/when.ts'

function useErrorText() {
  const { lang } = useI18n()
  return (err: unknown) => (err instanceof ApiError ? (lang === 'zh' ? err.zh : err.en) : String(err))
}

/** Visit, ledger edit and history for a household, as far as the user's role and area allow. */
export function HouseholdActions({ h, onChanged }: { h: HouseholdRecord; onChanged(): void }) {
  const { t, term } = useI18n()
  const errorText = useErrorText()
  const [mode, setMode] = useState<'visit' | 'edit' | null>(null)
  const [note, setNote] = useState('')
  const [risk, setRisk] = useState<Risk>(h.risk_level)
  const [measures, setMeasures] = useState(h.measures ?? '')
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null)

  async function run(e: FormEvent, work: () => Promise<unknown>, done: string) {
    e.preventDefault()
    try {
      await work()
      setMode(null)
      setMessage({ error: false, text: done })
      onChanged()
    } catch (err) {
      setMessage({ error: true, text: errorText(err) })
    }
  }

  return (
    <div className="record-actions">
      {h.masked && <p className="small" data-testid="record-masked">{t('actions.masked')}</p>}
      <div className="buttons">
        {h.can.includes('household.visit') && (
          <button data-testid="action-visit" onClick={() => setMode(mode === 'visit' ? null : 'visit')}>{t('actions.recordVisit')}</button>
        )}
        {h.can.includes('household.edit') && (
          <button data-testid="action-edit" onClick={() => setMode(mode === 'edit' ? null : 'edit')}>{t('actions.edit')}</button>
        )}
      </div>
      {mode === 'visit' && (
        <form onSubmit={(e) => run(e, () => sendJson('POST', `/api/households/${h.id}/visits`, note ? { note } : {}), t('actions.visitSaved'))}>
          <textarea placeholder={t('actions.visitNote')} value={note} maxLength={500} onChange={(e) => setNote(e.target.value)} />
          <div className="buttons">
            <button className="primary" type="submit" data-testid="action-visit-save">{t('actions.save')}</button>
            <button type="button" onClick={() => setMode(null)}>{t('actions.cancel')}</button>
          </div>
        </form>
      )}
      {mode === 'edit' && (
        <form onSubmit={(e) => run(e, () => sendJson('PATCH', `/api/households/${h.id}`, { version: h.version, risk_level: risk, measures: measures || null }), t('actions.saved'))}>
          <label>
            {t('record.riskLevel')}
            <select value={risk} onChange={(e) => setRisk(e.target.value as Risk)} data-testid="edit-risk">
              {(['red', 'yellow', 'green'] as const).map((r) => <option key={r} value={r}>{term('risk', r)}</option>)}
            </select>
          </label>
          <label>
            {t('record.measures')}
            <textarea value={measures} maxLength={500} onChange={(e) => setMeasures(e.target.value)} />
          </label>
          <div className="buttons">
            <button className="primary" type="submit" data-testid="action-edit-save">{t('actions.save')}</button>
            <button type="button" onClick={() => setMode(null)}>{t('actions.cancel')}</button>
          </div>
        </form>
      )}
      {message && <p className={message.error ? 'error' : 'notice'} role="status" data-testid="action-message">{message.text}</p>}
      {h.can.includes('audit.read') && <History table="households" id={h.id} version={h.version} />}
    </div>
  )
}

/** Renaming and history for a grid. */
export function GridActions({ g, onChanged }: { g: GridRecord; onChanged(): void }) {
  const { t } = useI18n()
  const errorText = useErrorText()
  const [editing, setEditing] = useState(false)
  const [name, setName] = useState(g.name)
  const [error, setError] = useState<string | null>(null)
  async function save(e: FormEvent) {
    e.preventDefault()
    try {
      await sendJson('PATCH', `/api/grids/${g.id}`, { version: g.version, name })
      setEditing(false)
      setError(null)
      onChanged()
    } catch (err) {
      setError(errorText(err))
    }
  }
  return (
    <div className="record-actions">
      {g.can.includes('grid.edit') && !editing && <button onClick={() => setEditing(true)}>{t('actions.rename')}</button>}
      {/* Boundaries are drawn in the grid editor, opened on this grid's village with the grid picked. */}
      {g.can.includes('grid.edit') && !editing && (
        <a className="link" data-testid="open-editor" href={`/editor?village=${g.village.code}&grid=${g.kind === 'micro' && g.parent ? g.parent.code : g.code}`}>{t('actions.openEditor')}</a>
      )}
      {editing && (
        <form onSubmit={save}>
          <input value={name} maxLength={60} onChange={(e) => setName(e.target.value)} required />
          <div className="buttons">
            <button className="primary" type="submit">{t('actions.save')}</button>
            <button type="button" onClick={() => setEditing(false)}>{t('actions.cancel')}</button>
          </div>
        </form>
      )}
      {error && <p className="error" role="alert">{error}</p>}
      {g.can.includes('audit.read') && <History table="grids" id={g.id} version={g.version} />}
    </div>
  )
}

const isoTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/

/** Who changed this object, when, from what to what (newest first), all in words: no column names or codes. */
function History({ table, id, version }: { table: string; id: number; version: number }) {
  const { t, m, lang, term } = useI18n()
  const [open, setOpen] = useState(false)
  // The version in the key reloads the history after our own change.
  const list = useApi<AuditEntry[]>(open ? `/api/audit/${table}/${id}?v=${version}` : null)
  const fields = m.history.fields as Record<string, string>
  const label = (field: string) =>
    field === 'geom' ? (table === 'households' ? t('history.location') : t('history.geometry')) : (fields[field] ?? t('history.otherField'))
  const value = (field: string, v: unknown) => {
    if (v === null || v === undefined || v === '') return '—'
    if (typeof v === 'boolean') return v ? t('yes') : t('no')
    if (typeof v === 'object') return '…'
    if (field === 'risk_level') return term('risk', String(v))
    if (field === 'kind') return (m.history.gridKinds as Record<string, string>)[String(v)] ?? '—'
    if (typeof v === 'string' && isoTime.test(v)) return when(v, lang)
    return String(v)
  }
  // A person by name; a direct database edit or a script, which have none, by what they are.
  const who = (e: AuditEntry) => e.actorName ?? (e.actor.startsWith('db:') ? t('history.database') : t('history.script'))
  const actions: Record<string, string> = { insert: m.history.insert, update: m.history.update, delete: m.history.delete, login: m.history.login, login_failed: m.history.login_failed, export: m.history.export }
  return (
    <div className="history">
      <button className="link" data-testid="history-toggle" onClick={() => setOpen(!open)}>{open ? t('actions.hideHistory') : t('actions.history')}</button>
      {open && list.state === 'ok' && (
        <ol data-testid="history">
          {list.data.length === 0 && <li className="muted">{t('history.empty')}</li>}
          {list.data.map((e) => {
            const keys = Object.keys(e.after ?? e.before ?? {}).filter((k) => k !== 'id' && k !== 'version' && k !== 'updated_at')
            const roleName = e.actorRole && e.actorRole in m.roleNames ? m.roleNames[e.actorRole as keyof typeof m.roleNames] : null
            return (
              <li key={e.id}>
                <span className="small">{when(e.at, lang)}</span>{' '}
                <strong>{roleName ? t('history.by', { actor: who(e), role: roleName }) : who(e)}</strong>{' '}
                {actions[e.action] ?? t('history.otherField')}
                {e.action === 'update' && keys.map((k) => (
                  <div key={k} className="small">{t('history.change', { field: label(k), from: value(k, e.before?.[k]), to: value(k, e.after?.[k]) })}</div>
                ))}
              </li>
            )
          })}
        </ol>
      )}
    </div>
  )
}
