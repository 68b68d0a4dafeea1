/**
 * An import's report, every row of it: the errors of a refused file (each
 * with its row number) or what a dry run would do to each row (insert, or
 * update and which fields change). Shown a page at a time and saved whole as
 * a CSV for Excel (report-csv.ts), so that a township can go through its
 * spreadsheet row by row.
 */
import { useState } from 'react'
import { useI18n } from '../i18n/index.tsx'
import { reportCsv } from './report-csv.ts'

export interface ImportError { row: number; zh: string; en: string }
export interface ImportRow { row: number; action: string; code: string; grid: string; changed?: string[] }

const PAGE = 50

export function ImportReport({ errors, rows, file, onSave }: { errors?: ImportError[]; rows?: ImportRow[]; file: string; onSave(blob: Blob, name: string): void }) {
  const { t, lang } = useI18n()
  const [page, setPage] = useState(0)
  const header = errors
    ? [t('planning.report.row'), t('planning.report.problem')]
    : [t('planning.report.row'), t('planning.report.action'), t('planning.report.code'), t('planning.report.grid'), t('planning.report.changed')]
  const lines: (string | number)[][] = errors
    ? errors.map((e) => [e.row, lang === 'zh' ? e.zh : e.en])
    : (rows ?? []).map((r) => [r.row, t(r.action === 'insert' ? 'planning.report.insert' : 'planning.report.update'), r.code, r.grid, (r.changed ?? []).join(' ')])
  const pages = Math.max(1, Math.ceil(lines.length / PAGE))
  const at = Math.min(page, pages - 1)
  const base = file.replace(/\.[^.]+$/, '')
  return (
    <div className="import-report" data-testid="import-report">
      <p className="small">
        {errors ? t('planning.report.errors', { n: errors.length }) : t('planning.report.rows', { n: lines.length })}{' '}
        <button data-testid="import-report-csv" onClick={() => onSave(new Blob([reportCsv(header, lines)], { type: 'text/csv' }), `${base}-${errors ? 'errors' : 'report'}.csv`)}>
          {t('planning.report.download')}
        </button>
      </p>
      <div className="planning-table">
        <table>
          <thead><tr>{header.map((h) => <th key={h}>{h}</th>)}</tr></thead>
          <tbody>{lines.slice(at * PAGE, (at + 1) * PAGE).map((l, i) => <tr key={i}>{l.map((v, j) => <td key={j}>{v}</td>)}</tr>)}</tbody>
        </table>
      </div>
      {pages > 1 && (
        <div className="row small">
          <button data-testid="import-report-prev" disabled={at === 0} onClick={() => setPage(at - 1)}>‹</button>
          <span data-testid="import-report-page">{t('planning.report.page', { page: at + 1, pages })}</span>
          <button data-testid="import-report-next" disabled={at === pages - 1} onClick={() => setPage(at + 1)}>›</button>
        </div>
      )}
    </div>
  )
}
