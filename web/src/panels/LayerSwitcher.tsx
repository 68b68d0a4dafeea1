import { useI18n } from '../i18n/index.tsx'
import type { LayerGroup } from '../map/style.ts'

export function LayerSwitcher({ visible, onChange, hasBasemap }: { visible: Record<LayerGroup, boolean>; onChange(g: LayerGroup, on: boolean): void; hasBasemap: boolean }) {
  const { t, m } = useI18n()
  const groups = (Object.keys(m.layers) as (LayerGroup | 'title')[]).filter(
    (g): g is LayerGroup => g !== 'title' && (g !== 'basemap' || hasBasemap),
  )
  return (
    <section className="panel layers" data-testid="layer-switcher">
      <h2>{t('layers.title')}</h2>
      {groups.map((g) => (
        <label key={g} className="check">
          <input type="checkbox" data-testid={`layer-${g}`} checked={visible[g]} onChange={(e) => onChange(g, e.target.checked)} />
          {m.layers[g]}
        </label>
      ))}
    </section>
  )
}
