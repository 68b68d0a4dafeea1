import { useState } from 'react'
import { ApiError, sendJson } from '../api.ts'
import { format, useI18n } from '../i18n/index.tsx'

/** The file's bytes as base64 (the API decodes UTF-8 or GBK, as Excel saves a CSV). */
const base64Of = async (f: File) => {
  const bytes = new Uint8Array(await f.arrayBuffer())
  let s = ''
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(s)
}

/**
 * Reports by import (a duty desk's call log as CSV): checked first (a dry run
 * says how many would be filed, or names every bad row), filed on a second tap.
 */
export function ReportImport({ onDone }: { onDone(): void }) {
  const { m, lang } = useI18n()
  const [file, setFile] = useState<{ name: string; b64: string; rows: number } | null>(null)
  const [said, setSaid] = useState<{ error: boolean; text: string } | null>(null)
  const [busy, setBusy] = useState(false)
  const fail = (e: unknown) => setSaid({ error: true, text: e instanceof ApiError ? (lang === 'zh' ? e.zh : e.en) : String(e) })
  const send = (b64: string, dryRun: boolean) => sendJson<{ rows: number }>('POST', '/api/reports/import', { file: b64, dryRun })
  return (
    <div className="report-import" data-testid="report-import">
      <label className="toggle">
        {m.reports.import.choose}
        <input type="file" accept=".csv,text/csv" data-testid="report-import-file" hidden onChange={async (e) => {
          const f = e.target.files?.[0]
          e.target.value = ''
          if (!f) return
          setFile(null)
          setSaid(null)
          setBusy(true)
          try {
            const b64 = await base64Of(f)
            const r = await send(b64, true)
            setFile({ name: f.name, b64, rows: r.rows })
          } catch (err) {
            fail(err)
          } finally {
            setBusy(false)
          }
        }} />
      </label>
      <p className="small muted">{m.reports.import.columns}</p>
      {file && (
        <p>
          {format(m.reports.import.checked, { name: file.name, n: file.rows })}
          <button className="primary" disabled={busy} data-testid="report-import-confirm" onClick={async () => {
            setBusy(true)
            try {
              const r = await send(file.b64, false)
              setFile(null)
              setSaid({ error: false, text: format(m.reports.import.done, { n: r.rows }) })
              onDone()
            } catch (err) {
              fail(err)
            } finally {
              setBusy(false)
            }
          }}>{m.reports.import.confirm}</button>
        </p>
      )}
      {said && <p className={said.error ? 'error' : 'notice'} role={said.error ? 'alert' : 'status'} data-testid="report-import-said">{said.text}</p>}
    </div>
  )
}
