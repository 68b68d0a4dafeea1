/**
 * Runs an analysis for one admin unit: the rows (worst first, cut for the
 * browser), the totals over every row, the totals per child unit (the level
 * below: county → townships → villages → grids), and a GeoJSON layer.
 */
import { z } from 'zod'
import { authorizeUser, type SessionUser } from '../auth/guard.ts'
import { scopePrefix } from '../../core/units.ts'
import type { Sql } from '../../db/connect.ts'
import { transaction } from '../../db/transaction.ts'
import { HttpError } from '../../core/errors.ts'
import { featureText, layerQuery, maskRow, type Layer, type Row } from '../datasets.ts'
import { analysisLayerOn, type Analysis } from './catalog.ts'
import { requireUnit } from '../units/known.ts'

/** Rows sent to the browser at most; totals and exports cover all of them. */
export const ROW_CUT = 5000

const unitSchema = z.string().regex(/^[0-9]{12}$/, 'a 12-digit admin code (city, county, township or village)').optional()

function badInput(error: z.ZodError): HttpError {
  const where = error.issues.map((i) => `${i.path.join('.') || '(query)'}: ${i.message}`).join('; ')
  return new HttpError(400, 'bad_input', `参数有误：${where}`, `invalid parameters: ${where}`)
}

/**
 * The analysis's parameters and area from the query (`unit` plus the analysis's own), checked: the
 * role first (data.export), then the parameters (400), then the area (403 outside scope, 404 unknown).
 */
export async function analysisRequest(sql: Sql, user: SessionUser, input: { analysis: Analysis; query: Record<string, string | string[]> }) {
  const a = input.analysis
  authorizeUser(user, 'data.export')
  const { unit: rawUnit, ...rest } = input.query
  const u = unitSchema.safeParse(rawUnit)
  if (!u.success) throw badInput(new z.ZodError(u.error.issues.map((i) => ({ ...i, path: ['unit'] }))))
  const p = a.params.safeParse(rest)
  if (!p.success) throw badInput(p.error)
  const unit = u.data ?? user.unitCode.slice(0, 12)
  authorizeUser(user, 'data.export', unit)
  const row = await requireUnit(sql, unit)
  const prefix = scopePrefix(unit)
  // The layer is made on the pool that reads it (a hexagon analysis reads its households first), and only when wanted.
  return { user, unit: row, params: p.data as Record<string, unknown>, layerOn: (on: Sql) => analysisLayerOn(on, a, p.data, prefix) }
}

const childLength = { city: 6, county: 9, township: 12, village: 15 } as const

/**
 * One pass over the analysis: its rows are computed once (a materialised CTE) and the totals, the
 * totals per child unit and the first rows are read from them in the same statement. Three separate
 * statements computed the whole analysis three times (shelter_distance city-wide: ~55 s). JIT is off
 * for it: on these plans compiling took seconds and saved none.
 */
export async function runAnalysis(sql: Sql, user: SessionUser, a: Analysis, layer: Layer, unit: { code: string; level: string }) {
  const totalsSql = Object.entries(a.totals).map(([k, e]) => `${e} AS ${k}`).join(', ')
  // Per child unit: the rows' place codes cut to the next level's length, named from admin units (or grids under a village).
  const len = childLength[unit.level as keyof typeof childLength] ?? 15
  const names = len === 15 ? 'SELECT code, name FROM grids' : 'SELECT code, name FROM admin_units'
  const [answer] = await transaction(sql, async (tx) => {
    await tx`SET LOCAL jit = off`
    return tx`
      WITH a AS MATERIALIZED (SELECT * FROM ${tx.unsafe(layer.from)})
      SELECT (SELECT row_to_json(t) FROM (SELECT ${tx.unsafe(totalsSql)} FROM a) t) AS totals,
             (SELECT coalesce(json_agg(k ORDER BY k.code), '[]') FROM (
                SELECT n.name, k.* FROM (SELECT substr(a._place, 1, ${tx.unsafe(String(len))}) AS code, ${tx.unsafe(totalsSql)} FROM a GROUP BY 1) k
                LEFT JOIN (${tx.unsafe(names)}) n ON n.code = rpad(k.code, ${tx.unsafe(String(len === 15 ? 15 : 12))}, '0')) k) AS by_unit,
             (SELECT coalesce(json_agg(a ORDER BY ${tx.unsafe(a.order)}), '[]') FROM (
                ${layerQuery(tx as unknown as Sql, { ...layer, from: 'a' }, null, tx`ORDER BY ${tx.unsafe(a.order)} LIMIT ${ROW_CUT + 1}`)}) a) AS rows`
  })
  const totals = answer.totals as Record<string, unknown>
  const byUnit = answer.by_unit as Record<string, unknown>[]
  const rows = answer.rows as Row[]
  const truncated = rows.length > ROW_CUT
  if (truncated) rows.length = ROW_CUT
  for (const r of rows) maskRow(layer, user, r)
  const features = rows.map((r) => JSON.parse(featureText(layer, r)) as { properties: Record<string, unknown> })
  // The flag the map colours by (over limit, short of capacity…), on every feature whatever its name in the table.
  for (const [i, ft] of features.entries()) ft.properties._flag = Boolean((rows[i] as Record<string, unknown>)[a.flag] ?? true)
  return {
    columns: layer.fields,
    rows: rows.map((r) => Object.fromEntries(layer.fields.map((fl) => [fl.name, r[fl.name] ?? null]))),
    truncated,
    totals: Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, Number(v)])),
    totalsZh: a.totalsZh,
    byUnit: byUnit.map((r) => ({ ...Object.fromEntries(Object.keys(a.totals).map((k) => [k, Number(r[k])])), code: r.code as string, name: (r.name as string | null) ?? null })),
    geojson: { type: 'FeatureCollection' as const, features },
  }
}
