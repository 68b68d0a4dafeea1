import type { TileLayer } from './layer-types.ts'

/** TileJSON 3.0 for one layer; `baseUrl` is our public origin, or '' for tile paths relative to where the client reached us. */
export function tileJson(layer: TileLayer, baseUrl: string, bounds: [number, number, number, number]) {
  return {
    tilejson: '3.0.0',
    name: `gridwatch ${layer.name}`,
    scheme: 'xyz',
    tiles: [`${baseUrl}/tiles/${layer.name}/{z}/{x}/{y}.mvt`],
    minzoom: layer.minzoom,
    maxzoom: layer.maxzoom,
    bounds,
    center: [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, Math.max(layer.minzoom, 8)],
    vector_layers: layer.layers.map((l) => ({
      id: l.name,
      description: l.description,
      minzoom: Math.max(layer.minzoom, Math.min(...l.bands.map((b) => b.minzoom))),
      maxzoom: Math.min(layer.maxzoom, Math.max(...l.bands.map((b) => b.maxzoom))),
      fields: l.fields,
    })),
  }
}
