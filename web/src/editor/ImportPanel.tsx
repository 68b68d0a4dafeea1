import { useState } from 'react'
import { sendJson } from '../api.ts'
import { useI18n } from '../i18n/index.tsx'
import { apiMessage } from '../panels/apiMessage.ts'

interface VillageAnswer {
  code: string; name: string; version: number; unchanged: boolean; saved: number | null
  grids: number; households_moved: number; valid: boolean
}
interface Answer { dryRun: boolean; villages: VillageAnswer[] }

/** The file as base64 (the API takes JSON): a data: URL without its prefix. */
const base64Of = (file: File) => new Promise<string>((resolve, reject) => {
  const r = new FileReader()
  r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''))
  r.onerror = () => reject(r.error)
  r.readAsDataURL(file)
})

/**
 * The village's grids from a GeoJSON file or zipped Shapefile
 * (POST /api/import/grids): a dry run shows what each village would become,
 * or the file's errors by feature; the save sends the versions the dry run saw.
 */
export function ImportPanel({ village, onSaved }: { village: string; onSaved(version: number): void }) {
  const { m, t, lang } = useI18n()
  const [file, setFile] = useState<File | null>(null)
  const [crs, setCrs] = useState('wgs84')
  const [answer, setAnswer] = useState<Answer | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)

  const send = async (dryRun: boolean) => {
    if (!file) return
    setBusy(true)
    setError(null)
    try {
      const versions = dryRun ? undefined : Object.fromEntries((answer?.villages ?? []).map((v) => [v.code, v.version]))
      const a = await sendJson<Answer>('POST', '/api/import/grids', {
        unit: village, file: await base64Of(file), filename: file.name, format: /\.zip$/i.test(file.name) ? 'shp.zip' : 'geojson', crs, dryRun, versions,
      })
      setAnswer(a)
      const saved = a.villages.find((v) => v.saved !== null)
      if (!dryRun && saved) onSaved(saved.saved!)
    } catch (err) {
      setAnswer(null)
      setError(apiMessage(err, lang, m))
    } finally {
      setBusy(false)
    }
  }

  return (
    <section className="editor-import" data-testid="editor-import">
      <h2>{m.editor.importTitle}</h2>
      <p className="hint">{m.editor.importHint}</p>
      <input type="file" accept=".geojson,.json,.zip" data-testid="import-file" onChange={(e) => { setFile(e.target.files?.[0] ?? null); setAnswer(null) }} />
      {/* Another coordinate system is another import: the dry run of the last one no longer says what would be saved. */}
      <select value={crs} onChange={(e) => { setCrs(e.target.value); setAnswer(null) }} aria-label={m.editor.crs}>
        <option value="wgs84">WGS84</option><option value="cgcs2000">CGCS2000</option><option value="gcj02">GCJ-02</option>
      </select>
      <div className="editor-actions">
        <button type="button" data-testid="import-dry-run" disabled={!file || busy} onClick={() => void send(true)}>{m.planning.dryRun}</button>
        <button type="button" data-testid="import-save" disabled={!answer?.dryRun || busy} onClick={() => void send(false)}>{m.planning.importNow}</button>
      </div>
      {error && <p className="bad" role="alert" data-testid="import-error">{error}</p>}
      {answer && (
        <ul data-testid="import-report">
          {answer.villages.map((v) => (
            <li key={v.code}>
              {v.unchanged ? t('editor.importUnchanged', { village: v.name }) : t('editor.importReport', { village: v.name, grids: v.grids, moved: v.households_moved })}
              {v.saved !== null && ` · ${t('editor.saved', { n: v.saved })}`}
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}
