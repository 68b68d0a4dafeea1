/**
 * Grid editor benchmark: preview of each kind of change to a village's cover,
 * and a save followed by re-rendering the grid tiles it touches, on a
 * full-city PostGIS. Reference in the same process: a bare query that reads
 * the village's grids and counts its households per grid by point-in-polygon
 * (the least any preview must do). Everything runs in one transaction that is
 * rolled back (the database is shared): nothing is written. The save's
 * NOTIFY is only delivered at commit, so "save to refreshed tiles" is timed
 * as save + rendering the z12–z14 grid tiles over the changed grids.
 * Usage: npm run bench:editor [-- --url postgres://… --out bench/grid-editor.md --runs 5]
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { projectRoot } from '../core/config.ts'
import type { Database, Sql } from '../db/connect.ts'
import { transaction, type Tx } from '../db/transaction.ts'
import { findVillage, loadCover, type Cover } from '../api/grid-editor/cover.ts'
import type { Operation } from '../api/grid-editor/input.ts'
import { preview } from '../api/grid-editor/preview.ts'
import { writeCover } from '../api/grid-editor/save.ts'
import { tileLayerByName } from '../tiles/registry.ts'
import { renderTile } from '../tiles/service.ts'
import { tilesCovering } from '../tiles/tile-math.ts'

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/gridwatch_full' },
    out: { type: 'string', default: path.join(projectRoot, 'bench/grid-editor.md') },
    runs: { type: 'string', default: '5' },
  },
})
const runs = Number(values.runs)
const sql = postgres(values.url!, { onnotice: () => {}, max: 1 }) as Sql
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = (x: number) => `${x.toFixed(0)} ms`

/** The current gw_settle_cover, whatever version of migration 007 the database has (rolled back with the rest). */
const migration = fs.readFileSync(path.join(projectRoot, 'data/migrations/007_grid_versions.sql'), 'utf8')
const settleFn = migration.slice(migration.indexOf('CREATE FUNCTION gw_settle_cover'), migration.indexOf('END $fn$;', migration.indexOf('CREATE FUNCTION gw_settle_cover')) + 9)

const lines: string[] = []
const rollback = new Error('rollback')
await transaction(sql, async (tx) => {
  await tx`SET LOCAL jit = off`
  const [has] = await tx`SELECT to_regclass('grid_cover_versions') IS NOT NULL AS t`
  if (!has.t) await tx.unsafe(migration)
  else {
    await tx.unsafe(`DROP FUNCTION IF EXISTS gw_settle_cover(geometry, jsonb, float8); DROP FUNCTION IF EXISTS gw_settle_cover(geometry, jsonb, float8, float8)`)
    await tx.unsafe(settleFn)
  }
  await tx`SELECT set_config('gridwatch.actor', '{"username": "cli:bench-editor", "role": "admin"}', true)`
  const [scale] = await tx`SELECT (SELECT count(*) FROM grids WHERE kind = 'basic')::int AS grids, (SELECT count(*) FROM households)::int AS households,
                                  postgis_lib_version() AS postgis, (SELECT setting FROM pg_settings WHERE name = 'server_version') AS pg`
  // The typical village (~22 grids, ~110 micro-grids) and the largest one.
  const villages = await tx`
    (SELECT v.code, count(*) FILTER (WHERE g.kind = 'basic')::int AS grids, count(*) FILTER (WHERE g.kind = 'micro')::int AS micro
     FROM admin_units v JOIN grids g ON g.village_id = v.id GROUP BY v.code
     ORDER BY abs(count(*) FILTER (WHERE g.kind = 'basic') - 22) + abs(count(*) FILTER (WHERE g.kind = 'micro') - 110) / 5, v.code LIMIT 1)
    UNION ALL
    (SELECT v.code, count(*) FILTER (WHERE g.kind = 'basic')::int, count(*) FILTER (WHERE g.kind = 'micro')::int
     FROM admin_units v JOIN grids g ON g.village_id = v.id GROUP BY v.code ORDER BY count(*) DESC, v.code LIMIT 1)`
  lines.push('# Grid editor benchmark', '', `${new Date().toISOString()} · ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}) · PostgreSQL ${scale.pg}, PostGIS ${scale.postgis}`,
    `· ${scale.grids} grids, ${scale.households} households (full city) · median of ${runs} runs, in one rolled-back transaction`, '',
    'Targets (issue #7): preview ≤ 200 ms; save to refreshed tiles ≤ 1 s.', '')
  for (const v of villages) {
    const village = await findVillage(tx, v.code as string)
    const cover = await loadCover(tx, village)
    const [hh] = await tx`SELECT count(*)::int AS n FROM households h JOIN grids g ON g.id = h.grid_id WHERE g.village_id = ${village.id}`
    lines.push(`## Village ${v.code}: ${v.grids} grids, ${v.micro} micro-grids, ${hh.n} households`, '')
    const ops = await operations(tx, cover)
    const ref: number[] = []
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint()
      await tx`SELECT g.code, count(h.id) FROM grids g LEFT JOIN households h ON ST_Intersects(g.geom, h.geom)
               WHERE g.village_id = ${village.id} AND g.kind = 'basic' GROUP BY g.code`
      ref.push(ms(t0))
    }
    lines.push('| change | preview (median) | min – max | households moved | reference (grids + PIP counts) |', '|---|---|---|---|---|')
    for (const [name, op] of ops) {
      const times: number[] = []
      let moved = 0
      for (let i = 0; i < runs; i++) {
        const t0 = process.hrtime.bigint()
        const p = await preview(tx, cover, op)
        times.push(ms(t0))
        moved = p.flows.reduce((a, f) => a + f.households, 0)
      }
      lines.push(`| ${name} | ${fmt(median(times))} | ${fmt(Math.min(...times))} – ${fmt(Math.max(...times))} | ${moved} | ${fmt(median(ref))} |`)
      console.log(v.code, name, fmt(median(times)))
    }
    // Save (inside a savepoint, undone each run) + re-rendering the grid tiles over the changed grids.
    const [, reshape] = ops[0]
    const saves: number[] = []
    const tileTimes: number[] = []
    let tiles = 0
    for (let i = 0; i < runs; i++) {
      await tx.savepoint(async (sp) => {
        const t0 = process.hrtime.bigint()
        const p = await preview(sp, cover, reshape)
        const saved = await writeCover(sp, cover, p, reshape)
        const t1 = process.hrtime.bigint()
        saves.push(ms(t0))
        const changed = [...p.changed, ...p.added].map((k) => saved.codes[k] ?? k)
        const [b] = await sp`SELECT ST_XMin(e) AS w, ST_YMin(e) AS s, ST_XMax(e) AS e, ST_YMax(e) AS n FROM (SELECT ST_Extent(geom) AS e FROM grids WHERE code = ANY(${changed})) x`
        const db = { sql: sp } as unknown as Database
        const layer = tileLayerByName.get('grids')!
        const coords = [12, 13, 14].flatMap((z) => tilesCovering([b.w, b.s, b.e, b.n], z))
        for (const t of coords) await renderTile(db, layer, t, 'st_asmvt')
        tiles = coords.length
        tileTimes.push(ms(t1))
        throw rollback
      }).catch((e) => {
        if (e !== rollback) throw e
      })
    }
    const total = saves.map((s, i) => s + tileTimes[i])
    lines.push('', `Save of the reshape (preview again, geometries, households, roll-ups, version row) then ${tiles} grid tiles (z12–z14) re-rendered:`,
      `save ${fmt(median(saves))}, tiles ${fmt(median(tileTimes))}, **save to refreshed tiles ${fmt(median(total))}** (min ${fmt(Math.min(...total))}, max ${fmt(Math.max(...total))}).`, '')
    console.log(v.code, 'save+tiles', fmt(median(total)))
  }
  throw rollback
}).catch((e) => {
  if (e !== rollback) throw e
})
await sql.end()
fs.mkdirSync(path.dirname(values.out!), { recursive: true })
fs.writeFileSync(values.out!, lines.join('\n') + '\n')
console.log(`wrote ${values.out}`)

/** One change of each kind, made from the village's own geometry. */
async function operations(tx: Tx, cover: Cover): Promise<[string, Operation][]> {
  const basic = cover.grids.filter((g) => g.kind === 'basic')
  const code = basic[0].code!
  const [grow] = await tx`SELECT ST_AsGeoJSON(ST_Intersection(ST_Buffer(g.geom::geography, 150)::geometry, v.geom), 10)::json AS g
                          FROM grids g JOIN admin_units v ON v.id = g.village_id WHERE g.code = ${code}`
  const [line] = await tx`SELECT ST_AsGeoJSON(ST_MakeLine(ST_MakePoint(ST_XMin(geom) - 0.001, y), ST_MakePoint(ST_XMax(geom) + 0.001, y)))::json AS l
                          FROM grids, LATERAL (SELECT ST_Y(ST_PointOnSurface(geom)) AS y) c WHERE code = ${basic[1].code}`
  const [pair] = await tx`SELECT a.code AS a, b.code AS b FROM grids a JOIN grids b ON a.village_id = b.village_id AND a.code < b.code
                          WHERE a.village_id = ${cover.village.id} AND a.kind = 'basic' AND b.kind = 'basic' AND ST_Relate(a.geom, b.geom, 'F***1****')
                          ORDER BY a.code, b.code LIMIT 1`
  const [spot] = await tx`SELECT ST_AsGeoJSON(ST_Intersection(ST_Buffer(h.geom::geography, 200)::geometry, v.geom), 10)::json AS g
                          FROM households h JOIN grids g ON g.id = h.grid_id JOIN admin_units v ON v.id = g.village_id
                          WHERE g.village_id = ${cover.village.id} ORDER BY h.id LIMIT 1`
  return [
    ['reshape (grow 150 m)', { op: 'reshape', grid: code, geometry: grow.g }],
    ['split by a line', { op: 'split', grid: basic[1].code!, line: line.l }],
    ['merge two neighbours', { op: 'merge', grids: [pair.a, pair.b] }],
    ['delete one', { op: 'delete', grid: basic.at(-1)!.code! }],
    ['add one (200 m round)', { op: 'add', geometry: spot.g }],
  ]
}
