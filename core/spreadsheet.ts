/**
 * Values as they go into the spreadsheets we write (CSV for Excel, XLSX) and
 * come back out of them, shared by the server's exports and the browser's
 * downloads. Pure, no imports: api/ and web/ both use it.
 *
 * - Formula injection (OWASP "CSV injection"): a text starting with = + - @,
 *   tab or carriage return (or their full-width forms, which Apple Numbers and
 *   some IMEs fold into the ASCII ones) is run by a spreadsheet as a formula.
 *   Such a text gets a leading single quote: it stays visible, as text. Only
 *   text: numbers (negative ones too) are written as numbers and stay numbers.
 * - Codes and other digit strings: Excel opening a CSV turns 530602100201001 into
 *   5.30602E+14 and a 19-digit household code into a number that has lost its
 *   last four digits (15 significant digits), drops a phone's leading 0, and
 *   reads 3-5 or 2026-07-14 as dates. In CSV such a text gets a leading tab,
 *   quoted: Excel then keeps the cell as text. (The other way, ="530602…", is a
 *   formula; a leading quote stays visible in the cell.) XLSX cells are typed,
 *   so a string cell needs nothing.
 * - Times: Beijing time with its offset (2026-07-14T08:00:00+08:00) in CSV; in
 *   XLSX, which has no zones, the Beijing wall clock as the date value.
 *
 * fromSpreadsheetText undoes both marks exactly, so that our own export
 * imported back changes nothing.
 */

export type SheetFormat = 'csv' | 'xlsx'

const FORMULA_START = '=+\\-@\\t\\r\\uFF1D\\uFF0B\\uFF0D\\uFF20'
/** Quotes first: a text that already starts with quotes before a formula character gets one more, so reading back is exact. */
const FORMULA = new RegExp(`^'*[${FORMULA_START}]`)
const QUOTED_FORMULA = new RegExp(`^'+[${FORMULA_START}]`)
/** What Excel would take for a number, a date or a time (digits with . , : / % - E and spaces). */
const NUMBER_LIKE = /^[0-9][0-9 .,:/%eE-]*$/

/** A text for a cell: neutralised if a spreadsheet would run it; in CSV, kept from turning into a number. */
export function spreadsheetText(text: string, format: SheetFormat): string {
  if (FORMULA.test(text)) return `'${text}`
  if (format === 'csv' && NUMBER_LIKE.test(text)) return `\t${text}`
  return text
}

/** The text a cell of our own export held before spreadsheetText. Anything else comes back as it is. */
export function fromSpreadsheetText(cell: string): string {
  if (cell.startsWith('\t') && NUMBER_LIKE.test(cell.slice(1))) return cell.slice(1)
  if (QUOTED_FORMULA.test(cell)) return cell.slice(1)
  return cell
}

const BEIJING_MS = 8 * 3600_000

/** ISO 8601 in Beijing time with its offset, to the second: 2026-07-14T08:00:00+08:00. */
export function beijingIso(d: Date): string {
  return new Date(d.getTime() + BEIJING_MS).toISOString().slice(0, 19) + '+08:00'
}

/** A date whose UTC fields are Beijing's wall clock: what an XLSX date cell (which has no zone) should hold. */
export function beijingWallClock(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000 + BEIJING_MS)
}

/** Any value for a cell: text through spreadsheetText, times in Beijing time, numbers and booleans as they are. */
export function spreadsheetValue(v: unknown, format: SheetFormat): unknown {
  if (typeof v === 'string') return spreadsheetText(v, format)
  if (v instanceof Date) return format === 'csv' ? beijingIso(v) : beijingWallClock(v)
  return v
}
