import { useEffect, useState } from 'react'
import { ApiError, sendJson, type Throttle } from '../api.ts'
import { useI18n } from '../i18n/index.tsx'
import { when } from '../i18n/when.ts'
import { useApi } from '../useApi.ts'

/**
 * The login throttles in force, for an admin: who is made to wait after wrong passwords, from where,
 * until when, and a button to let them in now (an office behind one address, a chief who forgot).
 */
export function ThrottlesSection({ reloadKey }: { reloadKey: number }) {
  const { t, m, lang } = useI18n()
  const [tick, setTick] = useState(0)
  // Waits end by themselves: the list is asked again every 30 s.
  useEffect(() => {
    const timer = setInterval(() => setTick((n) => n + 1), 30_000)
    return () => clearInterval(timer)
  }, [])
  const list = useApi<Throttle[]>('/api/auth/throttles', reloadKey * 100_000 + tick)
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null)
  const at = (iso: string) => when(iso, lang, { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' })

  async function clear(row: Throttle) {
    try {
      await sendJson('DELETE', `/api/auth/throttles/${row.id}`, {})
      setMessage({ error: false, text: t('throttles.cleared') })
      setTick((n) => n + 1)
    } catch (err) {
      setMessage({ error: true, text: err instanceof ApiError ? (lang === 'zh' ? err.zh : err.en) : String(err) })
    }
  }

  const source = (r: Throttle) =>
    r.scope === 'account_device' ? t('throttles.device') : r.scope === 'account' ? t('throttles.anyPlace') : r.address

  return (
    <section className="throttles" data-testid="throttles">
      <h3>{t('throttles.title')}</h3>
      <p className="small">{t('throttles.hint')}</p>
      {message && <p className={message.error ? 'error' : 'notice'} role="status">{message.text}</p>}
      {list.state === 'error' && <p className="error" role="alert">{lang === 'zh' ? list.error.zh : list.error.en}</p>}
      {list.state === 'ok' && list.data.length === 0 && <p className="small">{t('throttles.none')}</p>}
      {list.state === 'ok' && list.data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>{t('throttles.who')}</th><th>{t('throttles.from')}</th><th>{t('throttles.failures')}</th>
              <th>{t('throttles.until')}</th><th>{t('throttles.forgotten')}</th><th />
            </tr>
          </thead>
          <tbody>
            {list.data.map((r) => (
              <tr key={r.id}>
                {r.username ? <td translate="no">{r.username}</td> : <td>{t('throttles.anyAccount')}</td>}
                <td>{source(r)} <span className="small">· {m.throttles.scopes[r.scope]}</span></td>
                <td>{r.failures}</td>
                <td>{r.blockedUntil ? at(r.blockedUntil) : t('throttles.now')}</td>
                <td>{at(r.forgottenAt)}</td>
                <td className="buttons"><button onClick={() => void clear(r)}>{t('throttles.clear')}</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}
