import { HttpError } from '../../core/errors.ts'

/**
 * Row-by-row checks for rain input: every problem is collected with its row
 * number (1-based; a CSV's line number) so one 400 names them all, and
 * nothing is written unless every row is good.
 */
export class RowErrors {
  private list: { row: number; zh: string; en: string }[] = []
  add(row: number, zh: string, en: string) {
    this.list.push({ row, zh, en })
  }
  get count() {
    return this.list.length
  }
  has(row: number) {
    return this.list.some((e) => e.row === row)
  }
  /**
   * A 400 naming the rows (the first 20), or nothing when all rows are good.
   * With `outside`, the rows lie outside the writer's area (`scope`): a 403,
   * headed by `zh`/`en` when the usual "outside your area" does not say why.
   */
  throwIfAny(what: { zh: string; en: string }, outside?: { scope: string; zh?: string; en?: string }) {
    if (this.list.length === 0) return
    // In row order: checks run in stages (each row's fields, then what needs the database).
    const shown = [...this.list].sort((a, b) => a.row - b.row).slice(0, 20)
    const more = this.list.length - shown.length
    const zh = shown.map((e) => `第 ${e.row} 行：${e.zh}`).join('；') + (more ? `；另有 ${more} 处错误` : '')
    const en = shown.map((e) => `row ${e.row}: ${e.en}`).join('; ') + (more ? `; ${more} more` : '')
    if (outside) {
      throw new HttpError(403, 'forbidden_scope', `${outside.zh ?? `${what.zh}超出您的管辖范围（${outside.scope}）`}，未写入任何数据。${zh}`,
        `${outside.en ?? `${what.en} outside your area (${outside.scope})`}; nothing was written. ${en}`)
    }
    throw new HttpError(400, 'bad_rows', `${what.zh}有误，未写入任何数据。${zh}`, `invalid ${what.en}; nothing was written. ${en}`)
  }
}

const isoTime = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(:(\d{2})(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})$/

/** Earliest and latest times rain input may name (readings from the future are mistakes). */
export const timeBounds = { earliest: Date.parse('2000-01-01T00:00:00Z'), futureMs: 3600_000 }

/**
 * An ISO 8601 time with an explicit offset ("2026-07-14T20:00:00+08:00") as
 * a Date, or an error text. A time without an offset is refused: "20:00"
 * means different hours to a server in UTC and a gauge in Beijing time.
 */
export function parseTime(raw: unknown, opts: { onTheHour?: boolean; allowFuture?: boolean } = {}): Date | { zh: string; en: string } {
  if (typeof raw !== 'string' || !isoTime.test(raw.trim())) {
    return { zh: `时间格式应为 ISO 8601 且带时区，如 2026-07-14T20:00:00+08:00，收到 "${String(raw).slice(0, 40)}"`,
             en: `time must be ISO 8601 with an offset, e.g. 2026-07-14T20:00:00+08:00; got "${String(raw).slice(0, 40)}"` }
  }
  const d = new Date(raw.trim().replace(' ', 'T'))
  const m = isoTime.exec(raw.trim())!
  if (Number.isNaN(d.getTime()) || Number(m[2]) > 12 || Number(m[3]) > 31 || Number(m[4]) > 23 || Number(m[5]) > 59) {
    return { zh: `不存在的时间："${raw}"`, en: `no such time: "${raw}"` }
  }
  if (d.getTime() < timeBounds.earliest) return { zh: `时间早于 2000 年："${raw}"`, en: `time before 2000: "${raw}"` }
  if (!opts.allowFuture && d.getTime() > Date.now() + timeBounds.futureMs) {
    return { zh: `时间在未来："${raw}"`, en: `time is in the future: "${raw}"` }
  }
  if (opts.onTheHour && d.getTime() % 3600_000 !== 0) {
    return { zh: `小时雨量的时间须为整点（该小时的开始），收到 "${raw}"`, en: `an hourly reading's time must be on the hour (the start of the hour); got "${raw}"` }
  }
  return d
}

/** A millimetre amount from JSON (number) or CSV (text), within [0, max], or an error text. */
export function parseMm(raw: unknown, max: number): number | { zh: string; en: string } {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : NaN
  if (typeof raw === 'number' && n < 0) return { zh: `雨量不能为负：${raw}`, en: `rain cannot be negative: ${raw}` }
  if (!Number.isFinite(n)) return { zh: `雨量须为数字（毫米），收到 "${String(raw).slice(0, 20)}"`, en: `rain must be a number of millimetres; got "${String(raw).slice(0, 20)}"` }
  if (n > max) return { zh: `雨量 ${n} 毫米不合理（上限 ${max}）`, en: `${n} mm is not plausible (at most ${max})` }
  return Math.round(n * 10) / 10
}

export const isError = (x: unknown): x is { zh: string; en: string } => typeof x === 'object' && x !== null && 'zh' in x && !(x instanceof Date)
