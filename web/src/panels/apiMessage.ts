import { ApiError } from '../api.ts'
import type { Lang } from '../i18n/index.tsx'
import type { Messages } from '../i18n/zh.ts'
import { format } from '../i18n/index.tsx'

/** The user-facing sentence for a failed API call, in the UI's language. */
export function apiMessage(err: unknown, lang: Lang, m: Messages): string {
  if (err instanceof ApiError) {
    const msg = lang === 'zh' ? err.zh : err.en
    return format(err.network ? m.errors.network : m.errors.api, { msg })
  }
  return format(m.errors.api, { msg: String((err as Error)?.message ?? err) })
}
