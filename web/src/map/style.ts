import type { LayerSpecification, Map as MapLibreMap, StyleSpecification } from 'maplibre-gl'
import type { ClientConfig } from '../api.ts'
import { evacTiles } from './evacStyle.ts'
import { commandMapLayers, layerGroups, type LayerGroup } from '../../../core/map-style/command-map.ts'
import { mapIcons } from '../../../core/map-style/icons.ts'

export { defaultVisible, fontStack, gridFillColor, gridModes, layerGroups, pickableLayers } from '../../../core/map-style/command-map.ts'
export type { GridMode, LayerGroup } from '../../../core/map-style/command-map.ts'

/**
 * The map style, built from our own tiles only so that it works with no
 * internet: plain background, admin outlines and Chinese labels. Labels use
 * the browser's own fonts (no `glyphs` URL: MapLibre then draws text with
 * local fonts), so no font server is needed.
 *
 * Every tile layer is a MapLibre layer: they come from our vector tiles,
 * which MapLibre parses in its workers and draws with label collision.
 * deck.gl draws the highlights (see overlay.ts). The layers themselves are
 * core/map-style/command-map.ts: the published style (api/styles/) is them too.
 */

/** Shows and hides the style layers of each group (the map and the print sheet alike). */
export function applyVisibility(map: MapLibreMap, visible: Record<LayerGroup, boolean>) {
  for (const [group, ids] of Object.entries(layerGroups) as [LayerGroup, readonly string[]][]) {
    for (const id of ids) if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', visible[group] ? 'visible' : 'none')
  }
}

/** The tile layers the command map reads through a TileJSON (evac carries its own tile URL and reads one too). */
const tileJsonLayers = ['evac', 'admin', 'grids', 'households', 'hazards', 'shelters', 'routes'] as const

/**
 * Asks for the TileJSONs as soon as the command map mounts, while it still waits for the user's area and MapLibre
 * for its style: MapLibre then finds them in the browser's cache (they are kept 60 s) rather than asking for them
 * only once the style is in, a round trip later.
 */
export function prefetchTileJsons(origin: string) {
  for (const layer of tileJsonLayers) void fetch(`${origin}/tiles/${layer}.json`, { credentials: 'same-origin' }).then((r) => r.arrayBuffer(), () => {})
}

export function buildStyle(origin: string, cfg: ClientConfig | null): StyleSpecification {
  const source = (layer: (typeof tileJsonLayers)[number]) => ({ type: 'vector' as const, url: `${origin}/tiles/${layer}.json` })
  return {
    version: 8,
    sources: {
      // Its TileJSON for the data bounds (as the other sources have: without them a county view asked for
      // three times as many tiles), its own tile URL with the live version, which the TileJSON's gives way to
      // (MapLibre lets a source's own options win; each new version reads the TileJSON again: under 1 KB).
      evac: { type: 'vector' as const, url: `${origin}/tiles/evac.json`, tiles: evacTiles(origin, 0), minzoom: 8, maxzoom: 16 },
      ...(cfg?.basemap ? { basemap: { type: 'raster' as const, ...cfg.basemap } } : {}),
      admin: source('admin'), grids: source('grids'), households: source('households'),
      hazards: source('hazards'), shelters: source('shelters'), routes: source('routes'),
    },
    layers: commandMapLayers({ basemap: Boolean(cfg?.basemap) }),
  }
}

/**
 * The command map's layers over one made-up feature per kind of geometry, with no filter or zoom range: drawn
 * once by the map made while the login form is shown (MapView's spare), so that the shader programs the real
 * layers need are compiled and linked by then. A program depends on the layer's type and on which of its paint
 * properties read the data, not on the data, the source or the zoom; on software GL the command map's first
 * paint spent 0.4–1.2 s linking its ~15 programs. Every property any layer reads is on each feature.
 */
export function warmUpStyle(): StyleSpecification {
  const properties = {
    id: 1, code: '530600000000', name: 'x', level: 'county', agg: 'village', households: 10, red: 2, yellow: 3, green: 5, people: 30,
    red_share: 0.2, yellow_share: 0.3, risk: 'red', danger_level: '大型', status: 'active', sites: 1, moving: 1, arrived: 1,
    vulnerable: 1, capacity: 100, fill: 0.5, present: 10,
  }
  const feature = (geometry: GeoJSON.Geometry) => ({ type: 'geojson' as const, data: { type: 'Feature' as const, properties, geometry } })
  const geometryOf = { fill: 'polygon', line: 'line', circle: 'point', symbol: 'point' } as Record<string, string>
  return {
    version: 8,
    sources: {
      polygon: feature({ type: 'Polygon', coordinates: [[[-20, -20], [20, -20], [20, 20], [-20, 20], [-20, -20]]] }),
      line: feature({ type: 'LineString', coordinates: [[-30, 0], [30, 10]] }),
      point: feature({ type: 'Point', coordinates: [0, 0] }),
    },
    layers: commandMapLayers({ basemap: false }).map((layer) => {
      if (!('source' in layer)) return layer
      const { filter, minzoom, maxzoom, 'source-layer': sourceLayer, ...rest } = layer as LayerSpecification & { filter?: unknown; 'source-layer'?: string }
      return { ...rest, source: geometryOf[layer.type] } as LayerSpecification
    }),
  }
}

type Icon = { name: string; image: ImageData; pixelRatio: number }
let icons: Icon[] | undefined

/**
 * Icons drawn on a canvas from core/map-style/icons.ts: no sprite file to serve or to miss offline. Drawn once
 * a page (MapLibre copies what it is given): the command map draws them while the login form is shown
 * (MapView's spare map), as the page's first canvas costs a GPU channel set-up, 100–150 ms on software GL.
 */
export function makeIcons(): Icon[] {
  return (icons ??= drawIcons())
}

function drawIcons(): Icon[] {
  const ratio = 2
  return mapIcons.map((icon) => {
    const c = document.createElement('canvas')
    c.width = c.height = icon.size * ratio
    // Read back once, at once: a canvas kept on the CPU. A GPU canvas (the default) paid a GPU read for each of the
    // icons, 20–40 ms apiece on software GL, ~400 ms before the map could be made.
    const g = c.getContext('2d', { willReadFrequently: true })!
    g.scale(ratio, ratio)
    for (const part of icon.parts) {
      g.beginPath()
      part.points.forEach(([x, y], i) => (i ? g.lineTo(x, y) : g.moveTo(x, y)))
      g.closePath()
      g.fillStyle = part.fill
      g.fill()
      if (part.stroke) {
        g.lineWidth = part.stroke.width
        g.strokeStyle = part.stroke.color
        g.stroke()
      }
    }
    return { name: icon.name, image: g.getImageData(0, 0, c.width, c.height), pixelRatio: ratio }
  })
}

/**
 * A part of a style: the layers named, in the style's own order, and the
 * sources they draw from. Other screens (the grid editor) show the command
 * map's data with the command map's symbols and colours this way, not copies.
 */
export function styleSubset(style: StyleSpecification, ids: readonly string[]): StyleSpecification {
  const layers = style.layers.filter((l) => ids.includes(l.id))
  const used = new Set(layers.map((l) => ('source' in l ? l.source : undefined)))
  return { ...style, sources: Object.fromEntries(Object.entries(style.sources).filter(([id]) => used.has(id))), layers }
}
