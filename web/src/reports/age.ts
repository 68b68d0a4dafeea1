import type { useI18n } from '../i18n/index.tsx'
import { ageOf } from '../i18n/when.ts'

/** "12 分钟前": how long ago a report's problem was seen. */
export function reportAge(at: string, t: ReturnType<typeof useI18n>['t']): string {
  const a = ageOf((Date.now() - Date.parse(at)) / 60_000)
  return t('reports.ago', { age: t(`age.${a.unit}`, { n: a.n }) })
}
