import type { Sql } from '../../db/connect.ts'
import type { Tx } from '../../db/write.ts'
import { HttpError, notFound } from '../../core/errors.ts'

/** Something postgres.js can run tagged queries on: the pool or a transaction. */
export type Q = Sql | Tx

/** GeoJSON Polygon / MultiPolygon as PostGIS writes it. */
export type Geo = { type: string; coordinates: unknown }

/**
 * One grid of a cover. `key` names it across a preview: its code when it
 * exists, `new-N` (basic) or `<parent key>/new-N` (micro) when it does not yet.
 */
export interface CoverGrid {
  key: string
  code: string | null
  name: string
  kind: 'basic' | 'micro'
  /** Key of the basic grid a micro-grid belongs to. */
  parent: string | null
  geom: Geo
}

export interface Village {
  id: number
  code: string
  name: string
  geom: Geo
}

export interface Cover {
  village: Village
  /** Number of saves of this village's cover; 0 = as seeded/imported. */
  version: number
  grids: CoverGrid[]
}

/** Fixed-precision grid (degrees, ~0.1 mm) for every overlay: see gw_settle_cover in migration 007. */
export const GRID_SIZE = 1e-9
/** Digits written to GeoJSON: finer than GRID_SIZE so that snapped vertices survive the round trip. */
export const DIGITS = 10

export const VILLAGE = { zh: '行政村', en: 'village' }

/**
 * JIT off for the rest of the caller's transaction. A preview's queries carry PostGIS's high costs, so
 * for a large village (59 grids) PostgreSQL JIT-compiles them: the point-in-polygon assignment took
 * 243 ms with JIT and 117 ms without, measured in one run (gw_settle_cover turns it off for itself).
 */
export async function withoutJit(q: Q) {
  await q`SET LOCAL jit = off`
}

/** The village row by code; 404 when there is none, 400 when the code is not a village's. */
export async function findVillage(q: Q, code: string, lock = false): Promise<Village> {
  if (!/^[0-9]{12}$/.test(code) || code.endsWith('000')) {
    throw new HttpError(400, 'bad_village', `行政村编码须为 12 位且不以 000 结尾，收到 "${code}"`, `a village code is 12 digits not ending in 000, got "${code}"`)
  }
  const rows = lock
    ? await q`SELECT id, code, name, ST_AsGeoJSON(geom, ${DIGITS})::json AS geom FROM admin_units WHERE code = ${code} AND level = 'village' FOR UPDATE`
    : await q`SELECT id, code, name, ST_AsGeoJSON(geom, ${DIGITS})::json AS geom FROM admin_units WHERE code = ${code} AND level = 'village'`
  if (!rows[0]) throw notFound(VILLAGE, code)
  return rows[0] as unknown as Village
}

export async function coverVersion(q: Q, villageId: number): Promise<number> {
  const [r] = await q`SELECT coalesce(max(version), 0)::int AS v FROM grid_cover_versions WHERE village_id = ${villageId}`
  return r.v as number
}

/** The village's grids and micro-grids as stored now. */
export async function loadCover(q: Q, village: Village): Promise<Cover> {
  const rows = await q`
    SELECT g.code AS key, g.code, g.name, g.kind, p.code AS parent, ST_AsGeoJSON(g.geom, ${DIGITS})::json AS geom
    FROM grids g LEFT JOIN grids p ON p.id = g.parent_id
    WHERE g.village_id = ${village.id}
    ORDER BY g.kind, g.code`
  return { village, version: await coverVersion(q, village.id), grids: rows as unknown as CoverGrid[] }
}

/** A piece for gw_settle_cover: fixed pieces win over the others. */
export interface Piece {
  key: string
  geom: Geo
  fixed?: boolean
}

/**
 * Makes the pieces cover `outline` exactly (see gw_settle_cover): clipped to
 * it, fixed pieces winning, gaps given to the neighbour on the longest shared
 * edge. Pieces left empty are missing from the answer.
 */
export async function settle(q: Q, outline: Geo, pieces: Piece[]): Promise<Map<string, Geo>> {
  const rows = await q`
    SELECT key, ST_AsGeoJSON(geom, ${DIGITS})::json AS geom
    FROM gw_settle_cover(ST_SetSRID(ST_GeomFromGeoJSON(${JSON.stringify(outline)}), 4326), ${q.json(pieces as never)}::jsonb, ${GRID_SIZE}::float8)`
  return new Map(rows.map((r) => [r.key as string, r.geom as Geo]))
}

/** Households per grid and micro-grid of the village, by grid code. */
export async function householdsByGrid(q: Q, village: Village): Promise<Map<string, number>> {
  const counts = await q`
    SELECT g.code, coalesce(r.households, 0)::int AS n FROM grids g
    LEFT JOIN household_rollups r ON r.level = CASE WHEN g.kind = 'basic' THEN 'grid' ELSE 'micro' END AND r.unit_id = g.id
    WHERE g.village_id = ${village.id}`
  return new Map(counts.map((r) => [r.code as string, r.n as number]))
}

/** The village's saved cover versions, newest first, with who made each and how. */
export async function coverVersions(q: Q, village: Village) {
  return q`
    SELECT v.version, v.at, v.actor, u.display_name AS actor_name, v.actor_role, v.operation, v.summary
    FROM grid_cover_versions v LEFT JOIN users u ON u.id = v.actor_id
    WHERE v.village_id = ${village.id} ORDER BY v.version DESC`
}
