import { useState, type FormEvent } from 'react'
import { ApiError, sendJson, type Me } from '../api.ts'
import { useI18n } from '../i18n/index.tsx'

export function LoginPage({ onIn, expired }: { onIn(me: Me): void; expired: boolean }) {
  const { t, lang, setLang } = useI18n()
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)

  async function submit(e: FormEvent) {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      onIn(await sendJson<Me>('POST', '/api/auth/login', { username, password }))
    } catch (err) {
      setError(err instanceof ApiError ? (lang === 'zh' ? err.zh : err.en) : String(err))
      setPassword('')
    } finally {
      setBusy(false)
    }
  }

  return (
    <div className="login-page">
      <form className="panel login" onSubmit={submit} data-testid="login-form">
        <header>
          <h1>{t('appTitle')}</h1>
          <button type="button" className="lang" onClick={() => setLang(lang === 'zh' ? 'en' : 'zh')}>{t('switchLanguage')}</button>
        </header>
        <p className="muted">{t('auth.subtitle')}</p>
        {expired && <p className="notice" data-testid="login-expired">{t('auth.expired')}</p>}
        <label>
          {t('auth.username')}
          <input name="username" autoComplete="username" autoFocus value={username} onChange={(e) => setUsername(e.target.value)} required />
        </label>
        <label>
          {t('auth.password')}
          <input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        </label>
        {error && <p className="error" role="alert" data-testid="login-error">{error}</p>}
        <button className="primary" type="submit" disabled={busy}>{busy ? t('auth.submitting') : t('auth.submit')}</button>
        <p className="small">{t('auth.demoHint')}</p>
      </form>
    </div>
  )
}
