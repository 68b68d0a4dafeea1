import type { Lang } from './index.tsx'

/**
 * A moment as people in Yunnan read it: Beijing time whatever the zone of the
 * machine showing it (a wall PC or a laptop set to UTC showed the panels eight
 * hours off the command wall, which always used Beijing time).
 */
export function when(d: string | number | Date, lang: Lang, opts: Intl.DateTimeFormatOptions = {}): string {
  return new Date(d).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', { ...opts, timeZone: 'Asia/Shanghai' })
}
