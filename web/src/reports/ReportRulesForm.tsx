import { useState, type FormEvent } from 'react'
import { sendJson } from '../api.ts'
import { useI18n } from '../i18n/index.tsx'
import { apiMessage } from '../panels/apiMessage.ts'
import type { ReportTypes, Urgency } from './types.ts'

const urgencies: Urgency[] = ['critical', 'urgent', 'normal']
type Limits = Record<'ackMinutes' | 'handleMinutes', Record<Urgency, string>>

const asText = (r: Record<Urgency, number>) => ({ critical: String(r.critical), urgent: String(r.urgent), normal: String(r.normal) })
const asNumbers = (r: Record<Urgency, string>) => ({ critical: Number(r.critical), urgent: Number(r.urgent), normal: Number(r.normal) })

/**
 * The time limits the clock runs on (PUT /api/reports/rules, a city-level
 * account): minutes to acknowledge and to handle, by urgency. The version read
 * goes back with the change, so a change made meanwhile is refused, not lost.
 */
export function ReportRulesForm({ types, onSaved, onClose }: { types: ReportTypes; onSaved(): void; onClose(): void }) {
  const { t, m, lang } = useI18n()
  const [limits, setLimits] = useState<Limits>({ ackMinutes: asText(types.ackMinutes), handleMinutes: asText(types.handleMinutes) })
  const [busy, setBusy] = useState(false)
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null)
  async function save(e: FormEvent) {
    e.preventDefault()
    setBusy(true)
    try {
      await sendJson('PUT', '/api/reports/rules', { version: types.version, ackMinutes: asNumbers(limits.ackMinutes), handleMinutes: asNumbers(limits.handleMinutes) })
      setMessage({ error: false, text: t('reports.rules.saved') })
      onSaved()
    } catch (err) {
      setMessage({ error: true, text: apiMessage(err, lang, m) })
    } finally {
      setBusy(false)
    }
  }
  const set = (k: keyof Limits, u: Urgency, v: string) => setLimits((l) => ({ ...l, [k]: { ...l[k], [u]: v } }))
  return (
    <form className="report-rules" onSubmit={save} data-testid="report-rules-form">
      <h3>{t('reports.rules.title')}</h3>
      <p className="small">{t('reports.rules.hint')}</p>
      <table>
        <thead><tr><th />{urgencies.map((u) => <th key={u}><span className={`urgency u-${u}`}>{m.reports.urgencies[u]}</span></th>)}</tr></thead>
        <tbody>
          {(['ackMinutes', 'handleMinutes'] as const).map((k) => (
            <tr key={k}>
              <th scope="row">{t(k === 'ackMinutes' ? 'reports.rules.ack' : 'reports.rules.handle')}</th>
              {urgencies.map((u) => (
                <td key={u}>
                  <input type="number" min={1} max={43200} step={1} required value={limits[k][u]} name={`${k}-${u}`} data-testid={`rules-${k}-${u}`}
                    aria-label={`${t(k === 'ackMinutes' ? 'reports.rules.ack' : 'reports.rules.handle')} ${m.reports.urgencies[u]}`}
                    onChange={(e) => set(k, u, e.target.value)} />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {message && <p className={message.error ? 'error' : 'notice'} role={message.error ? 'alert' : 'status'} data-testid="report-rules-message">{message.text}</p>}
      <div className="buttons">
        <button type="submit" className="primary" disabled={busy}>{t('reports.rules.save')}</button>
        <button type="button" onClick={onClose}>{t('close')}</button>
      </div>
    </form>
  )
}
