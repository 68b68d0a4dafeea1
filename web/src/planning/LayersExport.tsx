import { useState } from 'react'
import { useI18n } from '../i18n/index.tsx'
import { FormatButtons, useDownload } from './files.tsx'
import { Status, useSaid } from './said.tsx'

/** The layers GET /api/export/{layer}.{format}?unit= cuts to an area (admin_units is left out: the outlines are not a planner's data). */
const exportLayers = ['households', 'grids', 'hazard_sites', 'shelters', 'routes'] as const
/** The coordinate systems of a file (GeoJSON is WGS84 only, RFC 7946). */
const crsChoices = ['EPSG:4326', 'EPSG:4490', 'EPSG:3857'] as const

/** The planning panel's raw layers of the area, one file per layer and format. */
export function LayersExport({ unitCode }: { unitCode: string }) {
  const { t, m } = useI18n()
  const download = useDownload()
  const { said, say, fail } = useSaid<'layers'>()
  const [layer, setLayer] = useState<(typeof exportLayers)[number]>('households')
  const [crs, setCrs] = useState<(typeof crsChoices)[number]>('EPSG:4326')
  const suffix = crs === 'EPSG:4326' ? '' : `-${crs.replace(':', '')}`
  return (
    <div data-testid="planning-layers">
      <h3>{t('planning.layers')}</h3>
      <div className="row">
        <select data-testid="planning-layer" value={layer} onChange={(e) => { setLayer(e.target.value as typeof layer); say('layers', null) }}>
          {exportLayers.map((l) => <option key={l} value={l}>{m.planning.layerNames[l]}</option>)}
        </select>
        <label>
          {m.planning.crs}
          <select data-testid="planning-crs" value={crs} onChange={(e) => setCrs(e.target.value as typeof crs)}>
            {crsChoices.map((c) => <option key={c} value={c}>{m.planning.crsNames[c]}</option>)}
          </select>
        </label>
      </div>
      <FormatButtons testid="planning-layer-export" only={(f) => f !== 'geojson' || crs === 'EPSG:4326'}
        onPick={(f) => void download(`/api/export/${layer}.${f}?unit=${unitCode}${crs === 'EPSG:4326' ? '' : `&crs=${crs}`}`, `${layer}-${unitCode}${suffix}.${f}`, f, (text) => say('layers', text)).catch(fail('layers'))} />
      <Status said={said('layers')} testid="planning-layer-status" />
    </div>
  )
}
