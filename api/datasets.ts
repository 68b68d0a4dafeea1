/**
 * The data layers planners take out of gridwatch, one definition each, shared
 * by the OGC API (api/ogc/) and the file exports (api/export/): what a row
 * holds, its types (for OpenAPI schemas, CSV/XLSX headers and the typed
 * intermediate GDAL reads), where it lies (the code a unit filter and the
 * masking of personal data look at) and its geometry.
 */
import type postgres from 'postgres'
import { beijingIso } from '../core/spreadsheet.ts'
import { mayReadPersonal, type SessionUser } from './auth/guard.ts'
import { maskName, maskPhone } from './auth/mask.ts'
import type { Sql } from '../db/connect.ts'
import { defaultRules } from '../core/rules/escalation.ts'

export type FieldType = 'integer' | 'number' | 'string' | 'boolean' | 'date-time'

export interface Field {
  name: string
  type: FieldType
  zh: string
}

export interface Layer {
  /** A LayerId, or an analysis's id (api/analysis/catalog.ts): used in file and sheet names. */
  id: string
  zh: string
  en: string
  geometry: 'Point' | 'LineString' | 'MultiPolygon'
  fields: readonly Field[]
  /** Fields masked unless the reader may see this row's personal data (as the records API masks them). */
  personal?: { name: string; phone: string }
  /** SQL: the feature id, the code the row lies in (prefix-tested against scopes and units), the geometry, FROM … JOIN …. */
  idExpr: string
  /** SQL: the layer's own table with its alias, enough to count rows by geometry (the joins add no rows). */
  table: string
  placeExpr: string
  geomExpr: string
  from: string
  /** SQL: the field values, aliased to the field names, in order. */
  columns: string
}

export const layerIds = ['grids', 'households', 'hazard_sites', 'shelters', 'routes', 'admin_units', 'reports'] as const
export type LayerId = (typeof layerIds)[number]

const f = (name: string, type: FieldType, zh: string): Field => ({ name, type, zh })

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`
/** A report type's Chinese name: the flood office's own list when it has stored one, else the defaults. */
const reportTypeName = `coalesce(
  (SELECT t->>'zh' FROM report_config c, jsonb_array_elements(c.value->'types') t WHERE c.key = 'rules' AND t->>'code' = r.type),
  CASE r.type ${defaultRules.types.map((t) => `WHEN ${quote(t.code)} THEN ${quote(t.zh)}`).join(' ')} ELSE r.type END)`
const openReport = `r.state IN ('reported', 'acknowledged', 'dispatched')`

export const layers: Record<LayerId, Layer> = {
  grids: {
    id: 'grids', zh: '网格', en: 'Grids (basic and micro-grids) with household counts by risk colour', geometry: 'MultiPolygon',
    fields: [f('id', 'integer', '编号'), f('code', 'string', '网格代码'), f('name', 'string', '名称'), f('kind', 'string', '类型(basic基础网格/micro微网格)'),
      f('parent_code', 'string', '上级网格代码'), f('village_code', 'string', '村代码'), f('village_name', 'string', '村'),
      f('households', 'integer', '户数'), f('red', 'integer', '红色户'), f('yellow', 'integer', '黄色户'), f('green', 'integer', '绿色户'),
      f('people', 'integer', '人数'), f('vulnerable', 'integer', '一老一小等重点人员')],
    idExpr: 'g.id', table: 'grids g', placeExpr: 'g.code', geomExpr: 'g.geom',
    from: `grids g JOIN admin_units v ON v.id = g.village_id LEFT JOIN grids p ON p.id = g.parent_id
           LEFT JOIN household_rollups r ON r.level = CASE g.kind WHEN 'basic' THEN 'grid' ELSE 'micro' END AND r.unit_id = g.id`,
    columns: `g.id, g.code, g.name, g.kind, p.code AS parent_code, v.code AS village_code, v.name AS village_name,
              coalesce(r.households, 0)::int AS households, coalesce(r.red, 0)::int AS red, coalesce(r.yellow, 0)::int AS yellow,
              coalesce(r.green, 0)::int AS green, coalesce(r.people, 0)::int AS people, coalesce(r.vulnerable, 0)::int AS vulnerable`,
  },
  households: {
    id: 'households', zh: '农户', en: 'Households (ledger, 红黄绿 risk colour)', geometry: 'Point',
    fields: [f('id', 'integer', '编号'), f('code', 'string', '户代码'), f('householder', 'string', '户主'), f('phone', 'string', '电话'),
      f('members', 'integer', '人口'), f('elderly_alone', 'integer', '独居老人'), f('left_behind_children', 'integer', '留守儿童'),
      f('disabled', 'integer', '残疾人'), f('vulnerable', 'integer', '重点人员'), f('risk_level', 'string', '风险等级(red/yellow/green)'),
      f('flood_exposed', 'boolean', '受洪涝或隐患点威胁'), f('measures', 'string', '措施'), f('last_visit_at', 'date-time', '最近走访'),
      f('grid_code', 'string', '网格代码'), f('grid_name', 'string', '网格'), f('village_code', 'string', '村代码'), f('village_name', 'string', '村')],
    personal: { name: 'householder', phone: 'phone' },
    idExpr: 'h.id', table: 'households h', placeExpr: 'g.code', geomExpr: 'h.geom',
    from: 'households h JOIN grids g ON g.id = h.grid_id JOIN admin_units v ON v.id = g.village_id',
    columns: `h.id, h.code, h.householder, h.phone, h.members::int AS members, h.elderly_alone::int AS elderly_alone,
              h.left_behind_children::int AS left_behind_children, h.disabled::int AS disabled, h.vulnerable::int AS vulnerable,
              h.risk_level, h.flood_exposed, h.measures, h.last_visit_at, g.code AS grid_code, g.name AS grid_name,
              v.code AS village_code, v.name AS village_name`,
  },
  hazard_sites: {
    id: 'hazard_sites', zh: '地质灾害隐患点', en: 'Geological hazard sites', geometry: 'Point',
    fields: [f('id', 'integer', '编号'), f('code', 'string', '统一编号'), f('name', 'string', '名称'), f('admin_code', 'string', '所在村代码'),
      f('type', 'string', '类型'), f('scale', 'string', '规模'), f('threat_object', 'string', '威胁对象'),
      f('threatened_households', 'integer', '威胁户数'), f('threatened_people', 'integer', '威胁人数'),
      f('threatened_property', 'number', '威胁财产(万元)'), f('danger_level', 'string', '险情等级'), f('countermeasure', 'string', '防治措施'),
      f('monitoring_method', 'string', '监测手段'), f('warning_signal', 'string', '预警信号'), f('trigger_factor', 'string', '诱发因素'),
      f('critical_rain_1h', 'number', '临界雨量1h(mm)'), f('critical_rain_24h', 'number', '临界雨量24h(mm)'), f('status', 'string', '状态(active在册/proposed待核实/cancelled核销)')],
    idExpr: 's.id', table: 'hazard_sites s', placeExpr: 's.admin_code', geomExpr: 's.geom',
    from: 'hazard_sites s',
    columns: `s.id, s.code, s.name, s.admin_code, s.type, s.scale, s.threat_object, s.threatened_households, s.threatened_people,
              s.threatened_property::float8 AS threatened_property, s.danger_level, s.countermeasure, s.monitoring_method,
              s.warning_signal, s.trigger_factor, s.critical_rain_1h::float8 AS critical_rain_1h,
              s.critical_rain_24h::float8 AS critical_rain_24h, s.status`,
  },
  shelters: {
    id: 'shelters', zh: '避险点', en: 'Shelters (safe places)', geometry: 'Point',
    fields: [f('id', 'integer', '编号'), f('code', 'string', '代码'), f('name', 'string', '名称'), f('kind', 'string', '类型'),
      f('capacity', 'integer', '容量(人)'), f('certified_safe', 'boolean', '经安全评估'), f('manager', 'string', '管理人'),
      f('manager_phone', 'string', '管理人电话'), f('village_code', 'string', '村代码'), f('village_name', 'string', '村')],
    idExpr: 'sh.id', table: 'shelters sh', placeExpr: 'v.code', geomExpr: 'sh.geom',
    from: 'shelters sh JOIN admin_units v ON v.id = sh.village_id',
    columns: `sh.id, sh.code, sh.name, sh.kind, sh.capacity, sh.certified_safe, sh.manager, sh.manager_phone,
              v.code AS village_code, v.name AS village_name`,
  },
  routes: {
    id: 'routes', zh: '转移路线', en: 'Transfer routes from hazard sites to shelters', geometry: 'LineString',
    fields: [f('id', 'integer', '编号'), f('hazard_code', 'string', '隐患点编号'), f('hazard_name', 'string', '隐患点'),
      f('shelter_code', 'string', '避险点代码'), f('shelter_name', 'string', '避险点'), f('from_name', 'string', '起点'),
      f('length_m', 'integer', '长度(米)'), f('village_code', 'string', '避险点所在村代码')],
    // A route belongs where its shelter is: routes carry no admin code of their own.
    idExpr: 'r.id', table: 'routes r', placeExpr: 'v.code', geomExpr: 'r.geom',
    from: `routes r JOIN shelters sh ON sh.id = r.shelter_id JOIN admin_units v ON v.id = sh.village_id
           LEFT JOIN hazard_sites hz ON hz.id = r.hazard_id`,
    columns: `r.id, hz.code AS hazard_code, hz.name AS hazard_name, sh.code AS shelter_code, sh.name AS shelter_name,
              r.from_name, r.length_m, v.code AS village_code`,
  },
  admin_units: {
    id: 'admin_units', zh: '行政区划', en: 'Admin units: city, counties, townships, villages', geometry: 'MultiPolygon',
    fields: [f('id', 'integer', '编号'), f('code', 'string', '区划代码'), f('name', 'string', '名称'),
      f('level', 'string', '级别(city/county/township/village)'), f('parent_code', 'string', '上级代码')],
    idExpr: 'a.id', table: 'admin_units a', placeExpr: 'a.code', geomExpr: 'a.geom',
    from: 'admin_units a LEFT JOIN admin_units p ON p.id = a.parent_id',
    columns: 'a.id, a.code, a.name, a.level, p.code AS parent_code',
  },
  reports: {
    id: 'reports', zh: '问题上报', en: 'Problem reports from the field and the duty phone, with their level and times', geometry: 'Point',
    fields: [f('id', 'integer', '编号'), f('type', 'string', '类型代码'), f('type_name', 'string', '类型'),
      f('urgency', 'string', '紧急程度(normal一般/urgent紧急/critical特急)'),
      f('state', 'string', '状态(reported已上报/acknowledged已受理/dispatched处置中/handled已处置/closed已办结/merged已合并)'),
      f('level', 'string', '处理层级(grid网格/village村/township乡镇/county县/city市)'), f('unit_code', 'string', '责任单位代码'),
      f('grid_code', 'string', '网格代码'), f('grid_name', 'string', '网格'), f('village_name', 'string', '村'),
      f('note', 'string', '情况说明'), f('hazard_code', 'string', '隐患点编号'), f('reported_by', 'string', '填报人'),
      f('caller_name', 'string', '来电人'), f('caller_phone', 'string', '来电电话'),
      f('reported_at', 'date-time', '发现时间'), f('received_at', 'date-time', '收到时间'), f('acknowledged_at', 'date-time', '受理时间'),
      f('closed_at', 'date-time', '办结时间'), f('due_at', 'date-time', '当前时限'), f('overdue', 'boolean', '已超时'),
      f('minutes_to_acknowledge', 'number', '受理用时(分钟)')],
    personal: { name: 'caller_name', phone: 'caller_phone' },
    idExpr: 'r.id', table: 'reports r', placeExpr: 'r.grid_code', geomExpr: 'r.geom',
    from: `reports r JOIN grids g ON g.code = r.grid_code JOIN admin_units v ON v.id = g.village_id
           LEFT JOIN hazard_sites hz ON hz.id = r.hazard_site_id`,
    columns: `r.id, r.type, ${reportTypeName} AS type_name, r.urgency, r.state, r.level, r.unit_code, r.grid_code, g.name AS grid_name,
              v.name AS village_name, r.note, hz.code AS hazard_code, r.reported_by_name AS reported_by, r.caller_name, r.caller_phone,
              r.reported_at, r.received_at, r.acknowledged_at, r.closed_at, r.due_at,
              coalesce(${openReport} AND r.due_at <= now(), false) AS overdue,
              round((extract(epoch FROM r.acknowledged_at - r.received_at) / 60)::numeric, 1)::float8 AS minutes_to_acknowledge`,
  },
}

export const isLayerId = (s: string): s is LayerId => (layerIds as readonly string[]).includes(s)

export type Row = Record<string, unknown> & { _place: string; _geojson: string; _lon: number; _lat: number; _wkt?: string }

/**
 * The rows of a layer: its fields, plus `_place` (the code masking looks at),
 * `_geojson` (geometry as GeoJSON text, spliced into output unparsed), `_lon`/
 * `_lat` (the point, or a point on the polygon/line, for tables), and `_wkt`
 * when asked. `where` and `tail` (ORDER/LIMIT) are fragments of the caller.
 * The layer's SQL is ours (constants above), never user input.
 */
export function layerQuery(sql: Sql, layer: Layer, where: postgres.PendingQuery<postgres.Row[]> | null, tail: postgres.PendingQuery<postgres.Row[]>, opts: { wkt?: boolean; mercator?: boolean } = {}) {
  const g = layer.geomExpr
  const point = layer.geometry === 'Point' ? g : `ST_PointOnSurface(${g})`
  // Tables in Web Mercator (an export's crs=EPSG:3857): the point and the WKT in metres, to the centimetre. GeoJSON stays WGS84.
  const xy = (f: 'ST_X' | 'ST_Y') => (opts.mercator ? `round(${f}(ST_Transform(${point}, 3857))::numeric, 2)::float8` : `${f}(${point})`)
  const wkt = opts.mercator ? `ST_AsText(ST_Transform(${g}, 3857), 2)` : `ST_AsText(${g}, 7)`
  return sql`
    SELECT ${sql.unsafe(layer.columns)}, ${sql.unsafe(layer.placeExpr)} AS _place,
           ST_AsGeoJSON(${sql.unsafe(g)}, 7) AS _geojson, ${sql.unsafe(xy('ST_X'))} AS _lon, ${sql.unsafe(xy('ST_Y'))} AS _lat
           ${opts.wkt ? sql`, ${sql.unsafe(wkt)} AS _wkt` : sql``}
    FROM ${sql.unsafe(layer.from)}
    ${where ? sql`WHERE ${where}` : sql``}
    ${tail}`
}

/** A unit filter: rows whose place code starts with the unit's significant digits. */
export const placeIn = (sql: Sql, layer: Layer, prefix: string) => sql`starts_with(${sql.unsafe(layer.placeExpr)}, ${prefix})`

/** How many features of the layer lie under the code prefix. */
export async function countIn(sql: Sql, layer: Layer, prefix: string): Promise<number> {
  const [{ n }] = await sql`SELECT count(*)::int AS n FROM ${sql.unsafe(layer.from)} WHERE ${placeIn(sql, layer, prefix)}`
  return n as number
}

/**
 * Hides a row's personal fields unless the reader may see them there:
 * mayReadPersonal (role with personal.read, row in scope), exactly the rule of
 * the records API, applied per row because one export spans many places.
 */
export function maskRow(layer: Layer, user: SessionUser | undefined, row: Row): Row {
  if (!layer.personal || mayReadPersonal(user, row._place)) return row
  row[layer.personal.name] = maskName(row[layer.personal.name] as string | null)
  row[layer.personal.phone] = maskPhone(row[layer.personal.phone] as string | null)
  return row
}

/** A row as a GeoJSON Feature (text): the geometry PostGIS wrote is spliced in, not parsed and re-written. Times in Beijing time, +08:00. */
export function featureText(layer: Layer, row: Row): string {
  const props: Record<string, unknown> = {}
  for (const fld of layer.fields) {
    const v = row[fld.name] ?? null
    props[fld.name] = v instanceof Date ? beijingIso(v) : v
  }
  return `{"type":"Feature","id":${Number(row.id)},"geometry":${row._geojson},"properties":${JSON.stringify(props)}}`
}
