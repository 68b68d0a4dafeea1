import { useI18n } from '../i18n/index.tsx'
import { when } from '../i18n/when.ts'
import type { Messages } from '../i18n/zh.ts'
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
            {t('editor.version', { n: v.version })} · {when(v.at, lang)} · {v.actor_name ?? m.history.script} · {operationText(v.operation, m, t)}
            {v.version !== current && <button type="button" disabled={busy} onClick={() => onRestore(v.version)}>{m.editor.restore}</button>}
          </li>
        ))}
        {versions.length > 0 && <li>{m.editor.original} <button type="button" disabled={busy} onClick={() => onRestore(0)}>{m.editor.restore}</button></li>}
      </ol>
    </>
  )
}

/** What a saved version did, in words ("调整边界", "恢复到第 2 版"). */
function operationText(op: Version['operation'], m: Messages, t: ReturnType<typeof useI18n>['t']): string {
  if (op.op === 'restore') return op.version ? t('editor.restoredTo', { n: op.version }) : m.editor.ops.restoreOriginal
  return (m.editor.ops as Record<string, string>)[op.op] ?? m.editor.ops.other
}
