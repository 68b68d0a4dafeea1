/**
 * Analysis benchmark: each coverage analysis (api/analysis) for the whole
 * city, its largest county and that county's largest township, run as the
 * route runs it (runAnalysis: totals, totals per child unit, the first rows
 * as GeoJSON), against a reference timed in the same run: a plain SQL
 * computation of the same totals, written the obvious way. The totals must
 * agree, or the benchmark fails. Read-only: it writes nothing to the database.
 * Needs DATABASE_URL (a PostGIS seeded with npm run seed -- --scale full).
 * Writes bench/analysis.md (or --out).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { analyses, analysisIds, analysisLayer, type AnalysisId } from '../api/analysis/catalog.ts'
import { runInParts } from '../api/analysis/jobs.ts'
import { runAnalysis } from '../api/analysis/run.ts'
import type { SessionUser } from '../api/auth/guard.ts'
import { scopePrefix } from '../core/units.ts'
import { projectRoot } from '../core/config.ts'
import { connect, type Sql } from '../db/connect.ts'
import { transaction } from '../db/transaction.ts'

const { values } = parseArgs({ options: { out: { type: 'string' }, only: { type: 'string' } } })
if (!process.env.DATABASE_URL) {
  console.error('bench:analysis needs DATABASE_URL (a PostGIS seeded with npm run seed -- --scale full)')
  process.exit(2)
}

/** The parameters each analysis is run with (the panel's defaults). */
const params: Record<AnalysisId, Record<string, string>> = {
  worker_load: { limit: '100' },
  shelter_distance: { distance: '2000' },
  shelter_capacity: { level: 'village' },
  hazards_unmonitored: {},
  grids_without_worker: {},
  households_without_cadre: {},
  report_closure: { days: '30', target: '90' },
}

/**
 * The same totals computed directly: one statement each, no shared catalog code, the way someone would
 * write it by hand (shelter_distance: each household tested against the shelters in a box of the distance round it, by the GiST index).
 */
const reference: Record<AnalysisId, (p: string) => string> = {
  worker_load: (p) => `
    WITH w AS (SELECT coalesce(g.parent_id, g.id) AS grid, count(*) AS n FROM grid_workers gw JOIN grids g ON g.id = gw.grid_id
               WHERE gw.role IN ('网格员', '网格长') GROUP BY 1),
         h AS (SELECT grid_id AS grid, count(*) AS n FROM households GROUP BY 1),
         x AS (SELECT coalesce(h.n, 0) AS hh, coalesce(w.n, 0) AS wk FROM grids g LEFT JOIN h ON h.grid = g.id LEFT JOIN w ON w.grid = g.id
               WHERE g.kind = 'basic' AND g.code LIKE '${p}%')
    SELECT count(*) AS grids, sum(hh) AS households, sum(wk) AS workers, count(*) FILTER (WHERE hh > 100 * wk) AS over_grids,
           coalesce(sum(hh) FILTER (WHERE hh > 100 * wk), 0) AS over_households FROM x`,
  shelter_distance: (p) => `
    SELECT count(*) AS households, coalesce(sum(h.members), 0) AS people, coalesce(sum(h.vulnerable), 0) AS vulnerable
    FROM households h JOIN grids g ON g.id = h.grid_id
    WHERE g.code LIKE '${p}%' AND NOT EXISTS (
      SELECT 1 FROM shelters s WHERE s.certified_safe AND s.geom && ST_Expand(h.geom, 2000 / (111000.0 * cos(radians(ST_Y(h.geom)) + 0.01)))
        AND ST_DWithin(s.geom::geography, h.geom::geography, 2000, false))`,
  shelter_capacity: (p) => `
    WITH t AS (SELECT DISTINCT t.household_id FROM hazard_threats t JOIN hazard_sites s ON s.id = t.hazard_id WHERE s.status = 'active'),
         pp AS (SELECT substr(g.code, 1, 12) AS v, sum(h.members) AS n FROM t JOIN households h ON h.id = t.household_id JOIN grids g ON g.id = h.grid_id GROUP BY 1),
         cc AS (SELECT u.code AS v, sum(s.capacity) AS n FROM shelters s JOIN admin_units u ON u.id = s.village_id WHERE s.certified_safe GROUP BY 1),
         x AS (SELECT coalesce(pp.n, 0) AS people, coalesce(cc.n, 0) AS cap FROM admin_units u LEFT JOIN pp ON pp.v = u.code LEFT JOIN cc ON cc.v = u.code
               WHERE u.level = 'village' AND u.code LIKE '${p}%')
    SELECT count(*) AS units, sum(people) AS threatened_people, sum(cap) AS capacity, sum(greatest(people - cap, 0)) AS shortfall,
           count(*) FILTER (WHERE people > cap) AS short_units FROM x`,
  hazards_unmonitored: (p) => `
    SELECT count(*) AS sites, coalesce(sum(threatened_households), 0) AS threatened_households, coalesce(sum(threatened_people), 0) AS threatened_people
    FROM hazard_sites s WHERE s.status = 'active' AND s.admin_code LIKE '${p}%'
      AND NOT EXISTS (SELECT 1 FROM grid_workers m WHERE m.id = s.monitor_id AND m.role = '监测员')`,
  grids_without_worker: (p) => `
    SELECT count(*) AS grids, coalesce(sum(hh.n), 0) AS households, coalesce(sum(hh.people), 0) AS people
    FROM grids g LEFT JOIN (SELECT grid_id, count(*) AS n, sum(members) AS people FROM households GROUP BY 1) hh ON hh.grid_id = g.id
    WHERE g.kind = 'basic' AND g.code LIKE '${p}%' AND NOT EXISTS (
      SELECT 1 FROM grid_workers gw JOIN grids wg ON wg.id = gw.grid_id WHERE gw.role IN ('网格员', '网格长') AND coalesce(wg.parent_id, wg.id) = g.id)`,
  households_without_cadre: (p) => `
    SELECT count(*) AS households, coalesce(sum(h.members), 0) AS people, coalesce(sum(h.vulnerable), 0) AS vulnerable
    FROM households h JOIN grids g ON g.id = h.grid_id
    WHERE g.code LIKE '${p}%' AND NOT EXISTS (SELECT 1 FROM grid_workers c WHERE c.id = h.cadre_id AND c.role = '包保责任人')`,
  report_closure: (p) => `
    WITH r AS (SELECT substr(grid_code, 1, 12) AS v, count(*) AS filed, count(*) FILTER (WHERE state = 'closed') AS closed,
                      count(*) FILTER (WHERE state IN ('reported', 'acknowledged', 'dispatched') AND due_at <= now()) AS overdue
               FROM reports WHERE state <> 'merged' AND received_at >= now() - interval '30 days' GROUP BY 1),
         x AS (SELECT coalesce(r.filed, 0) AS filed, coalesce(r.closed, 0) AS closed, coalesce(r.overdue, 0) AS overdue
               FROM admin_units u LEFT JOIN r ON r.v = u.code WHERE u.level = 'village' AND u.code LIKE '${p}%')
    SELECT count(*) AS villages, sum(filed) AS filed, sum(closed) AS closed, sum(overdue) AS open_overdue,
           count(*) FILTER (WHERE filed > 0 AND 100.0 * closed / filed < 90) AS below FROM x`,
}

const seconds = async <T>(f: () => Promise<T>) => {
  const t0 = process.hrtime.bigint()
  const value = await f()
  return { value, s: Number(process.hrtime.bigint() - t0) / 1e9 }
}

/** The reference in a read-only transaction with JIT off, as runAnalysis runs (both sides alike). */
async function runReference(sql: Sql, text: string) {
  return transaction(sql, async (tx) => {
    await tx`SET TRANSACTION READ ONLY`
    await tx`SET LOCAL jit = off`
    const [row] = await tx.unsafe(text)
    return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)]))
  })
}

/** The machine is shared: its load says how far the seconds can be trusted (the ratios hold better: both sides share it). */
const loadAtStart = os.loadavg()[0]
const db = await connect({ quiet: true })
const sql = db.sql
try {
  const [{ households }] = await sql`SELECT count(*)::int AS households FROM households`
  const [city] = await sql`SELECT code, name, level FROM admin_units WHERE level = 'city'`
  // The largest county, and its largest township, by households.
  const [county] = await sql`
    SELECT u.code, u.name, u.level FROM admin_units u JOIN grids g ON starts_with(g.code, substr(u.code, 1, 6)) JOIN households h ON h.grid_id = g.id
    WHERE u.level = 'county' GROUP BY 1, 2, 3 ORDER BY count(*) DESC LIMIT 1`
  const [town] = await sql`
    SELECT u.code, u.name, u.level FROM admin_units u JOIN grids g ON starts_with(g.code, substr(u.code, 1, 9)) JOIN households h ON h.grid_id = g.id
    WHERE u.level = 'township' AND starts_with(u.code, ${(county.code as string).slice(0, 6)}) GROUP BY 1, 2, 3 ORDER BY count(*) DESC LIMIT 1`
  const units = [city, county, town] as { code: string; name: string; level: string }[]
  // A city-wide planner who may read names (masking is per row and cheap; this keeps it out of the figure).
  const user: SessionUser = { id: 0, username: 'bench', displayName: '基准测试', role: 'planner', unitCode: city.code as string, mustChangePassword: false }
  const ids = values.only ? (values.only.split(',') as AnalysisId[]) : analysisIds
  const results: { id: string; unit: string; level: string; rows: number; s: number; refS: number; partsS: number | null; parts: number }[] = []
  for (const id of ids) {
    const a = analyses[id]
    for (const unit of units) {
      const prefix = scopePrefix(unit.code)
      const layerParams = a.params.parse(params[id])
      const layer = analysisLayer(a, layerParams, prefix)
      const run = await seconds(() => runAnalysis(sql, user, a, layer, unit))
      const ref = await seconds(() => runReference(sql, reference[id](prefix)))
      for (const [k, v] of Object.entries(ref.value)) {
        if (run.value.totals[k] !== v) throw new Error(`${id} ${unit.code}: ${k} is ${run.value.totals[k]}, the reference says ${v}`)
      }
      // The job the panel runs: for shelter_distance city-wide, one county at a time (elsewhere the same run as above).
      let parts = 1
      const inParts = !a.inParts || unit.level !== 'city' ? null : await seconds(() => runInParts(sql, user, a, layerParams, unit, (_d, n) => void (parts = n)))
      if (inParts && JSON.stringify(inParts.value.totals) !== JSON.stringify(run.value.totals)) throw new Error(`${id} ${unit.code}: the job's totals differ`)
      const rows = Object.values(run.value.totals)[0]
      results.push({ id, unit: `${unit.name} ${unit.code}`, level: unit.level, rows, s: run.s, refS: ref.s, partsS: inParts?.s ?? null, parts })
      console.log(`${id} ${unit.level} ${unit.name}: ${run.s.toFixed(2)} s (reference ${ref.s.toFixed(2)} s${inParts ? `, as a job in ${parts} parts ${inParts.s.toFixed(2)} s` : ''}), ${rows}`)
    }
  }
  const md = [
    '# Analysis benchmark',
    '',
    `\`npm run bench:analysis\` on ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, load average ${loadAtStart.toFixed(1)} at the start and ${os.loadavg()[0].toFixed(1)} at the end;`,
    `${households} households. Each analysis as \`GET /api/analysis/{name}\` runs it (runAnalysis: totals, totals per child unit, the first 5,000 rows as GeoJSON),`,
    'once per area, then the reference: the same totals in one hand-written statement (scripts/bench-analysis.ts), timed right after it.',
    'Every total agreed with the reference (the benchmark stops otherwise). Ratio = analysis / reference: above 1 the analysis pays for its rows, per-unit totals and GeoJSON.',
    'As a job: what the planning panel runs for shelter_distance city-wide (POST /api/analysis/{name}/jobs, api/analysis/jobs.ts), one county at a time so that it can show counties done; same totals (checked).',
    'Elsewhere the job is one part, the same run as the analysis column: cutting worker_load into parts cost 5× (each part paid the fixed cost again; 49 s city-wide in 11 parts against 11 s whole, measured before the workers count was cut to the area).',
    `Parameters: ${Object.entries(params).map(([k, p]) => `${k} ${Object.entries(p).map(([n, v]) => `${n}=${v}`).join(' ') || '–'}`).join('; ')}.`,
    '',
    '| analysis | level | area | first total | analysis (s) | reference (s) | ratio | as a job (s, parts) |',
    '|---|---|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.id} | ${r.level} | ${r.unit} | ${r.rows} | ${r.s.toFixed(2)} | ${r.refS.toFixed(2)} | ${(r.s / r.refS).toFixed(2)} | ${r.partsS === null ? '–' : `${r.partsS.toFixed(2)} (${r.parts})`} |`),
    '',
  ].join('\n')
  const out = values.out ?? path.join(projectRoot, 'bench', 'analysis.md')
  fs.writeFileSync(out, md)
  console.log(`written ${out}`)
} finally {
  await db.close()
}
