import { useState } from 'react'
import { ApiError, sendJson } from '../api.ts'
import { useAuth } from '../auth/AuthProvider.tsx'
import { useI18n, type MessageKey } from '../i18n/index.tsx'
import { save } from './files.tsx'
import { ImportReport, type ImportError, type ImportRow } from './ImportReport.tsx'
import { Status, useSaid } from './said.tsx'

interface ImportAnswer { ok: boolean; dryRun: boolean; rows: number; inserted: number; updated: number; report: ImportRow[] }

/** The import targets and the action the server asks of each (api/routes/ledger-import.ts). */
const importTargets = [
  { id: 'households', action: 'household.edit', label: 'planning.importHouseholds' },
  { id: 'hazard_sites', action: 'grid.edit', label: 'planning.importHazards' },
] as const

/**
 * The planning panel's ledger import: households or hazard sites from a
 * township's file, a dry run with its report by row first, then the import.
 * Nothing is shown to a role that may import neither.
 */
export function LedgerImportSection() {
  const { t } = useI18n()
  const { may } = useAuth()
  const { said, say, fail } = useSaid<'import'>()
  const targets = importTargets.filter((x) => may(x.action))
  const [imp, setImp] = useState<{ target: string; crs: string }>({ target: targets[0]?.id ?? 'households', crs: 'wgs84' })
  const [importFile, setImportFile] = useState<File | null>(null)
  const [importAnswer, setImportAnswer] = useState<ImportAnswer | null>(null)
  const [importErrors, setImportErrors] = useState<ImportError[] | null>(null)

  async function importFileNow(dryRun: boolean) {
    if (!importFile) return
    const ext = importFile.name.toLowerCase().endsWith('.shp.zip') || importFile.name.toLowerCase().endsWith('.zip') ? 'shp.zip' : importFile.name.split('.').pop()!.toLowerCase()
    const buf = new Uint8Array(await importFile.arrayBuffer())
    let bin = ''
    for (let i = 0; i < buf.length; i += 0x8000) bin += String.fromCharCode(...buf.subarray(i, i + 0x8000))
    setImportErrors(null)
    setImportAnswer(null)
    say('import', null)
    try {
      const a = await sendJson<ImportAnswer>('POST', `/api/import/${imp.target}`, { file: btoa(bin), filename: importFile.name, format: ext, crs: imp.crs, dryRun })
      setImportAnswer(a)
    } catch (e) {
      // A refused file's 400 lists every error by row in `errors`; any other failure is one message.
      const all = e instanceof ApiError ? (e.body as { errors?: ImportError[] } | undefined)?.errors : undefined
      if (all?.length) setImportErrors(all)
      else fail('import')(e)
    }
  }

  if (targets.length === 0) return null
  return (
    <div data-testid="planning-import">
      <h3>{t('planning.import')}</h3>
      <div className="row">
        <select value={imp.target} onChange={(e) => setImp({ ...imp, target: e.target.value })}>
          {targets.map((x) => <option key={x.id} value={x.id}>{t(x.label as MessageKey)}</option>)}
        </select>
        <select value={imp.crs} aria-label={t('planning.crs')} onChange={(e) => setImp({ ...imp, crs: e.target.value })}><option value="wgs84">WGS84</option><option value="cgcs2000">CGCS2000</option><option value="gcj02">GCJ-02</option></select>
        <input type="file" data-testid="import-file" accept=".csv,.xlsx,.geojson,.json,.zip" onChange={(e) => setImportFile(e.target.files?.[0] ?? null)} />
      </div>
      <div className="row">
        <button data-testid="import-dry-run" disabled={!importFile} onClick={() => void importFileNow(true)}>{t('planning.dryRun')}</button>
        <button disabled={!importAnswer?.dryRun} onClick={() => void importFileNow(false)}>{t('planning.importNow')}</button>
      </div>
      <Status said={said('import')} testid="planning-import-status" />
      {importAnswer && <p className="small">{t('planning.importReport', { rows: importAnswer.rows, inserted: importAnswer.inserted, updated: importAnswer.updated })}{importAnswer.dryRun ? ` (${t('planning.dryRun')})` : ''}</p>}
      {importAnswer?.dryRun && importFile && <ImportReport key={`ok-${importAnswer.rows}`} rows={importAnswer.report} file={importFile.name} onSave={save} />}
      {importErrors && importFile && <ImportReport key={`bad-${importErrors.length}`} errors={importErrors} file={importFile.name} onSave={save} />}
    </div>
  )
}
