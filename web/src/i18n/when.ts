import type { Lang } from './index.tsx'

/**
 * A moment as people in Yunnan read it: Beijing time whatever the zone of the
 * machine showing it (a wall PC or a laptop set to UTC showed the panels eight
 * hours off the command wall, which always used Beijing time).
 */
export function when(d: string | number | Date, lang: Lang, opts: Intl.DateTimeFormatOptions = {}): string {
  return new Date(d).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', { ...opts, timeZone: 'Asia/Shanghai' })
}

export type AgeUnit = 'minutes' | 'hours' | 'days' | 'months' | 'years'

/** How long ago, in the largest unit that says it plainly ("rain data 4 months old"); words are the catalogs' `age`. */
export function ageOf(minutes: number): { unit: AgeUnit; n: number } {
  const m = Math.max(0, Math.floor(minutes))
  if (m < 120) return { unit: 'minutes', n: m }
  const h = Math.floor(m / 60)
  if (h < 48) return { unit: 'hours', n: h }
  const d = Math.floor(h / 24)
  if (d < 61) return { unit: 'days', n: d }
  const mo = Math.floor(d / 30.44)
  if (mo < 24) return { unit: 'months', n: mo }
  return { unit: 'years', n: Math.floor(d / 365.25) }
}

/** Today's date in Beijing (YYYY-MM-DD), the day the API counts field work in. */
export const beijingToday = () => new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10)
