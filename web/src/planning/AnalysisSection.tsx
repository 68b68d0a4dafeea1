import { useI18n } from '../i18n/index.tsx'
import type { Field } from './analysis-types.ts'
import { FormatButtons, useDownload } from './files.tsx'
import { Status } from './said.tsx'
import type { Analysis } from './useAnalysis.ts'

/** The planning panel's analysis: choose one, set its parameters, run it, read its result and export it. */
export function AnalysisSection({ analysis: a, unitCode }: { analysis: Analysis; unitCode: string }) {
  const { t, m, lang } = useI18n()
  const download = useDownload()
  const { list, name, info, params, result } = a
  const label = (f: Field) => (lang === 'zh' ? f.zh : f.name)
  // Values a person reads: yes / no and places in words, not the parameters' codes.
  const paramValue = (v: string) => (m.planning.paramValues as Record<string, string>)[v] ?? v
  const cell = (v: unknown) => (typeof v === 'boolean' ? (v ? t('yes') : t('no')) : String(v ?? ''))
  return (
    <div data-testid="planning-analysis-section">
      <h3>{t('planning.analysis')}</h3>
      <div className="row">
        <select data-testid="planning-analysis" value={name} onChange={(e) => a.choose(e.target.value)}>
          {list.state === 'ok' && list.data.map((x) => <option key={x.id} value={x.id}>{lang === 'zh' ? x.zh : x.en}</option>)}
        </select>
      </div>
      {info && Object.entries(info.params.properties ?? {}).map(([k, p]) => (
        <label key={k} className="row small">
          {t(`planning.param.${k}` as never)}{' '}
          {p.enum ? (
            <select value={params[k] ?? String(p.default ?? '')} onChange={(e) => a.setParam(k, e.target.value)}>
              {p.enum.filter((v) => !(p.enum!.includes('true') && (v === '1' || v === '0'))).map((v) => <option key={v} value={v}>{paramValue(v)}</option>)}
            </select>
          ) : (
            <input data-testid={`planning-param-${k}`} size={8} placeholder={String(p.default ?? '')} value={params[k] ?? ''} onChange={(e) => a.setParam(k, e.target.value)} />
          )}
        </label>
      ))}
      <button data-testid="planning-run" onClick={() => void a.run()}>{t('planning.run')}</button>
      <Status said={a.said('run')} testid="planning-status" />
      {result && (
        <>
          <div className="small" data-testid="planning-totals">
            {Object.entries(result.totals).map(([k, v]) => <span key={k}>{lang === 'zh' ? result.totalsZh[k] : k}: <strong>{v}</strong>　</span>)}
          </div>
          <div className="planning-table">
            <table data-testid="planning-table">
              <thead><tr>{result.columns.slice(1, 8).map((c) => <th key={c.name}>{label(c)}</th>)}</tr></thead>
              <tbody>{result.rows.slice(0, 200).map((r, i) => <tr key={i}>{result.columns.slice(1, 8).map((c) => <td key={c.name}>{cell(r[c.name])}</td>)}</tr>)}</tbody>
            </table>
          </div>
          {result.truncated && <p className="small">{t('planning.truncated')}</p>}
          <p className="small">{t('planning.exportResult')}</p>
          <FormatButtons testid="planning-export" onPick={(f) => void download(`/api/export/analysis/${name}.${f}?${a.query()}`, `${name}-${unitCode}.${f}`, f, (text) => a.say('result', text)).catch(a.fail('result'))} />
          <Status said={a.said('result')} testid="planning-export-status" />
        </>
      )}
    </div>
  )
}
