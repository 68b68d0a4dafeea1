import type * as maplibregl from 'maplibre-gl'
import { useEffect, useState } from 'react'
import { getJson, type ClientConfig } from '../api.ts'
import { buildStyle, layerGroups, makeIcons, styleSubset } from '../map/style.ts'

/**
 * What the grid editor shows around the grids, taken from the command map's
 * own style (web/src/map/style.ts): the dark background, the online basemap
 * when one is configured (GRIDWATCH_BASEMAP / TIANDITU_KEY, told by
 * /api/config), the admin outlines and names, the households (红黄绿 dots
 * from the `households` tiles, aggregates below z13), the hazard sites and
 * the shelters. Township staff draw boundaries by where people live: an
 * editor without them drew grids on an empty page.
 */
const contextLayerIds = [
  'bg', 'basemap', 'admin-fill', 'admin-line',
  ...layerGroups.households, ...layerGroups.shelters, 'hazards', 'admin-label',
] as const

/** The groups a user may hide in the editor (e.g. dense households under a vertex), by the command map's group names. */
export const contextGroups = ['households', 'hazards', 'shelters', 'basemap'] as const
export type ContextGroup = (typeof contextGroups)[number]

/** The layer the editor's grid fill goes under (the dots stay visible over it), and the one its lines go under (names on top). */
export const dataBelow = layerGroups.households[0]
export const labelsBelow = 'admin-label'

/** The editor map's style: the command map's, cut down to the context layers. */
export function editorStyle(origin: string, cfg: ClientConfig | null): maplibregl.StyleSpecification {
  return styleSubset(buildStyle(origin, cfg), contextLayerIds)
}

/** The hazard and shelter icons, drawn as on the command map. */
export function addContextIcons(map: maplibregl.Map) {
  for (const icon of makeIcons()) if (!map.hasImage(icon.name)) map.addImage(icon.name, icon.image, { pixelRatio: icon.pixelRatio })
}

export function setContextVisible(map: maplibregl.Map, group: ContextGroup, on: boolean) {
  for (const id of layerGroups[group]) if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none')
}

/**
 * /api/config (the basemap setting): undefined while asked, null when it
 * could not be had (the map then draws offline, as the command map does).
 */
export function useClientConfig(): ClientConfig | null | undefined {
  const [config, setConfig] = useState<ClientConfig | null | undefined>(undefined)
  useEffect(() => {
    let live = true
    getJson<ClientConfig>('/api/config').then((c) => live && setConfig(c), () => live && setConfig(null))
    return () => {
      live = false
    }
  }, [])
  return config
}
