import { useI18n } from '../i18n/index.tsx'
import type { Change, CoverGrid } from './types.ts'
import type { Tool } from './useCoverChange.ts'

interface Props {
  /** The picked grid or micro-grid, and the ones it may merge with (same kind, same parent). */
  sel: CoverGrid | undefined
  siblings: CoverGrid[]
  tool: Tool | null
  onTool(tool: Tool): void
  /** A change with nothing to draw (merge, delete): previewed at once. */
  onChange(change: Change): void
  canUndo: boolean
  canRedo: boolean
  onStep(direction: 'undo' | 'redo'): void
  snapping: boolean
  onSnapping(on: boolean): void
  canPreview: boolean
  onPreview(): void
  canSave: boolean
  onSave(): void
  onCancel(): void
}

/** The editor's tools (reshape, split, add, delete, merge), the hint for the tool in hand, and the actions on the change. */
export function EditorToolbar(p: Props) {
  const { m } = useI18n()
  const { sel } = p
  return (
    <>
      <div className="editor-tools">
        <button type="button" disabled={!sel} data-testid="tool-reshape" onClick={() => p.onTool('reshape')}>{m.editor.reshape}</button>
        <button type="button" disabled={!sel} data-testid="tool-split" onClick={() => p.onTool('split')}>{m.editor.split}</button>
        <button type="button" data-testid="tool-add" onClick={() => p.onTool('add')}>{m.editor.add}</button>
        <button type="button" disabled={!sel} data-testid="tool-delete" onClick={() => p.onChange({ op: 'delete', grid: sel!.code })}>{m.editor.remove}</button>
        {sel && (
          <label>
            {m.editor.mergeWith}
            <select data-testid="merge-with" value="" onChange={(e) => p.onChange({ op: 'merge', grids: [sel.code, e.target.value] })}>
              <option value="">—</option>
              {p.siblings.map((g) => <option key={g.key} value={g.code}>{g.name}</option>)}
            </select>
          </label>
        )}
      </div>
      {p.tool === 'split' && <p className="hint">{m.editor.drawLine}</p>}
      {p.tool === 'add' && <p className="hint">{m.editor.drawPolygon}</p>}
      <div className="editor-actions">
        <button type="button" data-testid="undo" disabled={!p.canUndo} onClick={() => p.onStep('undo')}>{m.editor.undo}</button>
        <button type="button" data-testid="redo" disabled={!p.canRedo} onClick={() => p.onStep('redo')}>{m.editor.redo}</button>
        <label className="editor-snap">
          <input type="checkbox" data-testid="snapping" checked={p.snapping} onChange={(e) => p.onSnapping(e.target.checked)} /> {m.editor.snapping}
        </label>
        <button type="button" data-testid="preview" disabled={!p.canPreview} onClick={p.onPreview}>{m.editor.preview}</button>
        <button type="button" data-testid="save" disabled={!p.canSave} onClick={p.onSave}>{m.editor.save}</button>
        <button type="button" onClick={p.onCancel}>{m.editor.cancel}</button>
      </div>
    </>
  )
}
