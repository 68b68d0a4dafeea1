import type * as maplibregl from 'maplibre-gl'
import { useState } from 'react'
import { useI18n } from '../i18n/index.tsx'
import { contextGroups, setContextVisible, type ContextGroup } from './context-layers.ts'

/** Show or hide the households, hazard sites, shelters and basemap under the grids (all shown at first). */
export function ContextToggles({ map, hasBasemap }: { map: maplibregl.Map | null; hasBasemap: boolean }) {
  const { m } = useI18n()
  const [hidden, setHidden] = useState<Set<ContextGroup>>(new Set())
  const toggle = (g: ContextGroup, on: boolean) => {
    if (map) setContextVisible(map, g, on)
    setHidden((h) => {
      const next = new Set(h)
      if (on) next.delete(g)
      else next.add(g)
      return next
    })
  }
  return (
    <fieldset className="editor-layers" data-testid="editor-layers">
      <legend>{m.layers.title}</legend>
      {contextGroups.filter((g) => g !== 'basemap' || hasBasemap).map((g) => (
        <label key={g}>
          <input type="checkbox" data-testid={`layer-${g}`} checked={!hidden.has(g)} disabled={!map} onChange={(e) => toggle(g, e.target.checked)} /> {m.layers[g]}
        </label>
      ))}
    </fieldset>
  )
}
