/**
 * 规划分析 / Planning: run a coverage analysis for the chosen area (its
 * result drawn on the map by MapView's `analysis` layer), export it in each
 * format with progress against X-Feature-Count, print the view, and import
 * ledgers with a dry-run report first.
 */
import { useState } from 'react'
import { ApiError, getJson, sendJson, type BBox } from '../api.ts'
import type { LayerGroup } from '../map/style.ts'
import { useI18n } from '../i18n/index.tsx'
import { useApi } from '../useApi.ts'
import { ImportReport, type ImportError, type ImportRow } from './ImportReport.tsx'

interface Field { name: string; zh: string; type: string }
interface ParamSchema { type?: string; enum?: string[]; default?: unknown; minimum?: number; maximum?: number }
interface AnalysisInfo { id: string; zh: string; en: string; fields: Field[]; totalsZh: Record<string, string>; params: { properties?: Record<string, ParamSchema> } }
export interface AnalysisResult {
  analysis: string; zh: string; en: string; rows: Record<string, unknown>[]; truncated: boolean; columns: Field[]
  totals: Record<string, number>; totalsZh: Record<string, string>; geojson: GeoJSON.FeatureCollection
}
interface AnalysisJob { id: string; stage: 'queued' | 'running' | 'done' | 'failed'; position: number | null; done: number; total: number; percent: number; error: string | null; result?: AnalysisResult | null }
interface ImportAnswer { ok: boolean; dryRun: boolean; rows: number; inserted: number; updated: number; report: ImportRow[] }

const formats = ['geojson', 'csv', 'xlsx', 'gpkg', 'shp.zip'] as const

function save(blob: Blob, name: string) {
  const a = document.createElement('a')
  a.href = URL.createObjectURL(blob)
  a.download = name
  a.click()
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000)
}

interface PanelProps {
  unitCode: string
  /** The map's current view and the layer groups shown: what a print prints. */
  view: BBox | null
  visible: Record<LayerGroup, boolean>
  onResult(r: AnalysisResult | null): void
  onClose(): void
}

export function PlanningPanel({ unitCode, view, visible, onResult, onClose }: PanelProps) {
  const { t, lang } = useI18n()
  const list = useApi<AnalysisInfo[]>('/api/analysis')
  const [name, setName] = useState('worker_load')
  const [params, setParams] = useState<Record<string, string>>({})
  const [result, setResult] = useState<AnalysisResult | null>(null)
  const [status, setStatus] = useState<string | null>(null)
  const [printOpts, setPrintOpts] = useState({ format: 'pdf', size: 'a4' })
  const [imp, setImp] = useState({ target: 'households', crs: 'wgs84' })
  const [importFile, setImportFile] = useState<File | null>(null)
  const [importAnswer, setImportAnswer] = useState<ImportAnswer | null>(null)
  const [importErrors, setImportErrors] = useState<ImportError[] | null>(null)
  const fail = (e: unknown) => setStatus(e instanceof ApiError ? (lang === 'zh' ? e.zh : e.en) : String(e))

  const info = list.state === 'ok' ? list.data.find((a) => a.id === name) : undefined
  const query = () => new URLSearchParams({ unit: unitCode, ...Object.fromEntries(Object.entries(params).filter(([, v]) => v !== '')) })

  async function run() {
    setStatus(t('planning.running'))
    try {
      // A job: a city or county is worked out part by part (counties, townships), with the count of parts done shown.
      let job = await sendJson<AnalysisJob>('POST', `/api/analysis/${name}/jobs?${query()}`, {})
      while (job.stage === 'queued' || job.stage === 'running') {
        // Jobs wait their turn on the server: its place in the line, then its parts.
        if (job.position) setStatus(t('planning.queued', { position: job.position }))
        else if (job.total > 1) setStatus(t('planning.runningParts', { done: job.done, total: job.total }))
        await new Promise((res) => setTimeout(res, 500))
        job = await getJson<AnalysisJob>(`/api/analysis/jobs/${job.id}`)
      }
      if (job.stage === 'failed' || !job.result) throw new Error(job.error ?? 'analysis failed')
      const r = job.result
      setResult(r)
      onResult(r)
      setStatus(null)
    } catch (e) { fail(e) }
  }

  async function download(fmt: string) {
    setStatus(t('planning.exporting', { fmt }))
    try {
      const res = await fetch(`/api/export/analysis/${name}.${fmt}?${query()}`)
      if (!res.ok) {
        // The server's own message (too many exports at once: 429), not a bare status.
        const e = (await res.json().catch(() => null) as { error?: { code?: string; zh?: string; en?: string } } | null)?.error
        throw new ApiError(res.status, e?.zh ?? `HTTP ${res.status}`, e?.en ?? `HTTP ${res.status}`, false, e?.code)
      }
      const total = Number(res.headers.get('x-feature-count') ?? 0)
      // Progress: features are counted as their ends arrive (a line each in GeoJSON and CSV); binary formats show bytes.
      const reader = res.body!.getReader()
      const parts: Uint8Array[] = []
      let lines = 0
      let bytes = 0
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        parts.push(value)
        bytes += value.length
        for (const b of value) if (b === 10) lines++
        setStatus(fmt === 'geojson' || fmt === 'csv'
          ? t('planning.progress', { n: Math.min(lines, total), total })
          : t('planning.bytes', { kb: Math.round(bytes / 1024), total }))
      }
      save(new Blob(parts as BlobPart[]), `${name}-${unitCode}.${fmt}`)
      setStatus(t('planning.saved', { total }))
    } catch (e) { fail(e) }
  }

  async function print() {
    try {
      let job = await sendJson<{ id: string; stage: string; percent: number; position: number | null; error: string | null }>('POST', '/api/print', {
        unit: unitCode, format: printOpts.format, size: printOpts.size, lang,
        bbox: view ?? undefined, layers: (Object.keys(visible) as LayerGroup[]).filter((g) => visible[g]),
        analysis: result ? { name: result.analysis, params: Object.fromEntries(Object.entries(params).filter(([, v]) => v !== '')) } : undefined,
      })
      while (job.stage !== 'done' && job.stage !== 'failed') {
        setStatus(job.position ? t('planning.printQueued', { position: job.position }) : t('planning.printing', { percent: job.percent }))
        await new Promise((r) => setTimeout(r, 1000))
        job = await getJson(`/api/print/${job.id}`)
      }
      if (job.stage === 'failed') throw new Error(job.error ?? 'print failed')
      const f = await fetch(`/api/print/${job.id}/file`)
      save(await f.blob(), `map-${unitCode}.${printOpts.format}`)
      setStatus(t('planning.printed'))
    } catch (e) { fail(e) }
  }

  async function importFileNow(dryRun: boolean) {
    if (!importFile) return
    const ext = importFile.name.toLowerCase().endsWith('.shp.zip') || importFile.name.toLowerCase().endsWith('.zip') ? 'shp.zip' : importFile.name.split('.').pop()!.toLowerCase()
    const buf = new Uint8Array(await importFile.arrayBuffer())
    let bin = ''
    for (let i = 0; i < buf.length; i += 0x8000) bin += String.fromCharCode(...buf.subarray(i, i + 0x8000))
    setImportErrors(null)
    setImportAnswer(null)
    try {
      const a = await sendJson<ImportAnswer>('POST', `/api/import/${imp.target}`, { file: btoa(bin), filename: importFile.name, format: ext, crs: imp.crs, dryRun })
      setImportAnswer(a)
    } catch (e) {
      // A refused file's 400 lists every error by row in `errors`; any other failure is one message.
      const all = e instanceof ApiError ? (e.body as { errors?: ImportError[] } | undefined)?.errors : undefined
      if (all?.length) setImportErrors(all)
      else fail(e)
    }
  }

  const label = (f: Field) => (lang === 'zh' ? f.zh : f.name)
  return (
    <section className="panel planning" data-testid="planning-panel">
      <h2>{t('planning.title')}</h2>
      <button className="close" aria-label={t('close')} onClick={() => { onResult(null); onClose() }}>×</button>
      <div className="row">
        <select data-testid="planning-analysis" value={name} onChange={(e) => { setName(e.target.value); setParams({}); setResult(null); onResult(null) }}>
          {list.state === 'ok' && list.data.map((a) => <option key={a.id} value={a.id}>{lang === 'zh' ? a.zh : a.en}</option>)}
        </select>
      </div>
      {info && Object.entries(info.params.properties ?? {}).map(([k, p]) => (
        <label key={k} className="row small">
          {t(`planning.param.${k}` as never)}{' '}
          {p.enum ? (
            <select value={params[k] ?? String(p.default ?? '')} onChange={(e) => setParams({ ...params, [k]: e.target.value })}>
              {p.enum.map((v) => <option key={v} value={v}>{v}</option>)}
            </select>
          ) : (
            <input data-testid={`planning-param-${k}`} size={8} placeholder={String(p.default ?? '')} value={params[k] ?? ''} onChange={(e) => setParams({ ...params, [k]: e.target.value })} />
          )}
        </label>
      ))}
      <button data-testid="planning-run" onClick={() => void run()}>{t('planning.run')}</button>
      {status && <p className="small" data-testid="planning-status">{status}</p>}
      {result && (
        <>
          <div className="small" data-testid="planning-totals">
            {Object.entries(result.totals).map(([k, v]) => <span key={k}>{lang === 'zh' ? result.totalsZh[k] : k}: <strong>{v}</strong>　</span>)}
          </div>
          <div className="planning-table">
            <table data-testid="planning-table">
              <thead><tr>{result.columns.slice(1, 8).map((c) => <th key={c.name}>{label(c)}</th>)}</tr></thead>
              <tbody>{result.rows.slice(0, 200).map((r, i) => <tr key={i}>{result.columns.slice(1, 8).map((c) => <td key={c.name}>{String(r[c.name] ?? '')}</td>)}</tr>)}</tbody>
            </table>
          </div>
          {result.truncated && <p className="small">{t('planning.truncated')}</p>}
          <div className="row">
            {formats.map((f) => <button key={f} data-testid={`planning-export-${f}`} onClick={() => void download(f)}>{f}</button>)}
          </div>
        </>
      )}
      <h3>{t('planning.print')}</h3>
      <p className="small">{t('planning.printView')}</p>
      <div className="row">
        <select value={printOpts.format} onChange={(e) => setPrintOpts({ ...printOpts, format: e.target.value })}><option>pdf</option><option>png</option></select>
        <select value={printOpts.size} onChange={(e) => setPrintOpts({ ...printOpts, size: e.target.value })}><option value="a4">A4</option><option value="a3">A3</option></select>
        <button data-testid="planning-print" onClick={() => void print()}>{t('planning.printButton')}</button>
      </div>
      <h3>{t('planning.import')}</h3>
      <div className="row">
        <select value={imp.target} onChange={(e) => setImp({ ...imp, target: e.target.value })}>
          <option value="households">{t('planning.importHouseholds')}</option><option value="hazard_sites">{t('planning.importHazards')}</option>
        </select>
        <select value={imp.crs} onChange={(e) => setImp({ ...imp, crs: e.target.value })}><option value="wgs84">WGS84</option><option value="cgcs2000">CGCS2000</option><option value="gcj02">GCJ-02</option></select>
        <input type="file" data-testid="import-file" accept=".csv,.xlsx,.geojson,.json,.zip" onChange={(e) => setImportFile(e.target.files?.[0] ?? null)} />
      </div>
      <div className="row">
        <button data-testid="import-dry-run" disabled={!importFile} onClick={() => void importFileNow(true)}>{t('planning.dryRun')}</button>
        <button disabled={!importAnswer?.dryRun} onClick={() => void importFileNow(false)}>{t('planning.importNow')}</button>
      </div>
      {importAnswer && <p className="small">{t('planning.importReport', { rows: importAnswer.rows, inserted: importAnswer.inserted, updated: importAnswer.updated })}{importAnswer.dryRun ? ` (${t('planning.dryRun')})` : ''}</p>}
      {importAnswer?.dryRun && importFile && <ImportReport key={`ok-${importAnswer.rows}`} rows={importAnswer.report} file={importFile.name} onSave={save} />}
      {importErrors && importFile && <ImportReport key={`bad-${importErrors.length}`} errors={importErrors} file={importFile.name} onSave={save} />}
    </section>
  )
}
