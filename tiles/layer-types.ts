/**
 * The tile layers: for each, the SQL that makes its features at each zoom
 * band: `columns` (with `fid`, the feature id, and the properties), `geom`
 * (an EPSG:3857 geometry expression) and `from` (tables and conditions; the
 * tile's bounding-box filter on `geom` is added by the encoders). `kind` names
 * what the features are, so that a change to that kind of thing drops exactly
 * the cached tiles that show it.
 */
export interface Band {
  minzoom: number
  maxzoom: number
  kind: string
  columns: string
  geom: string
  from: string
  where?: string
}

export interface MvtLayer {
  name: string
  geometry: 'point' | 'line' | 'polygon'
  fields: Record<string, 'String' | 'Number' | 'Boolean'>
  description: string
  bands: Band[]
}

export interface TileLayer {
  name: string
  minzoom: number
  maxzoom: number
  layers: MvtLayer[]
  /** Its SQL reads "now" as $4 (timestamptz): the server's clock, which tests fix. */
  clock?: boolean
}
