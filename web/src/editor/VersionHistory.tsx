import { useI18n } from '../i18n/index.tsx'
import { when } from '../i18n/when.ts'
import type { Version } from './types.ts'

/** The saved versions, newest first, each restorable but the current one; and the seeded cover. */
export function VersionHistory({ versions, current, busy, onRestore }: { versions: Version[]; current: number | undefined; busy: boolean; onRestore(n: number): void }) {
  const { m, t, lang } = useI18n()
  return (
    <>
      <h2>{m.editor.history}</h2>
      <ol className="editor-history" data-testid="editor-history">
        {versions.map((v) => (
          <li key={v.version}>
            {t('editor.version', { n: v.version })} · {when(v.at, lang)} · {v.actor} · {v.operation.op}
            {v.version !== current && <button type="button" disabled={busy} onClick={() => onRestore(v.version)}>{m.editor.restore}</button>}
          </li>
        ))}
        {versions.length > 0 && <li>{m.editor.original} <button type="button" disabled={busy} onClick={() => onRestore(0)}>{m.editor.restore}</button></li>}
      </ol>
    </>
  )
}
