import { HttpError } from '../../core/errors.ts'
import { GRID_SIZE, type CoverGrid, type Geo, type Q } from './cover.ts'

/** How far (degrees, ~1 m) a grid may stick out of its village or parent and still count as inside. */
export const INSIDE_TOLERANCE = 1e-5
/** Gaps and overlaps smaller than this (degrees², ~1 m²) are rounding, not a problem to report. */
export const AREA_TOLERANCE = 1e-10

export interface Problem {
  code: 'invalid_geometry' | 'empty' | 'outside_village' | 'outside_parent' | 'overlap' | 'gap'
  zh: string
  en: string
  grids?: string[]
  /** degrees² (planar, for comparison only) */
  area?: number
  geom?: Geo
}

const geo = (g: Geo) => JSON.stringify(g)

/**
 * A proposed geometry from the client, before anything is computed with it:
 * valid (no self-intersection), not empty, inside its container (the
 * village, or a micro-grid's grid) within the tolerance. 400 with the reason
 * otherwise.
 */
export async function checkInputGeometry(q: Q, village: Geo, g: Geo, what: { zh: string; en: string },
  container = { zh: '行政村边界', en: 'the village', code: 'outside_village' }) {
  const [r] = await q`
    WITH i AS (SELECT ST_SetSRID(ST_GeomFromGeoJSON(${geo(g)}), 4326) AS g, ST_SetSRID(ST_GeomFromGeoJSON(${geo(village)}), 4326) AS v)
    SELECT ST_IsValid(g) AS valid, ST_IsValidReason(g) AS reason, ST_IsEmpty(g) OR ST_Area(g) = 0 AS empty,
           ST_CoveredBy(g, ST_Buffer(v, ${INSIDE_TOLERANCE})) AS inside,
           ST_Intersects(g, v) AS touches
    FROM i`.catch((e: Error) => {
    throw new HttpError(400, 'bad_geometry', `${what.zh}几何无法读取：${e.message}`, `${what.en}: unreadable geometry: ${e.message}`)
  })
  if (!r.valid) {
    throw new HttpError(400, 'invalid_geometry', `${what.zh}几何无效（自相交等）：${r.reason}`, `${what.en}: invalid geometry (self-intersection or similar): ${r.reason}`)
  }
  if (r.empty) throw new HttpError(400, 'empty_geometry', `${what.zh}面积为零`, `${what.en} has no area`)
  if (!r.inside) {
    throw new HttpError(400, container.code, `${what.zh}超出${container.zh}（容差约 1 米）`, `${what.en} lies outside ${container.en} (tolerance about 1 m)`)
  }
}

/**
 * The problems of a cover, computed in PostGIS: each grid valid and not
 * empty, inside the village (basic) or its grid (micro) within the
 * tolerance, no two siblings overlapping, and the gaps left (as polygons).
 * Overlap pairs are found with ST_Relate (no overlay) and measured with a
 * fixed-precision overlay only for the pairs that do overlap. `microOf`:
 * check only the micro-grids of these grids.
 */
export async function checkCover(
  q: Q, outline: Geo, allGrids: Pick<CoverGrid, 'key' | 'kind' | 'parent' | 'geom'>[], microOf?: Set<string>,
): Promise<Problem[]> {
  // Micro-grids of grids that did not move are as stored: checking them again costs time (a village
  // has five times more micro-grids than grids) and finds nothing the change made.
  const grids = microOf ? allGrids.filter((g) => g.kind === 'basic' || microOf.has(g.parent!)) : allGrids
  const rows = await q`
    WITH c AS (
      SELECT x ->> 'key' AS key, x ->> 'kind' AS kind, x ->> 'parent' AS parent,
             ST_SetSRID(ST_GeomFromGeoJSON(x ->> 'geom'), 4326) AS geom
      FROM jsonb_array_elements(${q.json(grids as never)}::jsonb) x),
    o AS (SELECT ST_SetSRID(ST_GeomFromGeoJSON(${geo(outline)}), 4326) AS geom),
    -- Every grid's container: the village for basic grids, the parent grid for micro-grids.
    box AS (
      SELECT c.key, c.kind, c.geom, CASE WHEN c.kind = 'basic' THEN o.geom ELSE p.geom END AS outer_geom,
             CASE WHEN c.kind = 'basic' THEN NULL ELSE c.parent END AS container
      FROM c CROSS JOIN o LEFT JOIN c p ON p.key = c.parent AND p.kind = 'basic'),
    bad AS (
      SELECT 'invalid_geometry' AS code, ARRAY[key] AS grids, NULL::float8 AS area, NULL::json AS geom, ST_IsValidReason(geom) AS reason
      FROM c WHERE NOT ST_IsValid(geom)
      UNION ALL
      SELECT 'empty', ARRAY[key], NULL, NULL, NULL FROM c WHERE ST_IsValid(geom) AND (ST_IsEmpty(geom) OR ST_Area(geom) = 0)
      UNION ALL
      SELECT CASE WHEN kind = 'basic' THEN 'outside_village' ELSE 'outside_parent' END, ARRAY[key], NULL, NULL, NULL
      FROM box WHERE ST_IsValid(geom) AND (outer_geom IS NULL OR NOT ST_CoveredBy(geom, ST_Buffer(outer_geom, ${INSIDE_TOLERANCE})))
    ),
    valid AS (SELECT * FROM box WHERE ST_IsValid(geom) AND NOT ST_IsEmpty(geom)),
    overlapping AS (
      SELECT ARRAY[a.key, b.key] AS grids, ST_Area(ST_Intersection(a.geom, b.geom, ${GRID_SIZE}::float8)) AS area
      FROM valid a JOIN valid b ON a.key < b.key AND a.kind = b.kind AND a.container IS NOT DISTINCT FROM b.container
       AND a.geom && b.geom AND ST_Relate(a.geom, b.geom, '2********')),
    gaps AS (
      SELECT u.container, d.geom
      FROM (SELECT v.container, ST_Difference((array_agg(v.outer_geom))[1], ST_Union(v.geom, ${GRID_SIZE}::float8), ${GRID_SIZE}::float8) AS g
            FROM valid v WHERE v.outer_geom IS NOT NULL AND ST_IsValid(v.outer_geom)
            GROUP BY v.container) u,
           ST_Dump(ST_CollectionExtract(u.g, 3)) d)
    SELECT code, grids, area, geom, reason FROM bad
    UNION ALL
    SELECT 'overlap', grids, area, NULL, NULL FROM overlapping WHERE area > ${AREA_TOLERANCE}
    UNION ALL
    SELECT 'gap', CASE WHEN container IS NULL THEN ARRAY[]::text[] ELSE ARRAY[container] END, ST_Area(geom),
           ST_AsGeoJSON(geom, 10)::json, NULL
    FROM gaps WHERE ST_Area(geom) > ${AREA_TOLERANCE}`
  return rows.map((r) => describe(r.code as Problem['code'], r.grids as string[], r.area as number | null, r.geom as Geo | null, r.reason as string | null))
}

function describe(code: Problem['code'], grids: string[], area: number | null, geom: Geo | null, reason: string | null): Problem {
  const list = grids.join('、')
  const m2 = area == null ? '' : `${Math.round(area * 1.1e10)}`
  const text: Record<Problem['code'], [string, string]> = {
    invalid_geometry: [`网格 ${list} 几何无效：${reason}`, `grid ${list}: invalid geometry: ${reason}`],
    empty: [`网格 ${list} 面积为零`, `grid ${list} has no area`],
    outside_village: [`网格 ${list} 超出行政村边界`, `grid ${list} lies outside the village`],
    outside_parent: [`微网格 ${list} 超出所属网格`, `micro-grid ${list} lies outside its grid`],
    overlap: [`网格 ${list} 相互重叠（约 ${m2} 平方米）`, `grids ${list} overlap (about ${m2} m²)`],
    gap: [grids.length ? `网格 ${list} 内有空隙（约 ${m2} 平方米）` : `行政村内有未被网格覆盖的空隙（约 ${m2} 平方米）`,
      grids.length ? `a gap inside grid ${list} (about ${m2} m²)` : `a gap in the village no grid covers (about ${m2} m²)`],
  }
  const [zh, en] = text[code]
  return { code, zh, en, grids, ...(area == null ? {} : { area }), ...(geom ? { geom } : {}) }
}
