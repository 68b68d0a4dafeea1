import { useState } from 'react'
import { ApiError } from '../api.ts'
import { useI18n } from '../i18n/index.tsx'

/** What a section last said: progress, or a refusal / failure (an alert). */
export type Said = { text: string; error?: boolean } | null

/**
 * A section's lines, one per place (`run`, `result`, `layers`, …): each
 * refusal is said beside the control that caused it, in the server's words.
 */
export function useSaid<K extends string>() {
  const { lang } = useI18n()
  const [said, setSaid] = useState<Partial<Record<K, Said>>>({})
  const say = (where: K, text: string | null, error = false) => setSaid((s) => ({ ...s, [where]: text === null ? null : { text, error } }))
  const fail = (where: K) => (e: unknown) => say(where, e instanceof ApiError ? (lang === 'zh' ? e.zh : e.en) : String((e as Error)?.message ?? e), true)
  return { said: (where: K): Said => said[where] ?? null, say, fail }
}

/** A section's line: progress as small print, a refusal as an alert beside the control. */
export function Status({ said, testid }: { said: Said; testid?: string }) {
  if (!said) return null
  return <p className={said.error ? 'error' : 'small'} role={said.error ? 'alert' : 'status'} data-testid={testid}>{said.text}</p>
}
