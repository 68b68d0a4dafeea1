import { useEffect, useState } from 'react'
import { useI18n } from '../i18n/index.tsx'
import { gridModes, type GridMode, type LayerGroup } from '../map/style.ts'

interface Props {
  visible: Record<LayerGroup, boolean>
  onChange(g: LayerGroup, on: boolean): void
  hasBasemap: boolean
  gridMode: GridMode
  onGridMode(mode: GridMode): void
  checksOpen: boolean
  onChecks(open: boolean): void
  evacOpen: boolean
  onEvac(open: boolean): void
  /** The planning panel is open below: it folds the list away as the other working panels do. */
  planningOpen?: boolean
  /** A record is open below: on a laptop screen it needs the column's height more than the layer list does. */
  recordOpen?: boolean
  /** The problem reports panel is open below. */
  reportsOpen?: boolean
  /** The hexagon view (map/hexagons.ts): not a tile layer group, so it is its own switch. */
  hexagons: boolean
  onHexagons(on: boolean): void
}

export function LayerSwitcher({ visible, onChange, hasBasemap, gridMode, onGridMode, checksOpen, onChecks, evacOpen, onEvac, planningOpen = false, recordOpen = false, reportsOpen = false, hexagons, onHexagons }: Props) {
  const { t, m } = useI18n()
  const groups = (Object.keys(m.layers) as (LayerGroup | 'title')[]).filter(
    (g): g is LayerGroup => g !== 'title' && (g !== 'basemap' || hasBasemap),
  )
  // Folds away when a working panel opens below it, so that panel gets the column's height.
  const below = evacOpen || checksOpen || planningOpen || reportsOpen || (recordOpen && window.innerHeight < 900)
  const [open, setOpen] = useState(!below)
  useEffect(() => {
    if (below) setOpen(false)
  }, [below])
  return (
    <section className={`panel layers${open ? '' : ' folded'}`} data-testid="layer-switcher">
      <h2>
        <button className="fold" aria-expanded={open} onClick={() => setOpen(!open)} data-testid="layers-fold">{open ? '▾' : '▸'} {t('layers.title')}</button>
      </h2>
      {open && <LayerChoices groups={groups} visible={visible} onChange={onChange} gridMode={gridMode} onGridMode={onGridMode} hexagons={hexagons} onHexagons={onHexagons} />}
      <div className="panel-toggles">
        <button className={`toggle ${checksOpen ? 'on' : ''}`} data-testid="checks-toggle" onClick={() => onChecks(!checksOpen)}>{t('checks.open')}</button>
        <button className={`toggle ${evacOpen ? 'on' : ''}`} data-testid="evac-toggle" onClick={() => onEvac(!evacOpen)}>{t('evac.open')}</button>
      </div>
    </section>
  )
}

function LayerChoices({ groups, visible, onChange, gridMode, onGridMode, hexagons, onHexagons }: Pick<Props, 'visible' | 'onChange' | 'gridMode' | 'onGridMode' | 'hexagons' | 'onHexagons'> & { groups: LayerGroup[] }) {
  const { t, m } = useI18n()
  return (
    <>
      {groups.map((g) => (
        <label key={g} className="check">
          <input type="checkbox" data-testid={`layer-${g}`} checked={visible[g]} onChange={(e) => onChange(g, e.target.checked)} />
          {m.layers[g]}
        </label>
      ))}
      <label className="check">
        <input type="checkbox" data-testid="layer-hexagons" checked={hexagons} onChange={(e) => onHexagons(e.target.checked)} />
        {t('hexagons.toggle')}
      </label>
      <h2>{t('gridMode.title')}</h2>
      {gridModes.map((mode) => (
        <label key={mode} className="check">
          <input type="radio" name="grid-mode" data-testid={`grid-mode-${mode}`} checked={gridMode === mode} onChange={() => onGridMode(mode)} />
          {m.gridMode[mode]}
        </label>
      ))}
    </>
  )
}
