import { CITY_CODE } from '../../core/units.ts'
import type { Sql } from '../../db/connect.ts'
import { auditEvent, writeTx, type Actor, type Tx } from '../../db/write.ts'
import { HttpError } from '../../core/errors.ts'
import { publish } from '../events/publish.ts'
import { loadConfig, type RainConfig } from './config.ts'
import { colours } from '../../core/rules/rain-signal.ts'
import { ensureWeights, evaluate, openBeforeRain, type EvaluationResult } from './engine.ts'
import { codesOutside, polygonsOutside, stationChangesOutside, stationsAreTheCitys, stationsOutside } from './area.ts'
import { RowErrors, isError, parseMm, parseTime } from './validate.ts'

/**
 * Tells listeners (every API process, via LISTEN gridwatch_rain) that rain
 * changed; sent on commit, so nobody hears of a change that rolled back.
 */
async function notifyRain(tx: Tx, what: Record<string, unknown>) {
  await tx`SELECT pg_notify('gridwatch_rain', ${JSON.stringify(what)})`
  // And on the live feed every screen follows: rain concerns the whole city.
  const [city] = await tx<{ code: string }[]>`SELECT code FROM admin_units WHERE level = 'city' ORDER BY code LIMIT 1`
  if (city) await publish(tx, 'rain.update', city.code, what)
}

/**
 * Who an ingest is recorded as (a logged-in user, or a script), and where
 * they may write: `unitCode`, their area (api/rain/area.ts).
 */
export type RainActor = Actor & { unitCode: string }

/** A script or the seed writing rain: it holds the database itself, so it writes as the city. */
export const scriptActor = (username: string): RainActor => ({ id: null, username, role: 'admin', unitCode: CITY_CODE })

/** Most millimetres one gauge can plausibly catch in an hour (the world record is ~305). */
export const MAX_MM_PER_HOUR = 250
/** Most rows one request may carry. */
export const MAX_ROWS = 200_000
/** How many hours back a late or corrected reading re-evaluates (the longest sum). */
const REEVALUATE_HOURS = 24

export interface RawRow {
  /** 1-based row (JSON index + 1, or CSV line number). */
  row: number
  values: Record<string, unknown>
}

function checkSize(n: number) {
  if (n === 0) throw new HttpError(400, 'empty', '没有数据行', 'no rows')
  if (n > MAX_ROWS) throw new HttpError(413, 'too_many_rows', `一次最多 ${MAX_ROWS} 行，收到 ${n} 行`, `at most ${MAX_ROWS} rows per request, got ${n}`)
}

// ---------------------------------------------------------------- stations

export interface StationInput { code: string; name: string; lon: number; lat: number; elevation?: number | null }

export async function ingestStations(sql: Sql, actor: RainActor, rows: RawRow[]) {
  checkSize(rows.length)
  const errors = new RowErrors()
  const good: StationInput[] = []
  const seen = new Map<string, number>()
  for (const { row, values: v } of rows) {
    const code = typeof v.code === 'string' ? v.code.trim() : ''
    const name = typeof v.name === 'string' ? v.name.trim() : ''
    const lon = Number(v.lon), lat = Number(v.lat)
    const elevation = v.elevation == null || v.elevation === '' ? null : Number(v.elevation)
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(code)) errors.add(row, `站号须为 1–32 位字母数字，收到 "${String(v.code ?? '')}"`, `station code must be 1–32 letters/digits, got "${String(v.code ?? '')}"`)
    if (!name || name.length > 60) errors.add(row, '站名须为 1–60 个字', 'station name must be 1–60 characters')
    if (!Number.isFinite(lon) || !Number.isFinite(lat) || lon < 73 || lon > 136 || lat < 3 || lat > 54) {
      errors.add(row, `经纬度不在中国范围内：${String(v.lon)}, ${String(v.lat)}`, `longitude/latitude outside China: ${String(v.lon)}, ${String(v.lat)}`)
    }
    if (elevation !== null && (!Number.isFinite(elevation) || elevation < -200 || elevation > 9000)) errors.add(row, `海拔不合理：${String(v.elevation)}`, `implausible elevation: ${String(v.elevation)}`)
    if (seen.has(code)) errors.add(row, `站号 ${code} 与第 ${seen.get(code)} 行重复`, `station ${code} repeats row ${seen.get(code)}`)
    seen.set(code, row)
    good.push({ code, name, lon, lat, elevation })
  }
  errors.throwIfAny({ zh: '雨量站', en: 'stations' })
  return writeTx(sql, actor, async (tx) => {
    // The rows as stored: the scope check compares exactly what the upsert would write.
    const incoming = () => tx`
      SELECT x.code, x.name, x.elevation::numeric(6, 1) AS elevation, ST_SetSRID(ST_MakePoint(x.lon, x.lat), 4326) AS geom
      FROM jsonb_to_recordset(${tx.json(good as never)}) AS x(code text, name text, lon float8, lat float8, elevation numeric)`
    const outside = new RowErrors()
    await stationChangesOutside(tx, outside, actor.unitCode, incoming(), seen)
    outside.throwIfAny({ zh: '雨量站', en: 'stations' }, stationsAreTheCitys(actor.unitCode))
    const r = await tx<{ inserted: boolean }[]>`
      INSERT INTO rain_stations AS s (code, name, elevation_m, geom)
      SELECT x.code, x.name, x.elevation, x.geom FROM (${incoming()}) x
      ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, elevation_m = EXCLUDED.elevation_m, geom = EXCLUDED.geom, version = s.version + 1
      WHERE (s.name, s.elevation_m, s.geom) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.elevation_m, EXCLUDED.geom)
      RETURNING xmax = 0 AS inserted`
    // Weigh the new stations now rather than in the next rain update, which has a time budget.
    if (r.length) await ensureWeights(tx, await loadConfig(tx))
    return { received: rows.length, inserted: r.filter((x) => x.inserted).length, updated: r.filter((x) => !x.inserted).length }
  })
}

// ---------------------------------------------------------------- readings

export interface ReadingsResult {
  received: number
  inserted: number
  corrected: number
  unchanged: number
  evaluations: EvaluationResult[]
  tasks: { during: number; after: number }
}

/**
 * Hourly readings: checked row by row, then in one transaction upserted (the
 * same value again changes nothing, a different one is a correction), and
 * the rain re-evaluated from the earliest hour that changed up to the latest
 * one, so late and corrected readings count as if they had come in order.
 */
export async function ingestReadings(sql: Sql, actor: RainActor, rows: RawRow[]): Promise<ReadingsResult> {
  checkSize(rows.length)
  const errors = new RowErrors()
  const parsed: { row: number; station: string; hour: string; mm: number }[] = []
  const seen = new Map<string, { row: number; mm: number }>()
  for (const { row, values: v } of rows) {
    if (v.__columns !== undefined) errors.add(row, `列数不对（${String(v.__columns)} 列）`, `wrong number of columns (${String(v.__columns)})`)
    const station = typeof v.station === 'string' ? v.station.trim() : ''
    if (!station) errors.add(row, '缺少站号 station', 'station code missing')
    const hour = parseTime(v.hour, { onTheHour: true })
    if (isError(hour)) errors.add(row, hour.zh, hour.en)
    const mm = parseMm(v.mm, MAX_MM_PER_HOUR)
    if (isError(mm)) errors.add(row, mm.zh, mm.en)
    if (!station || isError(hour) || isError(mm)) continue
    const key = `${station}|${hour.getTime()}`
    const prev = seen.get(key)
    if (prev && prev.mm !== mm) {
      errors.add(row, `与第 ${prev.row} 行同站同小时但雨量不同（${prev.mm} / ${mm}）`, `same station and hour as row ${prev.row} with a different amount (${prev.mm} / ${mm})`)
    }
    seen.set(key, { row, mm })
    parsed.push({ row, station, hour: hour.toISOString(), mm })
  }
  // No throw yet: the stations are looked up first, so one answer names every bad row.

  return writeTx(sql, actor, async (tx) => {
    const codes = [...new Set(parsed.map((p) => p.station))]
    const known = new Map((await tx<{ id: number; code: string }[]>`SELECT id, code FROM rain_stations WHERE code = ANY(${codes}::text[])`).map((s) => [s.code, s.id]))
    for (const p of parsed) if (!known.has(p.station)) errors.add(p.row, `没有这个雨量站：${p.station}`, `unknown station: ${p.station}`)
    errors.throwIfAny({ zh: '雨量数据', en: 'readings' })
    // A county reports its own gauges: each station must stand inside the writer's area.
    const outside = new RowErrors()
    await stationsOutside(tx, outside, actor.unitCode, parsed)
    outside.throwIfAny({ zh: '雨量数据', en: 'readings' }, { scope: actor.unitCode })

    const rowsJson = parsed.map((p) => ({ s: known.get(p.station)!, h: p.hour, mm: p.mm }))
    const changed = await tx<{ hour: Date; inserted: boolean }[]>`
      INSERT INTO rain_readings AS r (station_id, hour, mm)
      SELECT DISTINCT x.s, x.h, x.mm FROM jsonb_to_recordset(${tx.json(rowsJson as never)}) AS x(s int, h timestamptz, mm numeric)
      ON CONFLICT (station_id, hour) DO UPDATE SET mm = EXCLUDED.mm, received_at = now()
      WHERE r.mm IS DISTINCT FROM EXCLUDED.mm
      RETURNING hour, xmax = 0 AS inserted`
    const inserted = changed.filter((c) => c.inserted).length
    const distinct = new Set(rowsJson.map((r) => `${r.s}|${r.h}`)).size
    const result: ReadingsResult = {
      received: rows.length, inserted, corrected: changed.length - inserted, unchanged: distinct - changed.length,
      evaluations: [], tasks: { during: 0, after: 0 },
    }
    if (changed.length > 0) {
      const cfg = await loadConfig(tx)
      const from = new Date(Math.min(...changed.map((c) => c.hour.getTime())))
      result.evaluations = await evaluateFrom(tx, cfg, from)
      for (const e of result.evaluations) {
        result.tasks.during += e.during
        result.tasks.after += e.after
      }
    }
    await auditEvent(tx, { action: 'rain_readings', table: 'rain_readings', after: { ...result, evaluations: result.evaluations.length } })
    if (changed.length) await notifyRain(tx, { kind: 'readings', asOf: result.evaluations.at(-1)?.asOf ?? null, tasks: result.tasks })
    return result
  })
}

/** Evaluates every hour with readings from `from` (at most a day's worth) and the latest hour, which also rewrites rain_state. */
export async function evaluateFrom(tx: Tx, cfg: RainConfig, from: Date | null): Promise<EvaluationResult[]> {
  const [{ latest }] = await tx<{ latest: Date | null }[]>`SELECT max(hour) AS latest FROM rain_readings`
  if (!latest) return []
  const start = from ?? latest
  const hours = (await tx<{ hour: Date }[]>`
    SELECT DISTINCT hour FROM rain_readings
    WHERE hour >= ${start} AND hour < least(${latest}::timestamptz, ${start}::timestamptz + ${REEVALUATE_HOURS} * interval '1 hour')
    ORDER BY hour`).map((h) => h.hour)
  const out: EvaluationResult[] = []
  for (const h of hours) out.push(await evaluate(tx, cfg, h.toISOString(), { writeState: false }))
  out.push(await evaluate(tx, cfg, latest.toISOString(), { writeState: true }))
  return out
}

// ---------------------------------------------------------------- forecasts

export async function ingestForecasts(sql: Sql, actor: RainActor, rows: RawRow[]) {
  checkSize(rows.length)
  const errors = new RowErrors()
  const parsed: { row: number; area: string; lead: number; start: string; end: string; mm: number; issued: string }[] = []
  for (const { row, values: v } of rows) {
    const area = typeof v.area === 'string' ? v.area.trim() : ''
    if (!/^[0-9]{12}([0-9]{3})?$/.test(area)) errors.add(row, `区域须为 12 位区划代码或 15 位网格代码，收到 "${String(v.area ?? '')}"`, `area must be a 12-digit admin code or a 15-digit grid code, got "${String(v.area ?? '')}"`)
    const lead = Number(v.leadHours)
    if (![2, 6, 12].includes(lead)) errors.add(row, `预见期须为 12、6 或 2 小时，收到 ${String(v.leadHours)}`, `leadHours must be 12, 6 or 2, got ${String(v.leadHours)}`)
    const start = parseTime(v.periodStart, { allowFuture: true })
    const end = parseTime(v.periodEnd, { allowFuture: true })
    const issued = parseTime(v.issuedAt)
    for (const [t, name] of [[start, 'periodStart'], [end, 'periodEnd'], [issued, 'issuedAt']] as const) if (isError(t)) errors.add(row, `${name}：${t.zh}`, `${name}: ${t.en}`)
    const mm = parseMm(v.mm, 1000)
    if (isError(mm)) errors.add(row, mm.zh, mm.en)
    if (isError(start) || isError(end) || isError(issued) || isError(mm) || !area || ![2, 6, 12].includes(lead)) continue
    if (end <= start) errors.add(row, '预报时段结束须晚于开始', 'periodEnd must be after periodStart')
    if (end.getTime() - start.getTime() > 72 * 3600_000) errors.add(row, '预报时段不能超过 72 小时', 'a forecast period is at most 72 hours')
    if (issued.getTime() > start.getTime() + 3600_000) errors.add(row, '发布时间晚于预报时段开始', 'issuedAt is after the period starts')
    if (!errors.has(row)) parsed.push({ row, area, lead, start: start.toISOString(), end: end.toISOString(), mm, issued: issued.toISOString() })
  }
  // Where first, before anything is looked up: a forecast for a place outside the writer's area is refused whole.
  const outside = new RowErrors()
  codesOutside(outside, actor.unitCode, parsed.map((p) => ({ row: p.row, codes: [p.area] })))
  outside.throwIfAny({ zh: '降雨预报', en: 'forecasts' }, { scope: actor.unitCode })
  // The areas of the good rows are looked up before the one throw, so one answer names every bad row.
  return writeTx(sql, actor, async (tx) => {
    await checkAreas(tx, errors, parsed.map((p) => ({ row: p.row, code: p.area })))
    errors.throwIfAny({ zh: '降雨预报', en: 'forecasts' })
    const changed = await tx<{ id: number }[]>`
      INSERT INTO rain_forecasts AS f (area_code, lead_hours, period_start, period_end, mm, issued_at)
      SELECT x.area, x.lead, x.start, x."end", x.mm, x.issued
      FROM jsonb_to_recordset(${tx.json(parsed as never)}) AS x(area text, lead int, start timestamptz, "end" timestamptz, mm numeric, issued timestamptz)
      ON CONFLICT (area_code, lead_hours, period_start, issued_at) DO UPDATE SET mm = EXCLUDED.mm, period_end = EXCLUDED.period_end, received_at = now()
      WHERE (f.mm, f.period_end) IS DISTINCT FROM (EXCLUDED.mm, EXCLUDED.period_end)
      RETURNING id`
    const cfg = await loadConfig(tx)
    const before = await openBeforeRain(tx, cfg, changed.map((c) => Number(c.id)))
    const result = { received: rows.length, changed: changed.length, unchanged: rows.length - changed.length, tasks: { before } }
    await auditEvent(tx, { action: 'rain_forecasts', table: 'rain_forecasts', after: result })
    if (changed.length) await notifyRain(tx, { kind: 'forecasts', tasks: result.tasks })
    return result
  })
}

/** Every area code must name an admin unit or a basic grid. */
async function checkAreas(tx: Tx, errors: RowErrors, areas: { row: number; code: string }[]) {
  const codes = [...new Set(areas.map((a) => a.code))]
  const found = new Set((await tx<{ code: string }[]>`
    SELECT code FROM admin_units WHERE code = ANY(${codes}::text[])
    UNION SELECT code FROM grids WHERE kind = 'basic' AND code = ANY(${codes}::text[])`).map((r) => r.code))
  for (const a of areas) if (!found.has(a.code)) errors.add(a.row, `没有这个区划或网格：${a.code}`, `no admin unit or grid ${a.code}`)
}

// ---------------------------------------------------------------- warnings

export async function ingestWarnings(sql: Sql, actor: RainActor, rows: RawRow[]) {
  checkSize(rows.length)
  const errors = new RowErrors()
  const parsed: { row: number; colour: string; areas: string[]; polygon: string | null; issued: string; until: string; key: string }[] = []
  for (const { row, values: v } of rows) {
    const colour = String(v.colour ?? '')
    if (!(colours as readonly string[]).includes(colour)) errors.add(row, `颜色须为 blue/yellow/orange/red，收到 "${colour.slice(0, 20)}"`, `colour must be blue/yellow/orange/red, got "${colour.slice(0, 20)}"`)
    const areas = v.areas == null ? [] : v.areas
    if (!Array.isArray(areas) || areas.length > 500 || areas.some((a) => typeof a !== 'string' || !/^[0-9]{12}([0-9]{3})?$/.test(a))) {
      errors.add(row, 'areas 须为区划或网格代码的数组', 'areas must be an array of admin or grid codes')
    }
    const polygon = v.polygon == null ? null : v.polygon
    if (polygon !== null && (typeof polygon !== 'object' || !['Polygon', 'MultiPolygon'].includes((polygon as { type?: string }).type ?? ''))) {
      errors.add(row, 'polygon 须为 GeoJSON Polygon 或 MultiPolygon（WGS84）', 'polygon must be a GeoJSON Polygon or MultiPolygon (WGS84)')
    }
    if ((!Array.isArray(areas) || areas.length === 0) && polygon === null) errors.add(row, '须给出 areas 或 polygon', 'give areas or a polygon')
    const issued = parseTime(v.issuedAt)
    const until = parseTime(v.validUntil, { allowFuture: true })
    if (isError(issued)) errors.add(row, `issuedAt：${issued.zh}`, `issuedAt: ${issued.en}`)
    if (isError(until)) errors.add(row, `validUntil：${until.zh}`, `validUntil: ${until.en}`)
    if (isError(issued) || isError(until) || !Array.isArray(areas)) continue
    if (until <= issued) errors.add(row, '有效期须晚于发布时间', 'validUntil must be after issuedAt')
    const codes = [...new Set(areas as string[])].sort()
    const polyText = polygon === null ? null : JSON.stringify(polygon)
    if (errors.has(row)) continue
    parsed.push({ row, colour, areas: codes, polygon: polyText, issued: issued.toISOString(), until: until.toISOString(),
                  key: [colour, issued.toISOString(), codes.join(','), polyText ?? ''].join('|') })
  }
  // Where first: a warning over places outside the writer's area (several counties: the city's) is refused whole.
  const outside = new RowErrors()
  codesOutside(outside, actor.unitCode, parsed.map((p) => ({ row: p.row, codes: p.areas })))
  outside.throwIfAny({ zh: '预警', en: 'warnings' }, { scope: actor.unitCode })
  // Areas and polygons of the good rows are checked before the one throw, so one answer names every bad row.
  return writeTx(sql, actor, async (tx) => {
    await checkAreas(tx, errors, parsed.flatMap((p) => p.areas.map((code) => ({ row: p.row, code }))))
    for (const p of parsed) {
      if (!p.polygon) continue
      // In a savepoint: GeoJSON PostGIS cannot read must not abort the transaction.
      const problem = await tx
        .savepoint((sp) => sp<{ reason: string | null }[]>`
          SELECT CASE WHEN ST_IsValid(g) THEN NULL ELSE ST_IsValidReason(g) END AS reason FROM (SELECT ST_GeomFromGeoJSON(${p.polygon}) AS g) x`)
        .then((r) => r[0].reason, (e: Error) => e.message)
      if (problem) errors.add(p.row, `polygon 无效：${problem}`, `invalid polygon: ${problem}`)
    }
    errors.throwIfAny({ zh: '预警', en: 'warnings' })
    await polygonsOutside(tx, outside, actor.unitCode, parsed.flatMap((p) => (p.polygon ? [{ row: p.row, polygon: p.polygon }] : [])))
    outside.throwIfAny({ zh: '预警', en: 'warnings' }, { scope: actor.unitCode })
    const r = await tx<{ id: number }[]>`
      INSERT INTO rain_warnings (colour, area_codes, geom, issued_at, valid_until, key)
      SELECT x.colour, ARRAY(SELECT jsonb_array_elements_text(x.areas)),
             CASE WHEN x.polygon IS NULL THEN NULL ELSE ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(x.polygon), 4326)) END,
             x.issued, x.until, x.key
      FROM jsonb_to_recordset(${tx.json(parsed as never)}) AS x(colour text, areas jsonb, polygon text, issued timestamptz, until timestamptz, key text)
      ON CONFLICT (key) DO NOTHING RETURNING id`
    let evaluations: EvaluationResult[] = []
    // A warning in force changes colours now: re-evaluate the latest hour.
    if (r.length > 0) evaluations = await evaluateFrom(tx, await loadConfig(tx), null)
    const result = { received: rows.length, inserted: r.length, unchanged: parsed.length - r.length,
                     tasks: { during: evaluations.reduce((a, e) => a + e.during, 0), after: evaluations.reduce((a, e) => a + e.after, 0) } }
    await auditEvent(tx, { action: 'rain_warnings', table: 'rain_warnings', after: result })
    if (r.length) await notifyRain(tx, { kind: 'warnings', tasks: result.tasks })
    return result
  })
}
