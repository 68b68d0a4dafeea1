/** The grid editor's view of /api/villages/{code}/cover (see api/README.md). */
export interface CoverGrid {
  key: string
  code: string
  name: string
  kind: 'basic' | 'micro'
  parent: string | null
  geom: GeoJSON.Polygon | GeoJSON.MultiPolygon
  households: number
}

export interface Cover {
  village: { id: number; code: string; name: string; geom: GeoJSON.MultiPolygon }
  version: number
  grids: CoverGrid[]
}

export type Change =
  | { op: 'reshape'; grid: string; geometry: GeoJSON.Polygon }
  | { op: 'split'; grid: string; line: GeoJSON.LineString | null }
  | { op: 'merge'; grids: string[] }
  | { op: 'delete'; grid: string }
  | { op: 'add'; geometry: GeoJSON.Polygon }

export interface Preview {
  version: number
  grids: Omit<CoverGrid, 'households'>[]
  changed: string[]
  added: string[]
  removed: string[]
  flows: { from: string; to: string; households: number }[]
  counts: { key: string; kind: 'basic' | 'micro'; parent: string | null; before: number; after: number; size: 'low' | 'ok' | 'high' }[]
  guidance: { basic: { min: number; max: number }; micro: { min: number; max: number } }
  problems: { code: string; zh: string; en: string }[]
  valid: boolean
}

export interface Version {
  version: number
  at: string
  actor: string
  /** The person's name; null for a script. */
  actor_name: string | null
  operation: { op: string; version?: number }
}
