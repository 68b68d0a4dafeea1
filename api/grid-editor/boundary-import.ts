/**
 * Importing a village's or a township's grids from a GeoJSON file or a zipped
 * Shapefile (issue #7). The file is read and decoded by the general importer
 * (api/import: UTF-8 GeoJSON, GDAL for Shapefiles and their code pages), its
 * coordinates converted as the other imports do (WGS84/CGCS2000 as they are,
 * GCJ-02 through gcoord). Each feature is a basic grid; each village named in
 * the file gets the file's grids as its new cover, with the checks of a save:
 * every feature valid and inside its village, no overlap and no gap between
 * them (thinner than the 1 m tolerance counts as rounding and is settled
 * away), then the same preview as an edit (households moving, counts against
 * the guidance) and, unless a dry run, one version per village, all villages
 * in one transaction. Any error: every one by feature number, nothing written.
 */
import gcoord from 'gcoord'
import { z } from 'zod'
import type { SessionUser } from '../auth/guard.ts'
import { inScope } from '../../core/units.ts'
import { auditEvent, type Tx } from '../../db/write.ts'
import { HttpError } from '../../core/errors.ts'
import type { Crs } from '../ledger-import/columns.ts'
import type { LineError } from '../ledger-import/decode.ts'
import { readFeatures } from '../ledger-import/read.ts'
import { AREA_TOLERANCE, INSIDE_TOLERANCE } from './cover-problems.ts'
import { DIGITS, GRID_SIZE, findVillage, loadCover, settle, type CoverGrid, type Geo, type Q } from './cover.ts'
import { areal, type Areal } from './input.ts'
import { changedKeys, newGridNamer, recutMicro } from './operations.ts'
import { describe, type Preview } from './preview.ts'
import { expectVersion, writeCover } from './save.ts'

/** Same limit as the other imports: 24 MB of file as base64. */
const MAX_BASE64 = 32 * 2 ** 20
const MAX_FEATURES = 5000
const villageCode = z.string().regex(/^[0-9]{12}$/, 'a village code is 12 digits')

export const gridImportBody = z.strictObject({
  /** The village or township whose grids the file holds. */
  unit: z.string().regex(/^[0-9]{12}$/, 'a village or township code is 12 digits'),
  file: z.string().min(1).max(MAX_BASE64).regex(/^[A-Za-z0-9+/=\r\n]+$/, 'base64'),
  filename: z.string().max(200).default('upload'),
  format: z.enum(['geojson', 'shp.zip']),
  crs: z.enum(['wgs84', 'cgcs2000', 'gcj02']),
  /** Which property holds a field, when not one of the usual names. */
  mapping: z.strictObject({ code: z.string().max(100), name: z.string().max(100), village: z.string().max(100) }).partial().default({}),
  dryRun: z.boolean().default(true),
  /** Each village's cover version the import starts from (as the dry run answered); required to save. */
  versions: z.record(villageCode, z.number().int().min(0)).optional(),
})
export type GridImportRequest = z.infer<typeof gridImportBody>

/** Property names townships' files use for each field (Chinese first, our export's English too). */
const aliases = {
  code: ['code', '网格编码', '网格代码', '网格编号', '编码'],
  name: ['name', '网格名称', '名称', '网格名'],
  village: ['village', 'village_code', '行政村编码', '村编码', '村代码', '行政村代码'],
}

export interface ImportedGrid {
  /** Feature number from 1, as errors name it. */
  row: number
  village: string | null
  code: string | null
  name: string | null
  geom: Areal
}

const rowError = (row: number, zh: string, en: string): LineError => ({ row, zh: `第 ${row} 个要素：${zh}`, en: `feature ${row}: ${en}` })

function prop(props: Record<string, unknown>, field: keyof typeof aliases, mapping: GridImportRequest['mapping']): string | null {
  const key = mapping[field] ?? aliases[field].find((a) => props[a] !== undefined && props[a] !== null && props[a] !== '')
  const v = key === undefined ? undefined : props[key]
  return v === undefined || v === null || String(v).trim() === '' ? null : String(v).trim()
}

/**
 * Whether a geometry's positions are numbers but not lon/lat in China (a
 * projected file, Gauss-Krüger metres, or lon/lat swapped): said as such,
 * not as a malformed geometry.
 */
function notLonLatInChina(c: unknown): boolean {
  const positions: unknown[][] = []
  const walk = (x: unknown): boolean => {
    if (!Array.isArray(x)) return false
    if (typeof x[0] === 'number') return positions.push(x) > 0
    return x.every(walk)
  }
  if (!walk(c) || !positions.length) return false
  return positions.some((p) => typeof p[0] === 'number' && typeof p[1] === 'number' && !(p[0] >= 73 && p[0] <= 136 && p[1] >= 3 && p[1] <= 54))
}

/** The file's features as grids in WGS84, each checked for shape; errors by feature number. */
export function readGrids(features: unknown, crs: Crs, mapping: GridImportRequest['mapping']): { grids: ImportedGrid[]; errors: LineError[] } {
  if (!Array.isArray(features)) return { grids: [], errors: [{ row: 1, zh: '不是 GeoJSON 要素集合（FeatureCollection）', en: 'not a GeoJSON FeatureCollection' }] }
  if (!features.length) return { grids: [], errors: [{ row: 1, zh: '文件中没有要素', en: 'the file has no features' }] }
  if (features.length > MAX_FEATURES) {
    return { grids: [], errors: [{ row: 1, zh: `一次最多导入 ${MAX_FEATURES} 个网格，文件有 ${features.length} 个`, en: `at most ${MAX_FEATURES} grids an import, the file has ${features.length}` }] }
  }
  const grids: ImportedGrid[] = []
  const errors: LineError[] = []
  const codes = new Map<string, number>()
  features.forEach((f: { geometry?: { type?: string; coordinates?: unknown } | null; properties?: Record<string, unknown> | null }, i) => {
    const row = i + 1
    const props = f?.properties ?? {}
    const [code, name, village] = [prop(props, 'code', mapping), prop(props, 'name', mapping), prop(props, 'village', mapping)]
    const g = f?.geometry
    if (g?.type !== 'Polygon' && g?.type !== 'MultiPolygon') {
      errors.push(rowError(row, `不是面（${g?.type ?? '无几何'}），网格须为 Polygon 或 MultiPolygon`, `not a polygon (${g?.type ?? 'no geometry'}); a grid is a Polygon or MultiPolygon`))
      return
    }
    if (notLonLatInChina(g.coordinates)) {
      errors.push(rowError(row, '坐标不是中国范围内的经纬度（是否为投影坐标，或经纬度填反？请导出为 WGS84/CGCS2000 经纬度）',
        'coordinates are not longitude/latitude in China (projected, or swapped? export as WGS84/CGCS2000 lon/lat)'))
      return
    }
    const shape = areal.safeParse({ type: g.type, coordinates: g.coordinates })
    if (!shape.success) {
      const why = shape.error.issues[0]
      errors.push(rowError(row, `几何格式错误（${why.path.join('.')}: ${why.message}）`, `malformed geometry (${why.path.join('.')}: ${why.message})`))
      return
    }
    if (code !== null) {
      if (!/^[0-9]{15}$/.test(code)) {
        errors.push(rowError(row, `网格编码“${code}”须为 15 位数字（可留空，保存时编号）`, `grid code "${code}" must be 15 digits (or left empty to be numbered on save)`))
        return
      }
      if (codes.has(code)) {
        errors.push(rowError(row, `网格编码 ${code} 与第 ${codes.get(code)} 个要素重复`, `grid code ${code} repeats feature ${codes.get(code)}`))
        return
      }
      codes.set(code, row)
    }
    if (village !== null && !/^[0-9]{12}$/.test(village)) {
      errors.push(rowError(row, `行政村编码“${village}”须为 12 位数字`, `village code "${village}" must be 12 digits`))
      return
    }
    const geom = crs === 'gcj02' ? (gcoord.transform(shape.data as never, gcoord.GCJ02, gcoord.WGS84) as unknown as Areal) : shape.data
    grids.push({ row, code, name: name?.slice(0, 60) ?? null, village: village ?? code?.slice(0, 12) ?? null, geom })
  })
  return { grids, errors }
}

/**
 * Which village each grid is for: the one its properties name (village code,
 * or the first 12 digits of its grid code), else the village of the unit
 * holding a point inside it. A village outside the unit is an error.
 */
async function villagesOf(q: Q, unit: string, grids: ImportedGrid[], errors: LineError[]): Promise<Map<string, ImportedGrid[]>> {
  const prefix = unit.slice(0, 9)
  const found = await q`
    SELECT (x ->> 'row')::int AS row, coalesce(named.code, placed.code) AS village, named.code IS NOT NULL OR x ->> 'village' IS NULL AS known
    FROM jsonb_array_elements(${q.json(grids.map((g) => ({ row: g.row, village: g.village, geom: g.geom })) as never)}::jsonb) x
    LEFT JOIN admin_units named ON named.level = 'village' AND named.code = x ->> 'village'
    LEFT JOIN LATERAL (
      SELECT v.code FROM admin_units v
      WHERE x ->> 'village' IS NULL AND v.level = 'village' AND v.code LIKE ${prefix + '%'}
        -- MakeValid: an invalid polygon is reported by checkFeatures, not a GEOS error here.
        AND ST_Intersects(v.geom, ST_PointOnSurface(ST_MakeValid(ST_SetSRID(ST_GeomFromGeoJSON(x ->> 'geom'), 4326))))
      ORDER BY v.code LIMIT 1) placed ON true`
  const byRow = new Map(grids.map((g) => [g.row, g]))
  const out = new Map<string, ImportedGrid[]>()
  for (const f of found) {
    const g = byRow.get(f.row as number)!
    const v = f.village as string | null
    if (!f.known) errors.push(rowError(g.row, `没有行政村 ${g.village}`, `there is no village ${g.village}`))
    else if (!v) errors.push(rowError(g.row, `不在 ${unit} 的任何行政村内（坐标系选对了吗？）`, `lies in no village of ${unit} (is the coordinate system right?)`))
    else if (!inScope(unit, v) || (!unit.endsWith('000') && v !== unit)) {
      errors.push(rowError(g.row, `属于行政村 ${v}，不在导入范围 ${unit} 内`, `belongs to village ${v}, outside the import's unit ${unit}`))
    } else {
      if (g.code && !g.code.startsWith(v)) {
        errors.push(rowError(g.row, `网格编码 ${g.code} 不属于行政村 ${v}（网格编码以村编码开头）`, `grid code ${g.code} is not of village ${v} (a grid code starts with its village's)`))
        continue
      }
      out.set(v, [...(out.get(v) ?? []), g])
    }
  }
  return out
}

/**
 * Problems of the file's grids for one village, by feature: invalid or
 * empty geometry, outside the village beyond the tolerance, overlaps and gaps
 * wider than the tolerance (thinner ones are rounding between two GIS
 * programs, settled on save).
 */
async function checkFeatures(q: Q, outline: Geo, grids: ImportedGrid[]): Promise<LineError[]> {
  const half = INSIDE_TOLERANCE / 2
  const rows = await q`
    WITH f AS MATERIALIZED (
      SELECT (x ->> 'row')::int AS row, ST_SetSRID(ST_GeomFromGeoJSON(x ->> 'geom'), 4326) AS geom
      FROM jsonb_array_elements(${q.json(grids.map((g) => ({ row: g.row, geom: g.geom })) as never)}::jsonb) x),
    v AS (SELECT ST_SetSRID(ST_GeomFromGeoJSON(${JSON.stringify(outline)}), 4326) AS geom),
    ok AS (SELECT * FROM f WHERE ST_IsValid(geom) AND ST_Area(geom) > 0),
    pairs AS (
      SELECT a.row AS a, b.row AS b, ST_Intersection(a.geom, b.geom, ${GRID_SIZE}::float8) AS i
      FROM ok a JOIN ok b ON a.row < b.row AND a.geom && b.geom AND ST_Relate(a.geom, b.geom, '2********')),
    gaps AS (
      SELECT d.geom FROM v, ST_Dump(ST_CollectionExtract(ST_Difference(v.geom, (SELECT ST_Union(geom, ${GRID_SIZE}::float8) FROM ok), ${GRID_SIZE}::float8), 3)) d)
    SELECT 'invalid' AS code, ARRAY[row] AS rows, ST_IsValidReason(geom) AS reason, NULL::float8 AS area FROM f WHERE NOT ST_IsValid(geom)
    UNION ALL
    SELECT 'empty', ARRAY[row], NULL, NULL FROM f WHERE ST_IsValid(geom) AND ST_Area(geom) = 0
    UNION ALL
    SELECT 'outside', ARRAY[ok.row], NULL, ST_Area(ST_Difference(ok.geom, v.geom, ${GRID_SIZE}::float8))
    FROM ok, v WHERE NOT ST_CoveredBy(ok.geom, ST_Buffer(v.geom, ${INSIDE_TOLERANCE}))
    UNION ALL
    SELECT 'overlap', ARRAY[a, b], NULL, ST_Area(i) FROM pairs WHERE NOT ST_IsEmpty(ST_Buffer(i, ${-half}))
    UNION ALL
    SELECT 'gap', (SELECT array_agg(ok.row ORDER BY ok.row) FROM ok WHERE ST_DWithin(ok.geom, gaps.geom, ${INSIDE_TOLERANCE})), NULL, ST_Area(gaps.geom)
    FROM gaps WHERE ST_Area(gaps.geom) > ${AREA_TOLERANCE} AND NOT ST_IsEmpty(ST_Buffer(gaps.geom, ${-half}))`
  const m2 = (a: number) => Math.round(a * 1.1e10)
  return rows.map((r) => {
    const rs = (r.rows as number[] | null) ?? []
    const row = rs[rs.length - 1] ?? 1
    switch (r.code) {
      case 'invalid': return rowError(row, `几何无效（自相交等）：${r.reason}`, `invalid geometry (self-intersection or similar): ${r.reason}`)
      case 'empty': return rowError(row, '面积为零', 'has no area')
      case 'outside': return rowError(row, `超出行政村边界（约 ${m2(r.area)} 平方米，容差约 1 米）`, `lies outside its village (about ${m2(r.area)} m², tolerance about 1 m)`)
      case 'overlap': return rowError(row, `与第 ${rs[0]} 个要素重叠（约 ${m2(r.area)} 平方米）`, `overlaps feature ${rs[0]} (about ${m2(r.area)} m²)`)
      default: return rs.length
        ? rowError(row, `与第 ${rs.join('、')} 个要素之间有未覆盖的空隙（约 ${m2(r.area)} 平方米）`, `a gap no grid covers next to features ${rs.join(', ')} (about ${m2(r.area)} m²)`)
        : { row: 1, zh: `行政村内有文件未覆盖的区域（约 ${m2(r.area)} 平方米）`, en: `part of the village no feature covers (about ${m2(r.area)} m²)` }
    }
  })
}

/**
 * The file's grids as the village's exact cover: overlaps thinner than the
 * tolerance go to the earlier feature, then gw_settle_cover clips to the
 * village and gives the thin gaps to their neighbours. Keys: an existing
 * grid's code keeps that grid (its households, workers, micro-grids);
 * anything else is a new grid.
 */
async function settleFeatures(q: Q, outline: Geo, keyed: { key: string; geom: Geo }[]): Promise<Map<string, Geo>> {
  const rows = await q`
    WITH f AS (
      SELECT x ->> 'key' AS key, i, ST_SetSRID(ST_GeomFromGeoJSON(x ->> 'geom'), 4326) AS geom
      FROM jsonb_array_elements(${q.json(keyed as never)}::jsonb) WITH ORDINALITY AS e(x, i))
    SELECT a.key, ST_AsGeoJSON(coalesce(ST_CollectionExtract(ST_Difference(a.geom, (
             SELECT ST_Union(b.geom, ${GRID_SIZE}::float8) FROM f b WHERE b.i < a.i AND b.geom && a.geom AND ST_Relate(a.geom, b.geom, '2********')),
             ${GRID_SIZE}::float8), 3), a.geom), ${DIGITS})::json AS geom
    FROM f a ORDER BY a.i`
  return settle(q, outline, rows.map((r) => ({ key: r.key as string, geom: r.geom as Geo })))
}

export interface VillageImport {
  code: string
  name: string
  version: number
  unchanged: boolean
  preview: Preview
}

/** One village's new cover from the file, previewed (nothing written); null when the file has errors for it. */
async function previewVillage(tx: Tx, code: string, grids: ImportedGrid[], errors: LineError[], lock: boolean): Promise<VillageImport | null> {
  const village = await findVillage(tx, code, lock)
  const problems = await checkFeatures(tx, village.geom, grids)
  if (problems.length) {
    errors.push(...problems)
    return null
  }
  const cover = await loadCover(tx, village)
  const existing = new Set(cover.grids.filter((g) => g.kind === 'basic').map((g) => g.key))
  const nextName = newGridNamer(cover)
  let n = 0
  const keyed = grids.map((g) => ({ g, key: g.code && existing.has(g.code) ? g.code : g.code ?? `new-${++n}` }))
  const basic = await settleFeatures(tx, village.geom, keyed.map(({ g, key }) => ({ key, geom: g.geom })))
  for (const { g, key } of keyed) {
    if (!basic.has(key)) errors.push(rowError(g.row, '与其他要素重叠后没有剩余面积', 'has no area left once its overlaps with other features are removed'))
  }
  if (keyed.some(({ key }) => !basic.has(key))) return null
  const before = new Map(cover.grids.filter((g) => g.kind === 'basic').map((g) => [g.key, g.geom]))
  const changed = await changedKeys(tx, before, basic)
  const micro = await recutMicro(tx, cover, basic, changed)
  const names = new Map(keyed.map(({ g, key }) => [key, g.name]))
  const basicGrids: CoverGrid[] = [...basic].map(([key, geom]) => {
    const old = cover.grids.find((x) => x.key === key)
    return old ? { ...old, geom } : { key, code: null, name: names.get(key) ?? nextName(), kind: 'basic', parent: null, geom }
  })
  const preview = await describe(tx, cover, [...basicGrids, ...micro], changed)
  if (!preview.valid) {
    for (const p of preview.problems) errors.push({ row: 1, zh: `行政村 ${code}：${p.zh}`, en: `village ${code}: ${p.en}` })
    return null
  }
  const unchanged = !preview.changed.length && !preview.added.length && !preview.removed.length
  return { code, name: village.name, version: cover.version, unchanged, preview }
}

export class ImportInvalid extends HttpError {
  constructor(public errors: LineError[]) {
    const n = errors.length
    super(400, 'import_invalid', `文件有 ${n} 处错误，未写入任何数据：${errors.slice(0, 3).map((e) => e.zh).join('；')}`,
      `the file has ${n} error(s); nothing was written: ${errors.slice(0, 3).map((e) => e.en).join('; ')}`)
  }
}

/**
 * The whole import in the caller's transaction: read, place, check and
 * preview every village; a dry run stops there, a save writes one version
 * per changed village (each at the version the dry run reported, else 409)
 * and one audit row for the file.
 */
export async function importGrids(tx: Tx, user: SessionUser, req: GridImportRequest) {
  const [unit] = await tx`SELECT code, name, level FROM admin_units WHERE code = ${req.unit}`
  if (!unit || (unit.level !== 'village' && unit.level !== 'township')) {
    throw new HttpError(400, 'bad_unit', `导入范围须为行政村或乡镇，${req.unit} 不是`, `an import is for a village or a township; ${req.unit} is neither`)
  }
  const read = await readFeatures(Buffer.from(req.file, 'base64'), req.format)
  const { grids, errors } = read.errors.length ? { grids: [], errors: read.errors } : readGrids(read.features, req.crs, req.mapping)
  const villages = grids.length ? await villagesOf(tx, req.unit, grids, errors) : new Map<string, ImportedGrid[]>()
  if (errors.length) throw new ImportInvalid(errors.sort((a, b) => a.row - b.row))

  const results: VillageImport[] = []
  for (const [code, gs] of [...villages].sort(([a], [b]) => a.localeCompare(b))) {
    const r = await previewVillage(tx, code, gs, errors, !req.dryRun)
    if (r) results.push(r)
  }
  if (errors.length) throw new ImportInvalid(errors.sort((a, b) => a.row - b.row))

  const saved: Record<string, number> = {}
  if (!req.dryRun) {
    const missing = results.filter((r) => req.versions?.[r.code] === undefined).map((r) => r.code)
    if (missing.length) {
      throw new HttpError(400, 'versions_needed', `保存导入须附上各行政村的当前版本（试导入的结果）：缺 ${missing.join('、')}`,
        `saving an import needs each village's version (as the dry run answered): missing ${missing.join(', ')}`)
    }
    for (const r of results) {
      const village = await findVillage(tx, r.code)
      await expectVersion(tx, village, req.versions![r.code])
      if (r.unchanged) continue
      const cover = await loadCover(tx, village)
      saved[r.code] = (await writeCover(tx, cover, r.preview, { op: 'import', file: req.filename, crs: req.crs, unit: req.unit })).version
    }
    await auditEvent(tx, { action: 'import', table: 'grids', after: { file: req.filename, crs: req.crs, unit: req.unit, versions: saved } })
  }
  return {
    ok: true as const,
    dryRun: req.dryRun,
    unit: { code: unit.code as string, name: unit.name as string },
    villages: results.map((r) => {
      const { assignments, moves, grids, ...rest } = r.preview
      return {
        code: r.code, name: r.name, version: r.version, unchanged: r.unchanged, saved: saved[r.code] ?? null,
        grids: grids.filter((g) => g.kind === 'basic').length, households: assignments.length,
        households_moved: moves.filter((m) => m.grid !== m.newGrid).length, ...rest,
      }
    }),
  }
}
