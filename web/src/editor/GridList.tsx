import { useI18n } from '../i18n/index.tsx'
import { sizeColor, sizeOf } from './cover-layers.ts'
import type { Cover, CoverGrid } from './types.ts'

/**
 * The village's grids with their households (coloured as on the map by the
 * size guidance), and under the picked grid its micro-grids: a click picks one.
 */
export function GridList({ cover, selected, onPick }: { cover: Cover | null; selected: string | null; onPick(g: CoverGrid): void }) {
  const { m, t } = useI18n()
  const grids = cover?.grids ?? []
  const sel = grids.find((g) => g.key === selected)
  const openGrid = sel?.kind === 'micro' ? sel.parent : sel?.key
  const item = (g: CoverGrid) => (
    <button type="button" aria-pressed={g.key === selected} data-testid={`grid-${g.code}`} className={sizeOf(g)} onClick={() => onPick(g)}>
      {g.name} · {t('editor.households', { n: g.households })}
    </button>
  )
  return (
    <>
      <h2>{m.editor.grids}</h2>
      <p className="editor-legend">
        {(['low', 'ok', 'high'] as const).map((s) => <span key={s}><i style={{ background: sizeColor[s] }} />{m.editor[s]}</span>)}
      </p>
      <ul className="editor-grids">
        {grids.filter((g) => g.kind === 'basic').map((g) => (
          <li key={g.key}>
            {item(g)}
            {g.key === openGrid && (
              <ul className="editor-micros" aria-label={m.editor.micros}>
                {grids.filter((mg) => mg.kind === 'micro' && mg.parent === openGrid).map((mg) => <li key={mg.key}>{item(mg)}</li>)}
              </ul>
            )}
          </li>
        ))}
      </ul>
    </>
  )
}
