import { ApiError } from '../api.ts'
import type { Lang } from '../i18n/index.tsx'
import type { Messages } from '../i18n/zh.ts'
import { format } from '../i18n/index.tsx'

/**
 * The user-facing sentence for a failed API call, in the UI's language. A
 * refusal (4xx) is the server's own sentence, which says what to do: wrapped
 * in "could not load data" it read as a fault when a preview was refused
 * because the households were already under another order.
 */
export function apiMessage(err: unknown, lang: Lang, m: Messages): string {
  if (err instanceof ApiError) {
    const msg = lang === 'zh' ? err.zh : err.en
    if (err.network) return format(m.errors.network, { msg })
    return err.status >= 400 && err.status < 500 ? msg : format(m.errors.api, { msg })
  }
  return format(m.errors.api, { msg: String((err as Error)?.message ?? err) })
}
