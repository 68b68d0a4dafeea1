/**
 * Where a rain writer may write (issue #16). Forecasts and warnings name
 * places by code, so their check is a prefix test; a gauge and a warning's
 * polygon are located, so theirs is a geometry test against the writer's
 * area. Rain stations are the city's shared infrastructure: adding, moving or
 * renaming one is for city-level accounts.
 */
import type postgres from 'postgres'
import { inScope, isCityWide } from '../../core/units.ts'
import type { Tx } from '../../db/write.ts'
import { INSIDE_TOLERANCE } from '../grid-editor/cover-problems.ts'
import type { RowErrors } from './validate.ts'

/** The outline of a scope: an admin unit's, or a grid's (15 digits). */
const outlineOf = (tx: Tx, scope: string) =>
  scope.length > 12 ? tx`(SELECT geom FROM grids WHERE code = ${scope})` : tx`(SELECT geom FROM admin_units WHERE code = ${scope})`

/** Adds an error for each row naming a place outside `scope` (pure: codes nest). */
export function codesOutside(errors: RowErrors, scope: string, rows: { row: number; codes: string[] }[]) {
  for (const r of rows) {
    const out = r.codes.filter((code) => !inScope(scope, code))
    if (out.length) errors.add(r.row, `区域 ${out.join('、')} 不在您的管辖范围内`, `area ${out.join(', ')} is outside your area`)
  }
}

/** Adds an error for each reading whose station stands outside `scope` (a city-wide scope reaches every station). */
export async function stationsOutside(tx: Tx, errors: RowErrors, scope: string, rows: { row: number; station: string }[]) {
  if (isCityWide(scope) || !rows.length) return
  const codes = [...new Set(rows.map((r) => r.station))]
  const out = new Set((await tx<{ code: string }[]>`
    SELECT s.code FROM rain_stations s
    WHERE s.code = ANY(${codes}::text[]) AND NOT coalesce(ST_Intersects(${outlineOf(tx, scope)}, s.geom), false)`).map((r) => r.code))
  for (const r of rows) if (out.has(r.station)) errors.add(r.row, `雨量站 ${r.station} 位于您的管辖范围之外`, `station ${r.station} stands outside your area`)
}

/** Adds an error for each warning polygon reaching out of `scope` by more than ~1 m (a city-wide scope may warn anywhere). */
export async function polygonsOutside(tx: Tx, errors: RowErrors, scope: string, rows: { row: number; polygon: string }[]) {
  if (isCityWide(scope) || !rows.length) return
  const area = outlineOf(tx, scope)
  for (const r of rows) {
    const [{ inside }] = await tx<{ inside: boolean | null }[]>`
      SELECT ST_CoveredBy(ST_SetSRID(ST_GeomFromGeoJSON(${r.polygon}), 4326), ST_Buffer(${area}, ${INSIDE_TOLERANCE})) AS inside`
    if (!inside) errors.add(r.row, '预警范围（polygon）超出您的管辖范围（容差约 1 米）', 'the polygon reaches outside your area (tolerance about 1 m)')
  }
}

/**
 * Adds an error for each station row that would add, move, rename or
 * re-level a station, unless the writer is city-wide; a row equal to the
 * stored station writes nothing and passes (a replay sends its stations first).
 * `incoming`: the rows as the upsert inserts them (code, name, elevation, geom).
 */
export async function stationChangesOutside(tx: Tx, errors: RowErrors, scope: string, incoming: postgres.Fragment, rowOf: Map<string, number>) {
  if (isCityWide(scope)) return
  const changing = await tx<{ code: string; known: boolean }[]>`
    SELECT x.code, s.id IS NOT NULL AS known FROM (${incoming}) x LEFT JOIN rain_stations s ON s.code = x.code
    WHERE s.id IS NULL OR (s.name, s.elevation_m, s.geom) IS DISTINCT FROM (x.name, x.elevation, x.geom)`
  for (const c of changing) {
    errors.add(rowOf.get(c.code)!, c.known ? `雨量站 ${c.code} 与已有记录不同（名称、海拔或位置）` : `雨量站 ${c.code} 是新站`,
      c.known ? `station ${c.code} differs from the stored one (name, elevation or location)` : `station ${c.code} is new`)
  }
}

/** The heading of the 403 for station changes: why a county may not make them. */
export const stationsAreTheCitys = (scope: string) => ({
  scope,
  zh: `雨量站是全市共用设施，只有市级账号可以新增、迁移或修改（您的范围：${scope}）`,
  en: `rain stations are shared by the whole city: only a city-level account may add, move or change one (your area: ${scope})`,
})
