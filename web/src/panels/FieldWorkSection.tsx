import { useState } from 'react'
import { format, useI18n } from '../i18n/index.tsx'
import { beijingToday, when } from '../i18n/when.ts'
import { useApi } from '../useApi.ts'
import { apiMessage } from './apiMessage.ts'

interface Overview {
  rows: { code: string; name: string | null; visits: number; ticks: number; reports: number; patrollers: number; lastContact: string | null }[]
  totals: { visits: number; ticks: number; reports: number; patrollers: number }
}

/** Phones silent this long are marked: in a storm a grid that went quiet is the one to call. */
const QUIET_MS = 2 * 3600_000

/**
 * Today's field work below the chosen unit, row by row (grids of a township or
 * village, townships of a county, counties of the city): visits, 三查 items
 * ticked, reports filed, workers on patrol, and when the phones were last in
 * touch. Closed until opened: it is read on demand, not on every click of the map.
 */
export function FieldWorkSection({ code, onSelect }: { code: string; onSelect(code: string): void }) {
  const { m, lang, num } = useI18n()
  const [open, setOpen] = useState(false)
  const data = useApi<Overview>(open ? `/api/field/overview?unit=${code}&day=${beijingToday()}` : null)
  return (
    <details className="field-work" data-testid="field-work" onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary>{m.fieldWork.title}</summary>
      {data.state === 'loading' && <p className="muted">{m.loading}</p>}
      {data.state === 'error' && <p className="error">{apiMessage(data.error, lang, m)}</p>}
      {data.state === 'ok' && (
        <>
          <p className="small">{format(m.fieldWork.totals, { visits: num(data.data.totals.visits), ticks: num(data.data.totals.ticks), reports: num(data.data.totals.reports), patrollers: num(data.data.totals.patrollers) })}</p>
          <table className="field-work-table">
            <thead>
              <tr><th>{m.fieldWork.unit}</th><th>{m.fieldWork.visits}</th><th>{m.fieldWork.ticks}</th><th>{m.fieldWork.reports}</th><th>{m.fieldWork.patrollers}</th><th>{m.fieldWork.lastContact}</th></tr>
            </thead>
            <tbody>
              {data.data.rows.map((r) => {
                const quiet = !r.lastContact || Date.now() - Date.parse(r.lastContact) > QUIET_MS
                return (
                  <tr key={r.code} data-code={r.code} className={quiet ? 'quiet' : undefined}>
                    <td>{r.code.length < 15 ? <button className="link" onClick={() => onSelect(r.code.padEnd(12, '0'))}>{r.name}</button> : r.name}</td>
                    <td>{num(r.visits)}</td><td>{num(r.ticks)}</td><td>{num(r.reports)}</td><td>{num(r.patrollers)}</td>
                    <td>{r.lastContact ? when(r.lastContact, lang, { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' }) : m.fieldWork.never}</td>
                  </tr>
                )
              })}
            </tbody>
          </table>
          <p className="small muted">{m.fieldWork.quietNote}</p>
        </>
      )}
    </details>
  )
}
