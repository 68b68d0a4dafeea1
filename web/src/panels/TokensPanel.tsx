import { useState, type FormEvent } from 'react'
import { ApiError, sendJson, type AccessToken } from '../api.ts'
import { useI18n } from '../i18n/index.tsx'
import { when } from '../i18n/when.ts'
import { useApi } from '../useApi.ts'

const EXPIRY_DAYS = [30, 90, 365] as const

/**
 * One's own personal access tokens for desktop GIS clients (api/auth/tokens.ts): make one (its secret shown
 * this once, with the QGIS tile URL built from this page's own address), see when each was last used, revoke.
 */
export function TokensPanel({ onClose }: { onClose(): void }) {
  const { t, lang } = useI18n()
  const [reload, setReload] = useState(0)
  const list = useApi<AccessToken[]>('/api/tokens', reload)
  const [name, setName] = useState('')
  const [days, setDays] = useState<number | ''>('')
  const [made, setMade] = useState<{ name: string; token: string } | null>(null)
  const [copied, setCopied] = useState<string | null>(null)
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null)
  const say = (err: unknown) => setMessage({ error: true, text: err instanceof ApiError ? (lang === 'zh' ? err.zh : err.en) : String(err) })
  const at = (iso: string) => when(iso, lang, { year: 'numeric', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' })

  async function create(e: FormEvent) {
    e.preventDefault()
    try {
      const r = await sendJson<AccessToken & { token: string }>('POST', '/api/tokens', days === '' ? { name } : { name, expiresInDays: days })
      setMade({ name: r.name, token: r.token })
      setCopied(null)
      setMessage(null)
      setName('')
      setReload((n) => n + 1)
    } catch (err) {
      say(err)
    }
  }
  async function revoke(token: AccessToken) {
    try {
      await sendJson('DELETE', `/api/tokens/${token.id}`, {})
      setMessage({ error: false, text: t('tokens.revoked') })
      setReload((n) => n + 1)
    } catch (err) {
      say(err)
    }
  }
  // The clipboard API exists on https and localhost only: elsewhere the person selects and copies.
  async function copy(text: string) {
    try {
      await navigator.clipboard.writeText(text)
      setCopied(t('tokens.copied'))
    } catch {
      setCopied(t('tokens.copyByHand'))
    }
  }

  // The page's own address, never one the server was told by a Host header.
  const tileUrl = made && `${window.location.origin}/tiles/grids/{z}/{x}/{y}.mvt?access_token=${made.token}`
  const expired = (x: AccessToken) => x.expiresAt !== null && new Date(x.expiresAt).getTime() <= Date.now()

  return (
    <section className="panel tokens" data-testid="tokens-panel">
      <header>
        <h2>{t('tokens.title')}</h2>
        <button className="close" aria-label={t('close')} onClick={onClose}>×</button>
      </header>
      <p className="small">{t('tokens.hint')}</p>
      {message && <p className={message.error ? 'error' : 'notice'} role="status">{message.text}</p>}
      <form className="create" onSubmit={create}>
        <input aria-label={t('tokens.name')} placeholder={t('tokens.name')} value={name} maxLength={40} onChange={(e) => setName(e.target.value)} required />
        <label className="small">
          {t('tokens.expires')}{' '}
          <select value={days} onChange={(e) => setDays(e.target.value === '' ? '' : Number(e.target.value))}>
            <option value="">{t('tokens.never')}</option>
            {EXPIRY_DAYS.map((d) => <option key={d} value={d}>{t('tokens.days', { n: d })}</option>)}
          </select>
        </label>
        <button className="primary" type="submit" data-testid="token-create">{t('tokens.create')}</button>
      </form>
      {made && tileUrl && (
        <div className="secret" data-testid="token-secret">
          <strong>{made.name}</strong>
          <p className="notice">{t('tokens.once')}</p>
          <div className="buttons">
            <input readOnly value={made.token} translate="no" data-testid="token-value" onFocus={(e) => e.target.select()} />
            <button type="button" onClick={() => void copy(made.token)}>{t('tokens.copy')}</button>
          </div>
          <span className="small">{t('tokens.qgis')}</span>
          <div className="buttons">
            <input readOnly value={tileUrl} translate="no" data-testid="token-tile-url" onFocus={(e) => e.target.select()} />
            <button type="button" onClick={() => void copy(tileUrl)}>{t('tokens.copy')}</button>
          </div>
          <span className="small">{t('tokens.header')} <code translate="no">Authorization: Bearer {made.token.slice(0, 7)}…</code></span>
          {copied && <span className="small" role="status">{copied}</span>}
        </div>
      )}
      {list.state === 'error' && <p className="error" role="alert">{lang === 'zh' ? list.error.zh : list.error.en}</p>}
      {list.state === 'ok' && list.data.length === 0 && <p className="small">{t('tokens.none')}</p>}
      {list.state === 'ok' && list.data.length > 0 && (
        <table data-testid="token-list">
          <thead>
            <tr><th>{t('tokens.name')}</th><th>{t('tokens.createdAt')}</th><th>{t('tokens.lastUsed')}</th><th>{t('tokens.expiresAt')}</th><th /></tr>
          </thead>
          <tbody>
            {list.data.map((x) => (
              <tr key={x.id}>
                <td>{x.name}</td>
                <td>{at(x.createdAt)}</td>
                <td>{x.lastUsedAt ? at(x.lastUsedAt) : t('tokens.neverUsed')}</td>
                <td>{x.expiresAt ? `${at(x.expiresAt)}${expired(x) ? ` · ${t('tokens.expired')}` : ''}` : t('tokens.noExpiry')}</td>
                <td className="buttons"><button onClick={() => void revoke(x)}>{t('tokens.revoke')}</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}
