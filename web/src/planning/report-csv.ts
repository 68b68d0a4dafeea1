/**
 * An import report as a CSV file for Excel (UTF-8 with a byte-order mark, so
 * Excel opens the Chinese right). Text goes through core/spreadsheet.ts: a
 * problem quoting a cell that starts with = stays text, household and grid
 * codes stay codes (a tab before them, inside quotes) instead of 5.30602E+18.
 */
import { spreadsheetText } from '../../../core/spreadsheet.ts'

/** One CSV cell: numbers as they are; quoted when it holds a comma, quote or line break, or starts with the tab that keeps a code text. */
function cell(v: string | number): string {
  const s = typeof v === 'number' ? String(v) : spreadsheetText(v, 'csv')
  return /[",\n\r]|^\t/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

export function reportCsv(header: string[], lines: (string | number)[][]): string {
  return '\uFEFF' + [header, ...lines].map((l) => l.map(cell).join(',')).join('\r\n') + '\r\n'
}
