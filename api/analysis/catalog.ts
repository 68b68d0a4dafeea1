/**
 * Coverage analyses for planners, each one SQL query over the live tables,
 * parameterised (distances, load limits) and cut to one admin unit. Each is
 * turned into a Layer (api/datasets.ts) so that the JSON answer, the map layer
 * and every export format share one definition and one code path.
 *
 * Parameters reach the SQL as literals: they are zod-checked numbers, booleans
 * and enums (and a digit-only code prefix), so nothing a user types is ever
 * spliced as text. Inlining them lets the planner push the area filter inside
 * each aggregate rather than computing the whole city and filtering after.
 */
import { z } from 'zod'
import type { Field, FieldType, Layer } from '../datasets.ts'
import type { Sql } from '../../db/connect.ts'
import { hexagonResolutions } from '../../core/contracts/hexagons.ts'
import { binAreaHouseholds, binsSql, type HexagonBins } from './hexagon-cells.ts'

const f = (name: string, type: FieldType, zh: string): Field => ({ name, type, zh })

/** Query parameters arrive as text: booleans as true/false/1/0. */
const bool = (def: boolean) =>
  z.enum(['true', 'false', '1', '0']).default(def ? 'true' : 'false').transform((s) => s === 'true' || s === '1')
const int = (min: number, max: number, def: number) => z.coerce.number().int().min(min).max(max).default(def)

/**
 * Who counts as working a basic grid: its grid head, and the grid workers of the grid or its
 * micro-grids. Counted once for all grids of the area and joined (as `w.n`): a correlated count with
 * `grid_id = g.id OR grid_id IN (micro-grids)` cannot use the index and took two minutes a county.
 * A micro-grid's code extends its grid's, so the area's prefix finds both.
 */
const workersJoin = (g: string, prefix: string) => `LEFT JOIN (
    SELECT coalesce(wg.parent_id, wg.id) AS basic_id, count(*)::int AS n
    FROM grid_workers gw JOIN grids wg ON wg.id = gw.grid_id WHERE gw.role IN ('网格员', '网格长') AND starts_with(wg.code, ${lit(prefix)})
    GROUP BY 1) w ON w.basic_id = ${g}.id`

export interface Analysis<P extends z.ZodType = z.ZodType> {
  id: string
  zh: string
  en: string
  params: P
  geometry: Layer['geometry']
  fields: readonly Field[]
  /** Totals over all result rows: name → SQL aggregate over alias `a`. */
  totals: Record<string, string>
  /** Chinese labels of the totals, for tables and the UI. */
  totalsZh: Record<string, string>
  /** The rows a map shows first (worst first), for the JSON answer's cut. */
  order: string
  /** A query whose columns are the fields plus `_place` (a code) and `geom`, for the area with code prefix `prefix`. */
  query: (p: z.infer<P>, prefix: string, prepared?: unknown) => string
  /** What the query needs that SQL cannot work out here (the H3 cells of the hexagon analyses), read before it and passed to it. */
  prepare?: (sql: Sql, p: z.infer<P>, prefix: string) => Promise<unknown>
  /** Marks a row as the problem the analysis looks for (drawn red on the map). */
  flag: string
  /** Run city-wide county by county, as a job with progress (api/analysis/jobs.ts): only where the whole city takes long. */
  inParts?: boolean
}

/** Keeps each analysis's parameter type for its query (the catalog itself holds them all alike). */
const define = <P extends z.ZodType>(a: Analysis<P>): Analysis => a as unknown as Analysis

/** A digit-only prefix (core/units.ts scopePrefix), checked again here because it is spliced. */
const lit = (prefix: string) => {
  if (!/^[0-9]{1,15}$/.test(prefix)) throw new Error(`bad prefix ${prefix}`)
  return `'${prefix}'`
}

/** Degrees that hold `m` metres on the sphere at latitude y (longitude degrees, the wider ones here). */
const deg = (m: string, y: string) => `(${m} / (111000.0 * cos(radians(abs(${y})) + 0.01)))`

const workerLoad = define({
  id: 'worker_load', zh: '网格员负荷', en: 'Households per grid worker; grids over the load limit',
  params: z.strictObject({ limit: int(1, 100_000, 100) }),
  geometry: 'MultiPolygon',
  fields: [f('id', 'integer', '编号'), f('code', 'string', '网格代码'), f('name', 'string', '网格'), f('village_code', 'string', '村代码'),
    f('village_name', 'string', '村'), f('households', 'integer', '户数'), f('workers', 'integer', '网格员(含网格长)'),
    f('per_worker', 'number', '户/人'), f('over_limit', 'boolean', '超负荷')],
  totals: { grids: 'count(*)', households: 'coalesce(sum(a.households), 0)', workers: 'coalesce(sum(a.workers), 0)',
    over_grids: 'count(*) FILTER (WHERE a.over_limit)', over_households: 'coalesce(sum(a.households) FILTER (WHERE a.over_limit), 0)' },
  totalsZh: { grids: '网格', households: '户数', workers: '网格员', over_grids: '超负荷网格', over_households: '超负荷网格户数' },
  order: 'a.over_limit DESC, a.per_worker DESC NULLS FIRST, a.id',
  flag: 'over_limit',
  // A grid with households and nobody to visit them is over any limit.
  query: (p, prefix) => `
    SELECT x.*, (x.households > ${p.limit} * x.workers) AS over_limit,
           CASE WHEN x.workers > 0 THEN round(x.households::numeric / x.workers, 1)::float8 END AS per_worker
    FROM (SELECT g.id, g.code, g.name, v.code AS village_code, v.name AS village_name,
                 (SELECT count(*)::int FROM households h WHERE h.grid_id = g.id) AS households,
                 coalesce(w.n, 0) AS workers, g.code AS _place, g.geom
          FROM grids g JOIN admin_units v ON v.id = g.village_id ${workersJoin('g', prefix)}
          WHERE g.kind = 'basic' AND starts_with(g.code, ${lit(prefix)})) x`,
})

const shelterDistance = define({
  id: 'shelter_distance', zh: '远离避险点的农户', en: 'Households farther than a distance from any (certified) shelter',
  params: z.strictObject({ distance: int(50, 100_000, 2000), certified: bool(true), vulnerable_only: bool(false) }),
  geometry: 'Point',
  fields: [f('id', 'integer', '编号'), f('code', 'string', '户代码'), f('householder', 'string', '户主'), f('phone', 'string', '电话'),
    f('members', 'integer', '人口'), f('vulnerable', 'integer', '重点人员'), f('risk_level', 'string', '风险等级'),
    f('grid_code', 'string', '网格代码'), f('village_code', 'string', '村代码'), f('village_name', 'string', '村'),
    f('nearest_shelter', 'string', '最近避险点'), f('nearest_m', 'integer', '最近距离(米)')],
  totals: { households: 'count(*)', people: 'coalesce(sum(a.members), 0)', vulnerable: 'coalesce(sum(a.vulnerable), 0)' },
  totalsZh: { households: '户数', people: '人数', vulnerable: '重点人员' },
  order: 'a.nearest_m DESC NULLS FIRST, a.id',
  flag: 'far',
  inParts: true,
  // Distances on the sphere (use_spheroid = false), in metres, worked out per grid rather than per
  // household (a KNN probe for each of 1.8 M households took ~55 s city-wide). For the households of
  // a grid: c the centre of their bounding box, r its farthest corner from c (a bound on how far any
  // of them is from c: the box is a few hundred metres, where its corners are its farthest points),
  // s0 the shelter KNN finds for c at m0. A household's nearest shelter is within r + m0 of it, so within m0 + 2r of c: those shelters
  // are the grid's candidates, and the nearest of them is each household's exact nearest. A grid with
  // m0 + r <= distance has every household near, so it is dropped before any pairing.
  query: (p, prefix) => {
    const shelterOk = p.certified ? 'sh.certified_safe' : 'true'
    return `
    WITH hh AS MATERIALIZED (
      SELECT h.id, h.grid_id, h.geom FROM households h JOIN grids g ON g.id = h.grid_id
      WHERE starts_with(g.code, ${lit(prefix)}) ${p.vulnerable_only ? 'AND h.vulnerable > 0' : ''}),
    box AS (SELECT grid_id, ST_SetSRID(ST_Extent(geom)::geometry, 4326) AS b FROM hh GROUP BY grid_id),
    cell AS MATERIALIZED (
      SELECT grid_id, c, (SELECT max(ST_Distance(c::geography, ST_SetSRID(ST_MakePoint(x, y), 4326)::geography, false))
                          FROM (VALUES (ST_XMin(b), ST_YMin(b)), (ST_XMin(b), ST_YMax(b)), (ST_XMax(b), ST_YMin(b)), (ST_XMax(b), ST_YMax(b))) k(x, y)) * 1.001 + 1 AS r
      FROM (SELECT grid_id, b, ST_Centroid(b) AS c FROM box) k),
    open AS MATERIALIZED (
      SELECT cell.grid_id, cell.c, cell.r, s0.m0 FROM cell LEFT JOIN LATERAL (
        SELECT ST_Distance(sh.geom::geography, cell.c::geography, false) AS m0
        FROM shelters sh WHERE ${shelterOk} ORDER BY sh.geom <-> cell.c LIMIT 1) s0 ON true
      WHERE s0.m0 IS NULL OR s0.m0 + cell.r > ${p.distance}),
    cand AS (
      SELECT o.grid_id, sh.code, sh.geom FROM open o JOIN shelters sh ON ${shelterOk}
        AND sh.geom && ST_Expand(o.c, ${deg('(o.m0 + 2 * o.r + 1)', 'ST_Y(o.c)')})
        AND ST_DWithin(sh.geom::geography, o.c::geography, o.m0 + 2 * o.r + 1, false)),
    nearest AS (
      SELECT DISTINCT ON (hh.id) hh.id, cand.code, ST_Distance(cand.geom::geography, hh.geom::geography, false) AS m
      FROM hh JOIN open USING (grid_id) LEFT JOIN cand USING (grid_id)
      ORDER BY hh.id, 3 NULLS LAST, cand.code)
    SELECT h.id, h.code, h.householder, h.phone, h.members::int AS members, h.vulnerable::int AS vulnerable, h.risk_level,
           g.code AS grid_code, v.code AS village_code, v.name AS village_name,
           n.code AS nearest_shelter, round(n.m)::int AS nearest_m, true AS far, g.code AS _place, h.geom
    FROM nearest n JOIN households h ON h.id = n.id JOIN grids g ON g.id = h.grid_id JOIN admin_units v ON v.id = g.village_id
    WHERE n.m IS NULL OR n.m > ${p.distance}`
  },
})

const shelterCapacity = define({
  id: 'shelter_capacity', zh: '避险点容量与受威胁人口', en: 'Shelter capacity against the people hazard sites threaten',
  params: z.strictObject({ level: z.enum(['village', 'township']).default('village'), certified: bool(true) }),
  geometry: 'MultiPolygon',
  fields: [f('id', 'integer', '编号'), f('code', 'string', '区划代码'), f('name', 'string', '名称'), f('level', 'string', '级别'),
    f('threatened_households', 'integer', '受威胁户数'), f('threatened_people', 'integer', '受威胁人数'),
    f('threatened_vulnerable', 'integer', '受威胁重点人员'), f('shelters', 'integer', '避险点'), f('capacity', 'integer', '容量(人)'),
    f('shortfall', 'integer', '缺口(人)'), f('short', 'boolean', '容量不足')],
  totals: { units: 'count(*)', threatened_people: 'coalesce(sum(a.threatened_people), 0)', capacity: 'coalesce(sum(a.capacity), 0)',
    shortfall: 'coalesce(sum(a.shortfall), 0)', short_units: 'count(*) FILTER (WHERE a.short)' },
  totalsZh: { units: '区划', threatened_people: '受威胁人数', capacity: '容量', shortfall: '缺口', short_units: '容量不足的区划' },
  order: 'a.shortfall DESC, a.code',
  flag: 'short',
  // People threatened by any active site, each household once, counted where they live; capacity
  // counted where the shelter is. A village's own shelters against its own people: moving people
  // across villages is the evacuation plan's business, not this check's.
  query: (p, prefix) => {
    const len = p.level === 'village' ? 12 : 9
    return `
    WITH threatened AS (
      SELECT DISTINCT t.household_id FROM hazard_threats t JOIN hazard_sites s ON s.id = t.hazard_id WHERE s.status = 'active'),
    people AS (
      SELECT substr(g.code, 1, ${len}) AS k, count(*)::int AS hh, sum(h.members)::int AS people, sum(h.vulnerable)::int AS vul
      FROM threatened t JOIN households h ON h.id = t.household_id JOIN grids g ON g.id = h.grid_id
      WHERE starts_with(g.code, ${lit(prefix)}) GROUP BY 1),
    cap AS (
      SELECT substr(v.code, 1, ${len}) AS k, count(*)::int AS n, sum(sh.capacity)::int AS capacity
      FROM shelters sh JOIN admin_units v ON v.id = sh.village_id
      WHERE ${p.certified ? 'sh.certified_safe AND' : ''} starts_with(v.code, ${lit(prefix)}) GROUP BY 1)
    SELECT u.id, u.code, u.name, u.level, coalesce(pp.hh, 0) AS threatened_households, coalesce(pp.people, 0) AS threatened_people,
           coalesce(pp.vul, 0) AS threatened_vulnerable, coalesce(c.n, 0) AS shelters, coalesce(c.capacity, 0) AS capacity,
           greatest(coalesce(pp.people, 0) - coalesce(c.capacity, 0), 0) AS shortfall,
           coalesce(pp.people, 0) > coalesce(c.capacity, 0) AS short, u.code AS _place, u.geom
    FROM admin_units u
    LEFT JOIN people pp ON pp.k = substr(u.code, 1, ${len}) LEFT JOIN cap c ON c.k = substr(u.code, 1, ${len})
    WHERE u.level = '${p.level}' AND starts_with(u.code, ${lit(prefix)})`
  },
})

const hazardsUnmonitored = define({
  id: 'hazards_unmonitored', zh: '无监测员的隐患点', en: 'Active hazard sites without a monitor',
  params: z.strictObject({}),
  geometry: 'Point',
  fields: [f('id', 'integer', '编号'), f('code', 'string', '统一编号'), f('name', 'string', '名称'), f('admin_code', 'string', '所在村代码'),
    f('type', 'string', '类型'), f('scale', 'string', '规模'), f('threatened_households', 'integer', '威胁户数'),
    f('threatened_people', 'integer', '威胁人数'), f('danger_level', 'string', '险情等级')],
  totals: { sites: 'count(*)', threatened_households: 'coalesce(sum(a.threatened_households), 0)', threatened_people: 'coalesce(sum(a.threatened_people), 0)' },
  totalsZh: { sites: '隐患点', threatened_households: '威胁户数', threatened_people: '威胁人数' },
  order: 'a.threatened_people DESC, a.id',
  flag: 'unmonitored',
  // A monitor is a 监测员 row the site points to; a pointer to anyone else does not count.
  query: (_p, prefix) => `
    SELECT s.id, s.code, s.name, s.admin_code, s.type, s.scale, s.threatened_households, s.threatened_people, s.danger_level,
           true AS unmonitored, s.admin_code AS _place, s.geom
    FROM hazard_sites s LEFT JOIN grid_workers m ON m.id = s.monitor_id AND m.role = '监测员'
    WHERE s.status = 'active' AND m.id IS NULL AND starts_with(s.admin_code, ${lit(prefix)})`,
})

const gridsWithoutWorker = define({
  id: 'grids_without_worker', zh: '无网格员的网格', en: 'Basic grids without a grid worker',
  params: z.strictObject({}),
  geometry: 'MultiPolygon',
  fields: [f('id', 'integer', '编号'), f('code', 'string', '网格代码'), f('name', 'string', '网格'), f('village_code', 'string', '村代码'),
    f('village_name', 'string', '村'), f('households', 'integer', '户数'), f('people', 'integer', '人数')],
  totals: { grids: 'count(*)', households: 'coalesce(sum(a.households), 0)', people: 'coalesce(sum(a.people), 0)' },
  totalsZh: { grids: '网格', households: '户数', people: '人数' },
  order: 'a.households DESC, a.id',
  flag: 'no_worker',
  query: (_p, prefix) => `
    SELECT g.id, g.code, g.name, v.code AS village_code, v.name AS village_name,
           (SELECT count(*)::int FROM households h WHERE h.grid_id = g.id) AS households,
           (SELECT coalesce(sum(h.members), 0)::int FROM households h WHERE h.grid_id = g.id) AS people,
           true AS no_worker, g.code AS _place, g.geom
    FROM grids g JOIN admin_units v ON v.id = g.village_id ${workersJoin('g', prefix)}
    WHERE g.kind = 'basic' AND starts_with(g.code, ${lit(prefix)}) AND w.n IS NULL`,
})

const householdsWithoutCadre = define({
  id: 'households_without_cadre', zh: '无包保责任人的农户', en: 'Households without a responsible cadre',
  params: z.strictObject({ vulnerable_only: bool(false) }),
  geometry: 'Point',
  fields: [f('id', 'integer', '编号'), f('code', 'string', '户代码'), f('householder', 'string', '户主'), f('phone', 'string', '电话'),
    f('members', 'integer', '人口'), f('vulnerable', 'integer', '重点人员'), f('risk_level', 'string', '风险等级'),
    f('grid_code', 'string', '网格代码'), f('village_code', 'string', '村代码'), f('village_name', 'string', '村')],
  totals: { households: 'count(*)', people: 'coalesce(sum(a.members), 0)', vulnerable: 'coalesce(sum(a.vulnerable), 0)' },
  totalsZh: { households: '户数', people: '人数', vulnerable: '重点人员' },
  order: "a.risk_level = 'red' DESC, a.vulnerable DESC, a.id",
  flag: 'no_cadre',
  // A cadre is a 包保责任人 row; a household pointing at someone else has none.
  query: (p, prefix) => `
    SELECT h.id, h.code, h.householder, h.phone, h.members::int AS members, h.vulnerable::int AS vulnerable, h.risk_level,
           g.code AS grid_code, v.code AS village_code, v.name AS village_name, true AS no_cadre, g.code AS _place, h.geom
    FROM households h JOIN grids g ON g.id = h.grid_id JOIN admin_units v ON v.id = g.village_id
    LEFT JOIN grid_workers c ON c.id = h.cadre_id AND c.role = '包保责任人'
    WHERE c.id IS NULL AND starts_with(g.code, ${lit(prefix)}) ${p.vulnerable_only ? 'AND h.vulnerable > 0' : ''}`,
})

/** Reports counted in a period: by when they reached the server; a duplicate merged into another is not counted twice. */
const reportClosure = define({
  id: 'report_closure', zh: '问题上报办结率', en: 'Problem reports closed, per village, over a period; villages below a target rate',
  params: z.strictObject({ days: int(1, 366, 30), target: int(0, 100, 90) }),
  geometry: 'MultiPolygon',
  fields: [f('id', 'integer', '编号'), f('code', 'string', '村代码'), f('name', 'string', '村'), f('township_name', 'string', '乡镇'),
    f('filed', 'integer', '上报件数'), f('closed', 'integer', '已办结'), f('closure_rate', 'number', '办结率(%)'),
    f('median_ack_minutes', 'number', '受理用时中位数(分钟)'), f('open_overdue', 'integer', '超时未办结'), f('below_target', 'boolean', '低于目标')],
  totals: { villages: 'count(*)', filed: 'coalesce(sum(a.filed), 0)', closed: 'coalesce(sum(a.closed), 0)',
    open_overdue: 'coalesce(sum(a.open_overdue), 0)', below: 'count(*) FILTER (WHERE a.below_target)' },
  totalsZh: { villages: '村', filed: '上报件数', closed: '已办结', open_overdue: '超时未办结', below: '低于目标的村' },
  order: 'a.below_target DESC, a.closure_rate NULLS LAST, a.open_overdue DESC, a.id',
  flag: 'below_target',
  // A grid's code begins with its village's 12 digits: the reports of a village are found by that prefix.
  query: (p, prefix) => `
    SELECT x.*, (x.filed > 0 AND x.closure_rate < ${p.target}) AS below_target
    FROM (SELECT v.id, v.code, v.name, t.name AS township_name, count(r.id)::int AS filed,
                 count(r.id) FILTER (WHERE r.state = 'closed')::int AS closed,
                 CASE WHEN count(r.id) > 0 THEN round(100.0 * count(r.id) FILTER (WHERE r.state = 'closed') / count(r.id), 1)::float8 END AS closure_rate,
                 round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM r.acknowledged_at - r.received_at) / 60))::numeric, 1)::float8
                   AS median_ack_minutes,
                 count(r.id) FILTER (WHERE r.state IN ('reported', 'acknowledged', 'dispatched') AND r.due_at <= now())::int AS open_overdue,
                 v.code AS _place, v.geom
          FROM admin_units v JOIN admin_units t ON t.id = v.parent_id
          LEFT JOIN reports r ON starts_with(r.grid_code, v.code) AND r.state <> 'merged'
                             AND r.received_at >= now() - interval '1 day' * ${p.days}
          WHERE v.level = 'village' AND starts_with(v.code, ${lit(prefix)})
          GROUP BY v.id, t.name) x`,
})


/**
 * The hexagon analyses: the same questions per H3 cell (h3-js, api/analysis/hexagon-cells.ts) rather than per
 * grid, so two periods or two cities compare cell by cell on `h3_index`. A cell holds the area's households
 * that fall in it (a cell on the area's edge: only the area's); its `_place` is the grid with most of them.
 * `id` is the cell's rank among the area's cells by H3 index: file rows need a number, the index is the key.
 */
const resolution = z.enum(hexagonResolutions.map(String) as [string, ...string[]], {
  error: `H3 分辨率须为 ${hexagonResolutions.join('、')} / the H3 resolution must be one of ${hexagonResolutions.join(', ')}`,
}).default('7').transform((r) => Number(r) as HexagonBins['res'])
const hexFields = [f('id', 'integer', '序号'), f('h3_index', 'string', 'H3 编码'), f('resolution', 'integer', 'H3 分辨率'),
  f('households', 'integer', '户数'), f('people', 'integer', '人数'), f('vulnerable', 'integer', '重点人员'), f('grids', 'integer', '涉及网格')]
const hexPrepare = (sql: Sql, p: { res: HexagonBins['res'] }, prefix: string) => binAreaHouseholds(sql, lit(prefix).slice(1, -1), p.res)
/** The cells with their households (hex_pair summed), and the grid holding most of each cell's households (ties: the lower code). */
const hexCells = (b: unknown) => `WITH ${binsSql(b as HexagonBins)},
    cell_sum AS (SELECT cell, sum(households)::int AS households, sum(people)::int AS people, sum(vulnerable)::int AS vulnerable,
                        count(*)::int AS grids FROM hex_pair GROUP BY cell),
    main AS (SELECT DISTINCT ON (p.cell) p.cell, g.code FROM hex_pair p JOIN grids g ON g.id = p.grid_id ORDER BY p.cell, p.households DESC, g.code)`
const hexColumns = (b: unknown) => `c.cell AS id, c.h3_index, ${(b as HexagonBins).res} AS resolution, s.households, s.people, s.vulnerable, s.grids`

const hexWorkerLoad = define({
  id: 'hex_worker_load', zh: '网格员负荷（六边形）', en: 'Households per grid worker, per H3 hexagon',
  params: z.strictObject({ res: resolution, limit: int(1, 100_000, 100) }),
  geometry: 'MultiPolygon',
  fields: [...hexFields, f('workers', 'number', '网格员(按户数分摊)'), f('per_worker', 'number', '户/人'), f('over_limit', 'boolean', '超负荷')],
  totals: { cells: 'count(*)', households: 'coalesce(sum(a.households), 0)', over_cells: 'count(*) FILTER (WHERE a.over_limit)',
    over_households: 'coalesce(sum(a.households) FILTER (WHERE a.over_limit), 0)' },
  totalsZh: { cells: '六边形', households: '户数', over_cells: '超负荷六边形', over_households: '超负荷六边形户数' },
  order: 'a.over_limit DESC, a.per_worker DESC NULLS FIRST, a.id',
  flag: 'over_limit',
  prepare: hexPrepare,
  // A grid's workers (as worker_load counts them) are shared among the cells its households live in, by their
  // households: a cell all of one grid has that grid's load, and the cells' workers add up to the grids'.
  query: (p, prefix, b) => `${hexCells(b)},
    grid_hh AS (SELECT grid_id, sum(households) AS n FROM hex_pair GROUP BY grid_id),
    share AS (SELECT p.cell, sum(coalesce(w.n, 0) * p.households::float8 / gh.n) AS workers
              FROM hex_pair p JOIN grid_hh gh USING (grid_id) JOIN grids g ON g.id = p.grid_id ${workersJoin('g', prefix)} GROUP BY p.cell)
    SELECT ${hexColumns(b)}, round(sh.workers::numeric, 2)::float8 AS workers,
           CASE WHEN sh.workers > 0 THEN round((s.households / sh.workers)::numeric, 1)::float8 END AS per_worker,
           (s.households > ${p.limit} * sh.workers) AS over_limit, m.code AS _place, c.geom
    FROM hex_cell c JOIN cell_sum s USING (cell) JOIN main m USING (cell) JOIN share sh USING (cell)`,
})

const hexShelterDistance = define({
  id: 'hex_shelter_distance', zh: '到最近避险点的距离（六边形）', en: 'Distance from each H3 hexagon to the nearest (certified) shelter',
  params: z.strictObject({ res: resolution, distance: int(50, 100_000, 2000), certified: bool(true) }),
  geometry: 'MultiPolygon',
  fields: [...hexFields, f('nearest_shelter', 'string', '最近避险点'), f('nearest_m', 'integer', '中心到最近避险点(米)'), f('far', 'boolean', '超出距离')],
  totals: { cells: 'count(*)', households: 'coalesce(sum(a.households), 0)', far_cells: 'count(*) FILTER (WHERE a.far)',
    far_households: 'coalesce(sum(a.households) FILTER (WHERE a.far), 0)' },
  totalsZh: { cells: '六边形', households: '户数', far_cells: '超出距离的六边形', far_households: '其中户数' },
  order: 'a.nearest_m DESC NULLS FIRST, a.id',
  flag: 'far',
  prepare: hexPrepare,
  // From the cell's centre, on the sphere (as shelter_distance). KNN (<->) orders by degrees, not metres: its
  // shelter at m0 only bounds the search; the nearest in metres is among those within m0 (ties: the lower code).
  query: (p, _prefix, b) => {
    const shelterOk = p.certified ? 'sh.certified_safe' : 'true'
    return `${hexCells(b)},
    centre AS (SELECT cell, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS c FROM hex_cell),
    nearest AS (
      SELECT ce.cell, n.code, n.m FROM centre ce
      LEFT JOIN LATERAL (SELECT ST_Distance(sh.geom::geography, ce.c::geography, false) AS m0
                         FROM shelters sh WHERE ${shelterOk} ORDER BY sh.geom <-> ce.c LIMIT 1) k ON true
      LEFT JOIN LATERAL (SELECT sh.code, ST_Distance(sh.geom::geography, ce.c::geography, false) AS m
                         FROM shelters sh WHERE ${shelterOk} AND sh.geom && ST_Expand(ce.c, ${deg('(k.m0 + 1)', 'ST_Y(ce.c)')})
                           AND ST_DWithin(sh.geom::geography, ce.c::geography, k.m0 + 1, false)
                         ORDER BY 2, 1 LIMIT 1) n ON true)
    SELECT ${hexColumns(b)}, n.code AS nearest_shelter, round(n.m)::int AS nearest_m, (n.m IS NULL OR n.m > ${p.distance}) AS far,
           m.code AS _place, c.geom
    FROM hex_cell c JOIN cell_sum s USING (cell) JOIN main m USING (cell) JOIN nearest n USING (cell)`
  },
})

const hexNoWorker = define({
  id: 'hex_no_worker', zh: '附近无网格员的六边形', en: 'H3 hexagons with households and no grid worker within reach',
  params: z.strictObject({ res: resolution, reach: int(0, 20_000, 1000) }),
  geometry: 'MultiPolygon',
  fields: hexFields,
  totals: { cells: 'count(*)', households: 'coalesce(sum(a.households), 0)', people: 'coalesce(sum(a.people), 0)' },
  totalsZh: { cells: '六边形', households: '户数', people: '人数' },
  order: 'a.households DESC, a.id',
  flag: 'no_worker',
  prepare: hexPrepare,
  // Within reach: a basic grid of the area with a grid worker or head (of it or its micro-grids, as
  // worker_load counts them) comes within `reach` metres of the cell (0: touches it). Workers have no
  // place of their own; their grid is where they work. Grids outside the area are another office's.
  query: (p, prefix, b) => `${hexCells(b)},
    worked AS MATERIALIZED (SELECT g.id, g.geom FROM grids g ${workersJoin('g', prefix)}
                            WHERE g.kind = 'basic' AND starts_with(g.code, ${lit(prefix)}) AND w.n > 0)
    SELECT ${hexColumns(b)}, true AS no_worker, m.code AS _place, c.geom
    FROM hex_cell c JOIN cell_sum s USING (cell) JOIN main m USING (cell)
    WHERE NOT EXISTS (SELECT 1 FROM worked wg WHERE wg.geom && ST_Expand(c.geom, ${deg(`${p.reach + 1}.0`, 'c.lat')})
                        AND ST_DWithin(wg.geom::geography, c.geom::geography, ${p.reach}, false))`,
})

export const analyses = {
  worker_load: workerLoad,
  shelter_distance: shelterDistance,
  shelter_capacity: shelterCapacity,
  hazards_unmonitored: hazardsUnmonitored,
  grids_without_worker: gridsWithoutWorker,
  households_without_cadre: householdsWithoutCadre,
  report_closure: reportClosure,
} as const satisfies Record<string, Analysis>

/** The coverage analyses per grid, unit or household (npm run bench:analysis holds each to a hand-written SQL reference). */
export type AnalysisId = keyof typeof analyses
export const analysisIds = Object.keys(analyses) as AnalysisId[]

/** The same questions per H3 hexagon: no plain SQL reference can bin by H3 here, so the bench leaves them out (tests/db/hexagon-analysis.test.ts holds them to direct counts). */
export const hexagonAnalyses = {
  hex_worker_load: hexWorkerLoad,
  hex_shelter_distance: hexShelterDistance,
  hex_no_worker: hexNoWorker,
} as const satisfies Record<string, Analysis>

/** Every analysis the planners' panel, its jobs, exports and prints offer. */
export const catalog = { ...analyses, ...hexagonAnalyses } as const
export type CatalogId = keyof typeof catalog
export const catalogIds = Object.keys(catalog) as CatalogId[]
export const isCatalogId = (s: string): s is CatalogId => Object.hasOwn(catalog, s)

/** An analysis with its parameters, for one area, as a Layer: what exports and the JSON answer read. */
export function analysisLayer(a: Analysis, params: unknown, prefix: string, prepared?: unknown): Layer {
  const from = `(${a.query(params as never, prefix, prepared)}) a`
  const personal = a.fields.some((x) => x.name === 'householder') ? { name: 'householder', phone: 'phone' } : undefined
  return {
    id: a.id, zh: a.zh, en: a.en, geometry: a.geometry, fields: a.fields, personal,
    idExpr: 'a.id', table: from, placeExpr: 'a._place', geomExpr: 'a.geom', from,
    columns: a.fields.map((x) => `a.${x.name}`).join(', '),
  }
}

/** analysisLayer, after what the analysis needs first (its `prepare`) has been read from `sql`. */
export async function analysisLayerOn(sql: Sql, a: Analysis, params: unknown, prefix: string): Promise<Layer> {
  return analysisLayer(a, params, prefix, a.prepare ? await a.prepare(sql, params as never, prefix) : undefined)
}
