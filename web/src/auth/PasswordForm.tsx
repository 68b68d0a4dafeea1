import { useState, type FormEvent } from 'react'
import { ApiError, sendJson } from '../api.ts'
import { useI18n } from '../i18n/index.tsx'

/** Change one's own password; `forced` when the account must change it before anything else. */
export function PasswordForm({ forced, onDone, onCancel }: { forced: boolean; onDone(): void; onCancel?(): void }) {
  const { t, lang } = useI18n()
  const [current, setCurrent] = useState('')
  const [next, setNext] = useState('')
  const [repeat, setRepeat] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)

  async function submit(e: FormEvent) {
    e.preventDefault()
    if (next !== repeat) return setError(t('auth.mismatch'))
    setBusy(true)
    setError(null)
    try {
      await sendJson('POST', '/api/auth/password', { current, next })
      onDone()
    } catch (err) {
      setError(err instanceof ApiError ? (lang === 'zh' ? err.zh : err.en) : String(err))
    } finally {
      setBusy(false)
    }
  }

  return (
    <form className="panel login" onSubmit={submit} data-testid="password-form">
      <h2>{t('auth.changePassword')}</h2>
      {forced && <p className="notice">{t('auth.mustChange')}</p>}
      <label>
        {t('auth.current')}
        <input type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} required />
      </label>
      <label>
        {t('auth.next')}
        <input type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} required />
      </label>
      <label>
        {t('auth.repeat')}
        <input type="password" autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.target.value)} required />
      </label>
      <p className="small">{t('auth.rules')}</p>
      {error && <p className="error" role="alert">{error}</p>}
      <div className="buttons">
        <button className="primary" type="submit" disabled={busy}>{t('auth.save')}</button>
        {onCancel && <button type="button" onClick={onCancel}>{t('auth.cancel')}</button>}
      </div>
    </form>
  )
}
