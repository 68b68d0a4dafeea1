import { useI18n } from '../i18n/index.tsx'
import type { Cover, Preview } from './types.ts'

/**
 * What the server says a change would do: valid or not (and why), the
 * households moving between grids, and every grid of the level changed (the
 * basic grids, or the micro-grids of `parent`) with its households before and
 * after against the size guidance. Only the counts that changed were listed
 * before, so a change moving no household showed an empty guidance section.
 */
export function PreviewPanel({ preview, cover, parent }: { preview: Preview; cover: Cover; parent: string | null }) {
  const { m, t, lang } = useI18n()
  const name = (key: string) => cover.grids.find((g) => g.key === key)?.name ?? preview.grids.find((g) => g.key === key)?.name ?? key
  const g = preview.guidance
  const atLevel = (kind: 'basic' | 'micro', p: string | null) => (parent ? kind === 'micro' && p === parent : kind === 'basic')
  const counts = preview.counts.filter((c) => atLevel(c.kind, c.parent))
  const removed = cover.grids.filter((x) => preview.removed.includes(x.key) && atLevel(x.kind, x.parent))
  const touched = new Set([...preview.changed, ...preview.added])
  return (
    <section className="editor-preview" data-testid="editor-preview">
      <p data-testid="preview-verdict" className={preview.valid ? 'ok' : 'bad'}>{preview.valid ? m.editor.valid : m.editor.invalid}</p>
      {preview.problems.map((p, i) => <p key={i} className="bad">{lang === 'zh' ? p.zh : p.en}</p>)}
      <h3>{m.editor.moves}</h3>
      {preview.flows.length === 0 ? <p>{m.editor.noMoves}</p> : (
        <ul data-testid="preview-flows">
          {preview.flows.map((f) => <li key={`${f.from}>${f.to}`}>{t('editor.flow', { from: name(f.from), to: name(f.to), n: f.households })}</li>)}
        </ul>
      )}
      <div data-testid="preview-counts">
        <h3>{t('editor.counts', { bmin: g.basic.min, bmax: g.basic.max, mmin: g.micro.min, mmax: g.micro.max })}</h3>
        <table className="editor-counts">
          <tbody>
            {counts.map((c) => (
              <tr key={c.key} className={touched.has(c.key) || c.before !== c.after ? 'changed' : undefined}>
                <td>{name(c.key)}</td>
                <td className="n">{c.before === c.after ? t('editor.households', { n: c.after }) : `${c.before} → ${t('editor.households', { n: c.after })}`}</td>
                <td className={c.size}>{m.editor[c.size]}</td>
              </tr>
            ))}
            {removed.map((x) => (
              <tr key={x.key} className="changed removed"><td>{x.name}</td><td className="n">{x.households} → —</td><td /></tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  )
}
