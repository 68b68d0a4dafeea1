import { useState, type FormEvent } from 'react'
import { ApiError, sendJson, type Account, type Role } from '../api.ts'
import { useI18n } from '../i18n/index.tsx'
import { useApi } from '../useApi.ts'
import { ThrottlesSection } from './ThrottlesSection.tsx'

const roleList: Role[] = ['admin', 'commander', 'township', 'grid_worker', 'planner', 'viewer']

/** Accounts for an admin: list, create, disable/enable, reset a password; the login throttles in force. */
export function AccountsPanel({ onClose }: { onClose(): void }) {
  const { t, m, lang } = useI18n()
  const [reload, setReload] = useState(0)
  const list = useApi<Account[]>('/api/users', reload)
  const [form, setForm] = useState({ username: '', displayName: '', role: 'township' as Role, unitCode: '', password: '' })
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null)
  const say = (err: unknown) => setMessage({ error: true, text: err instanceof ApiError ? (lang === 'zh' ? err.zh : err.en) : String(err) })

  async function create(e: FormEvent) {
    e.preventDefault()
    try {
      await sendJson('POST', '/api/users', form)
      setMessage({ error: false, text: t('accounts.created', { name: form.username }) })
      setForm({ ...form, username: '', displayName: '', password: '' })
      setReload((n) => n + 1)
    } catch (err) {
      say(err)
    }
  }
  async function patch(a: Account, change: Record<string, unknown>) {
    try {
      await sendJson('PATCH', `/api/users/${a.id}`, { version: a.version, ...change })
      setMessage(null)
      setReload((n) => n + 1)
    } catch (err) {
      say(err)
    }
  }

  return (
    <section className="panel accounts" data-testid="accounts-panel">
      <header>
        <h2>{t('accounts.title')}</h2>
        <button className="close" aria-label={t('close')} onClick={onClose}>×</button>
      </header>
      {message && <p className={message.error ? 'error' : 'notice'} role="status">{message.text}</p>}
      {list.state === 'ok' && (
        <table>
          <thead>
            <tr><th>{t('accounts.username')}</th><th>{t('accounts.displayName')}</th><th>{t('accounts.role')}</th><th>{t('accounts.unit')}</th><th /></tr>
          </thead>
          <tbody>
            {list.data.map((a) => (
              <tr key={a.id} className={a.disabled ? 'muted' : ''}>
                {/* Login names and codes are identifiers, read as they are (translate="no"). */}
                <td translate="no">{a.username}</td>
                <td>{a.displayName}</td>
                <td>{m.roleNames[a.role]}</td>
                <td translate="no">{a.unitCode}</td>
                <td className="buttons">
                  {a.disabled && <span className="badge">{t('accounts.disabled')}</span>}
                  <button onClick={() => void patch(a, { disabled: !a.disabled })}>{a.disabled ? t('accounts.enable') : t('accounts.disable')}</button>
                  <button onClick={() => {
                    const p = window.prompt(t('accounts.newPassword'))
                    if (p) void patch(a, { password: p })
                  }}>{t('accounts.resetPassword')}</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ThrottlesSection reloadKey={reload} />
      <form className="create" onSubmit={create}>
        <h3>{t('accounts.create')}</h3>
        <input placeholder={t('accounts.username')} value={form.username} onChange={(e) => setForm({ ...form, username: e.target.value })} required />
        <input placeholder={t('accounts.displayName')} value={form.displayName} onChange={(e) => setForm({ ...form, displayName: e.target.value })} required />
        <select value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value as Role })}>
          {roleList.map((r) => <option key={r} value={r}>{m.roleNames[r]}</option>)}
        </select>
        <input placeholder={t('accounts.unit')} value={form.unitCode} onChange={(e) => setForm({ ...form, unitCode: e.target.value })} required />
        <input placeholder={t('accounts.password')} type="password" autoComplete="new-password" value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} required />
        <button className="primary" type="submit">{t('accounts.create')}</button>
      </form>
    </section>
  )
}
