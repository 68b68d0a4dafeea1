import { useCallback, useMemo, useState } from 'react'
import { useI18n } from '../i18n/index.tsx'
import { apiMessage } from '../panels/apiMessage.ts'

/** What the editor's last action came to: a save (said plainly) or a refusal or failure (said as an error). */
export interface EditorMessage {
  text: string
  error: boolean
}

/**
 * The editor's one message line. `fail` is kept stable across renders (it
 * changes only with the language): the village's loading effect depends on it.
 */
export function useEditorMessage() {
  const { m, lang } = useI18n()
  const [message, setMessage] = useState<EditorMessage | null>(null)
  const fail = useCallback((err: unknown) => setMessage({ text: apiMessage(err, lang, m), error: true }), [lang, m])
  return useMemo(() => ({
    message,
    say: (text: string) => setMessage({ text, error: false }),
    warn: (text: string) => setMessage({ text, error: true }),
    clear: () => setMessage(null),
    fail,
  }), [message, fail])
}

export type EditorMessages = ReturnType<typeof useEditorMessage>
