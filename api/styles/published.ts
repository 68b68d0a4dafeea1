/**
 * Published MapLibre styles (issue #22): the command map's layers
 * (core/map-style/command-map.ts) over our vector tiles, for QGIS's vector-tile
 * connection and any MapLibre app, so that they draw our tiles as our map does.
 *
 * What differs from the map in the page, and why:
 * - no text layers (admin names, counts): text needs `glyphs`, font PBFs. The
 *   page draws Chinese with the browser's own fonts; a published style would
 *   need a CJK font cut into SDF ranges (tens of MB, a font rasteriser we do
 *   not have) to be served offline. QGIS users label from the tile fields.
 *   Symbol layers keep their icons and lose only their text.
 * - no live state: the halo of a site past its critical rainfall is a feature
 *   state our page sets from the rain feed; no other client has it.
 * - no basemap: the desktop client has its own.
 * - the tiles inline (`tiles`, not a TileJSON `url`), so that a token the
 *   client gave in the style's URL reaches each tile URL; and absolute, from our
 *   configured public origin (never the request's Host): QGIS resolves a
 *   root-relative sprite URL without the port.
 */
import type { LayerSpecification, StyleSpecification, VectorSourceSpecification } from '@maplibre/maplibre-gl-style-spec'
import { HttpError } from '../../core/errors.ts'
import { commandMapLayers, commandMapSources, defaultVisible, layerGroups } from '../../core/map-style/command-map.ts'
import { tileLayerByName } from '../../tiles/registry.ts'

/** The styles we publish, by name. */
export const styleNames = ['gridwatch'] as const
export type StyleName = (typeof styleNames)[number]

/** The sprite's name under /styles/sprites/ (one for every style: the icons are the map's). */
export const SPRITE = 'gridwatch'

/** Layers that draw only from what our page sets at run time (feature state). */
const liveOnly = new Set(['hazards-alert'])

/** A symbol layer without its text; none at all when it had only text. */
function withoutText(layer: LayerSpecification): LayerSpecification | null {
  if (layer.type !== 'symbol') return layer
  const layout = Object.fromEntries(Object.entries(layer.layout ?? {}).filter(([k]) => !k.startsWith('text-')))
  if (!('icon-image' in layout)) return null
  const paint = Object.fromEntries(Object.entries(layer.paint ?? {}).filter(([k]) => !k.startsWith('text-')))
  return { ...layer, layout, paint } as LayerSpecification
}

/** Hidden when the map's layer group is off at first (micro-grid lines). */
function withDefaultVisibility(layer: LayerSpecification): LayerSpecification {
  const off = Object.entries(layerGroups).some(([g, ids]) => !defaultVisible[g as keyof typeof layerGroups] && (ids as readonly string[]).includes(layer.id))
  return off ? ({ ...layer, layout: { ...('layout' in layer ? layer.layout : {}), visibility: 'none' } } as LayerSpecification) : layer
}

export interface PublishOptions {
  /** Our public origin, scheme://host[:port]. */
  origin: string
  /** A token the client sent in the style's own URL, carried on into the tile and sprite URLs; else none. */
  token?: string
  bounds: [number, number, number, number]
}

export function isStyleName(name: string): name is StyleName {
  return (styleNames as readonly string[]).includes(name)
}

export function publishedStyle(name: string, opts: PublishOptions): StyleSpecification {
  if (!isStyleName(name)) {
    throw new HttpError(404, 'unknown_style', `没有名为 "${name}" 的样式；可用：${styleNames.join('、')}`, `no style named "${name}"; styles: ${styleNames.join(', ')}`)
  }
  const query = opts.token ? `?access_token=${encodeURIComponent(opts.token)}` : ''
  const sources: Record<string, VectorSourceSpecification> = {}
  for (const id of commandMapSources) {
    const layer = tileLayerByName.get(id)
    if (!layer) throw new Error(`published style: no tile layer "${id}"`)
    sources[id] = {
      type: 'vector',
      tiles: [`${opts.origin}/tiles/${id}/{z}/{x}/{y}.mvt${query}`],
      minzoom: layer.minzoom,
      maxzoom: layer.maxzoom,
      bounds: opts.bounds,
      attribution: 'gridwatch',
    }
  }
  const layers = commandMapLayers({ basemap: false })
    .filter((l) => !liveOnly.has(l.id))
    .map(withoutText)
    .filter((l): l is LayerSpecification => l !== null)
    .map(withDefaultVisibility)
  const [w, s, e, n] = opts.bounds
  return {
    version: 8,
    name: 'gridwatch 指挥图 / command map',
    center: [(w + e) / 2, (s + n) / 2],
    zoom: 9,
    sprite: `${opts.origin}/styles/sprites/${SPRITE}${query}`,
    sources,
    layers,
  }
}
