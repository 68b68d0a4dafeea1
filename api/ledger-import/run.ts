/**
 * An import after its rows are read: each point placed in a basic grid (and
 * micro-grid) by PostGIS, which must lie in the importer's scope; codes that
 * exist update that record (it must be in scope too), new ones insert. All
 * rows are checked before anything is written; the write is one transaction
 * with an audit row for the import (the row triggers audit each change).
 */
import type { SessionUser } from '../auth/guard.ts'
import { inScope } from '../../core/units.ts'
import type { Sql } from '../../db/connect.ts'
import { auditEvent, writeTx, type Tx } from '../../db/write.ts'
import type { Parsed } from './columns.ts'
import type { LineError } from './decode.ts'

export type Target = 'households' | 'hazard_sites'

/** A row of the dry-run report; an update names the fields it would change (none: the file says what is stored). */
export interface ReportRow { row: number; action: 'insert' | 'update'; code: string; grid: string; changed?: string[] }

interface Placed { p: Parsed; grid_id: number; grid_code: string; micro_id: number | null; village_code: string }

async function place(sql: Sql, rows: Parsed[], user: SessionUser, errors: LineError[]): Promise<Placed[]> {
  if (!rows.length) return []
  const found = await sql`
    SELECT p.i::int AS i, g.id, g.code, m.id AS micro, v.code AS village
    FROM unnest(${rows.map((r) => r.values.lon as number)}::float8[], ${rows.map((r) => r.values.lat as number)}::float8[]) WITH ORDINALITY AS p(lon, lat, i)
    LEFT JOIN LATERAL (SELECT id, code, village_id FROM grids WHERE kind = 'basic'
                       AND ST_Intersects(geom, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326)) ORDER BY id LIMIT 1) g ON true
    LEFT JOIN LATERAL (SELECT id FROM grids WHERE parent_id = g.id
                       AND ST_Intersects(geom, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326)) ORDER BY id LIMIT 1) m ON true
    LEFT JOIN admin_units v ON v.id = g.village_id ORDER BY p.i`
  const out: Placed[] = []
  for (const f of found) {
    const p = rows[(f.i as number) - 1]
    const at = `(${(p.values.lon as number).toFixed(6)}, ${(p.values.lat as number).toFixed(6)})`
    if (!f.id) errors.push({ row: p.row, zh: `第 ${p.row} 行 坐标 ${at} 不在任何网格内（坐标系选对了吗？）`, en: `row ${p.row}: point ${at} is in no grid (is the coordinate system right?)` })
    else if (!inScope(user.unitCode, f.code as string)) errors.push({ row: p.row, zh: `第 ${p.row} 行 坐标 ${at} 落在网格 ${f.code}，超出您的管辖范围（${user.unitCode}）`, en: `row ${p.row}: point ${at} lies in grid ${f.code}, outside your area (${user.unitCode})` })
    else out.push({ p, grid_id: f.id as number, grid_code: f.code as string, micro_id: (f.micro as number | null) ?? null, village_code: f.village as string })
  }
  return out
}

/** Existing records by code, with where they are now (an update must be in scope where it is as well as where it goes). */
async function existing(sql: Sql, target: Target, codes: string[]) {
  if (!codes.length) return new Map<string, { id: number; place: string }>()
  const rows = target === 'households'
    ? await sql`SELECT h.code, h.id, g.code AS place FROM households h JOIN grids g ON g.id = h.grid_id WHERE h.code = ANY(${codes})`
    : await sql`SELECT code, id, admin_code AS place FROM hazard_sites WHERE code = ANY(${codes})`
  return new Map(rows.map((r) => [r.code as string, { id: r.id as number, place: r.place as string }]))
}

/** The stored values of the records with these codes, by code, under the file's field names (and their grid). */
async function stored(sql: Sql, target: Target, fields: string[], codes: string[]) {
  if (!codes.length) return new Map<string, Record<string, unknown>>()
  // Field names come from our column specs (api/ledger-import/columns.ts), never from the file.
  const cols = fields.filter((f) => f !== 'lon' && f !== 'lat').map((f) => `t.${f}`).join(', ')
  const rows = target === 'households'
    ? await sql.unsafe(`SELECT ${cols}, ST_X(t.geom) AS lon, ST_Y(t.geom) AS lat, t.grid_id AS _grid FROM households t WHERE t.code = ANY($1)`, [codes])
    : await sql.unsafe(`SELECT ${cols}, ST_X(t.geom) AS lon, ST_Y(t.geom) AS lat, t.admin_code AS _grid FROM hazard_sites t WHERE t.code = ANY($1)`, [codes])
  return new Map(rows.map((r) => [r.code as string, r as Record<string, unknown>]))
}

/** Fields whose value in the file differs from the stored one; a blank cell keeps the stored value, so it changes nothing. */
function changedFields(values: Parsed['values'], old: Record<string, unknown>, place: number | string): string[] {
  const out: string[] = []
  for (const [k, v] of Object.entries(values)) {
    if (v === null || k === 'code' || k === 'lon' || k === 'lat') continue
    const was = old[k]
    const same = typeof v === 'number' ? was !== null && Number(was) === v : v === was
    if (!same) out.push(k)
  }
  // Coordinates to 5 cm (our exports write 7 decimals); a point that moves grid says so too.
  if (Math.abs(Number(values.lon) - Number(old.lon)) > 5e-7 || Math.abs(Number(values.lat) - Number(old.lat)) > 5e-7) out.push('location')
  if (place !== old._grid) out.push('grid')
  return out
}

export async function runImport(sql: Sql, user: SessionUser, target: Target, rows: Parsed[], errors: LineError[], opts: { dryRun: boolean; file: string; crs: string }) {
  const placed = await place(sql, rows, user, errors)
  const codes = placed.map((x) => x.p.values.code).filter((c): c is string => typeof c === 'string')
  const seen = new Map<string, number>()
  for (const x of placed) {
    const c = x.p.values.code as string | null
    if (!c) continue
    if (seen.has(c)) errors.push({ row: x.p.row, zh: `第 ${x.p.row} 行 编号 ${c} 与第 ${seen.get(c)} 行重复`, en: `row ${x.p.row}: code ${c} repeats row ${seen.get(c)}` })
    else seen.set(c, x.p.row)
  }
  const have = await existing(sql, target, codes)
  for (const x of placed) {
    const e = have.get(x.p.values.code as string)
    if (e && !inScope(user.unitCode, e.place)) errors.push({ row: x.p.row, zh: `第 ${x.p.row} 行 编号 ${x.p.values.code} 的记录在您的管辖范围之外`, en: `row ${x.p.row}: the record ${x.p.values.code} is outside your area` })
  }
  if (errors.length) return { ok: false as const, errors: errors.sort((a, b) => a.row - b.row) }

  // New household codes follow the seed's: the grid code and a 4-digit number after the grid's highest.
  const next = new Map<string, number>()
  if (target === 'households') {
    const grids = [...new Set(placed.filter((x) => !x.p.values.code).map((x) => x.grid_code))]
    if (grids.length) {
      for (const r of await sql`SELECT g.code, coalesce(max(substr(h.code, 16)::int) FILTER (WHERE h.code ~ ('^' || g.code || '[0-9]{4}$')), 0)::int AS n
                                 FROM grids g LEFT JOIN households h ON h.grid_id = g.id WHERE g.code = ANY(${grids}) GROUP BY g.code`) next.set(r.code as string, r.n as number)
    }
  }
  const before = await stored(sql, target, Object.keys(placed[0]?.p.values ?? {}), [...have.keys()])
  const report: ReportRow[] = placed.map((x) => {
    let code = x.p.values.code as string | null
    if (!code) {
      const n = (next.get(x.grid_code) ?? 0) + 1
      next.set(x.grid_code, n)
      code = x.grid_code + String(n).padStart(4, '0')
      x.p.values.code = code
    }
    const old = before.get(code)
    if (!old) return { row: x.p.row, action: 'insert', code, grid: x.grid_code }
    return { row: x.p.row, action: 'update', code, grid: x.grid_code, changed: changedFields(x.p.values, old, target === 'households' ? x.grid_id : x.village_code) }
  })
  const summary = { rows: report.length, inserted: report.filter((r) => r.action === 'insert').length, updated: report.filter((r) => r.action === 'update').length }
  if (opts.dryRun) return { ok: true as const, dryRun: true, ...summary, report }

  await writeTx(sql, user, async (tx) => {
    const recs = placed.map((x) => ({ ...x.p.values, grid_id: x.grid_id, micro_grid_id: x.micro_id, admin_code: x.village_code }))
    if (target === 'households') await writeHouseholds(tx, recs)
    else await writeHazards(tx, recs)
    await auditEvent(tx, { action: 'import', table: target, after: { file: opts.file, crs: opts.crs, ...summary } })
  })
  return { ok: true as const, dryRun: false, ...summary, report }
}



/**
 * One statement each way, from a JSON array (jsonb_to_recordset): the same on PostGIS and PGlite.
 * A field left out of the file (null) keeps the stored value on update and takes the default on insert.
 */
async function writeHouseholds(tx: Tx, recs: Record<string, unknown>[]) {
  const cols = `code text, householder text, phone text, members int, elderly_alone int, left_behind_children int, disabled int,
                risk_level text, flood_exposed boolean, measures text, lon float8, lat float8, grid_id int, micro_grid_id int`
  await tx.unsafe(`
    UPDATE households h SET householder = r.householder, phone = coalesce(r.phone, h.phone), members = r.members,
           elderly_alone = coalesce(r.elderly_alone, h.elderly_alone), left_behind_children = coalesce(r.left_behind_children, h.left_behind_children),
           disabled = coalesce(r.disabled, h.disabled), risk_level = r.risk_level, flood_exposed = coalesce(r.flood_exposed, h.flood_exposed),
           measures = coalesce(r.measures, h.measures), grid_id = r.grid_id, micro_grid_id = r.micro_grid_id,
           geom = ST_SetSRID(ST_MakePoint(r.lon, r.lat), 4326), version = h.version + 1
    FROM jsonb_to_recordset($1::jsonb) AS r(${cols})
    WHERE h.code = r.code AND (h.householder, h.phone, h.members, h.elderly_alone, h.left_behind_children, h.disabled, h.risk_level,
          h.flood_exposed, h.measures, h.grid_id, h.micro_grid_id, ST_AsText(h.geom))
      IS DISTINCT FROM (r.householder, coalesce(r.phone, h.phone), r.members::smallint, coalesce(r.elderly_alone, h.elderly_alone)::smallint,
          coalesce(r.left_behind_children, h.left_behind_children)::smallint, coalesce(r.disabled, h.disabled)::smallint, r.risk_level,
          coalesce(r.flood_exposed, h.flood_exposed), coalesce(r.measures, h.measures), r.grid_id, r.micro_grid_id,
          ST_AsText(ST_SetSRID(ST_MakePoint(r.lon, r.lat), 4326)))`, [recs as never])
  // A new household gets its grid's answerable cadre (包保责任人), as the seed gives one.
  await tx.unsafe(`
    INSERT INTO households (code, householder, phone, members, elderly_alone, left_behind_children, disabled, risk_level, flood_exposed,
                            measures, cadre_id, grid_id, micro_grid_id, geom)
    SELECT r.code, r.householder, r.phone, r.members, coalesce(r.elderly_alone, 0), coalesce(r.left_behind_children, 0), coalesce(r.disabled, 0),
           r.risk_level, coalesce(r.flood_exposed, false), r.measures,
           (SELECT w.id FROM grid_workers w WHERE w.grid_id = r.grid_id AND w.role = '包保责任人' ORDER BY w.id LIMIT 1),
           r.grid_id, r.micro_grid_id, ST_SetSRID(ST_MakePoint(r.lon, r.lat), 4326)
    FROM jsonb_to_recordset($1::jsonb) AS r(${cols})
    WHERE NOT EXISTS (SELECT 1 FROM households h WHERE h.code = r.code)`, [recs as never])
}

async function writeHazards(tx: Tx, recs: Record<string, unknown>[]) {
  const cols = `code text, name text, type text, scale text, threat_object text, threatened_households int, threatened_people int,
                threatened_property numeric, countermeasure text, monitoring_method text, warning_signal text, trigger_factor text,
                critical_rain_1h numeric, critical_rain_24h numeric, status text, lon float8, lat float8, admin_code text`
  const keep = (c: string) => `${c} = coalesce(r.${c}, s.${c})`
  await tx.unsafe(`
    UPDATE hazard_sites s SET name = r.name, type = r.type, scale = r.scale, admin_code = r.admin_code,
           ${['threat_object', 'threatened_households', 'threatened_people', 'threatened_property', 'countermeasure', 'monitoring_method',
    'warning_signal', 'trigger_factor', 'critical_rain_1h', 'critical_rain_24h', 'status'].map(keep).join(', ')},
           geom = ST_SetSRID(ST_MakePoint(r.lon, r.lat), 4326), version = s.version + 1
    FROM jsonb_to_recordset($1::jsonb) AS r(${cols}) WHERE s.code = r.code`, [recs as never])
  await tx.unsafe(`
    INSERT INTO hazard_sites (code, name, admin_code, type, scale, threat_object, threatened_households, threatened_people, threatened_property,
                              countermeasure, monitoring_method, warning_signal, trigger_factor, critical_rain_1h, critical_rain_24h, status, geom)
    SELECT r.code, r.name, r.admin_code, r.type, r.scale, r.threat_object, coalesce(r.threatened_households, 0), coalesce(r.threatened_people, 0),
           r.threatened_property, r.countermeasure, r.monitoring_method, r.warning_signal, r.trigger_factor, r.critical_rain_1h, r.critical_rain_24h,
           coalesce(r.status, 'active'), ST_SetSRID(ST_MakePoint(r.lon, r.lat), 4326)
    FROM jsonb_to_recordset($1::jsonb) AS r(${cols})
    WHERE NOT EXISTS (SELECT 1 FROM hazard_sites s WHERE s.code = r.code)`, [recs as never])
}
