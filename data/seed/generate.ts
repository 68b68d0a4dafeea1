import type postgres from 'postgres'
import type { Sql } from '../../db/connect.ts'
import { allocate } from './allocate.ts'
import { loadCounties } from './counties.ts'
import { givenChars, placeChars, surnames } from './names.ts'
import { cityTotals, type Scale } from './scales.ts'
import { ZHAOTONG, type Prefecture } from './prefectures.ts'

export interface SeedOptions {
  scale: Scale
  seed: number
  /** Counties generated at once, each on its own connection (1 for the embedded database). */
  parallel?: number
  onProgress?: (message: string) => void
}

export interface SeedSummary {
  counties: number
  townships: number
  villages: number
  grids: number
  microGrids: number
  households: number
  hazardSites: number
  shelters: number
  routes: number
  gridWorkers: number
  seconds: number
  /** Seconds spent in each stage, summed over counties (with two workers, over both): where the time goes. */
  stages: Record<string, number>
}

/**
 * A progress reporter that also clocks its stages: each call ends the stage
 * before it; `stop()` ends the last. Stages are keyed by their English part
 * (after " / ") with counts stripped, so that every county adds to the same one.
 */
function stageClock(stages: Map<string, number>, say: (message: string) => void) {
  let current: { key: string; at: number } | undefined
  const stop = () => {
    if (current) stages.set(current.key, (stages.get(current.key) ?? 0) + performance.now() - current.at)
    current = undefined
  }
  return Object.assign((message: string) => {
    stop()
    current = { key: (message.split(' / ')[1] ?? message).replace(/^[0-9]+ /, ''), at: performance.now() }
    say(message)
  }, { stop })
}

type Conn = postgres.ReservedSql<Record<string, unknown>>

/** Wipes the domain tables and fills them with synthetic Zhaotong data. */
export async function seed(sql: Sql, opts: SeedOptions): Promise<SeedSummary> {
  const started = Date.now()
  const say = opts.onProgress ?? (() => {})
  const { scale } = opts
  if (!Number.isInteger(opts.seed) || opts.seed < 1 || opts.seed > 1_000_000) {
    throw new Error(`--seed 须为 1–1000000 的整数 / --seed must be a whole number from 1 to 1,000,000, got ${opts.seed}`)
  }
  const counties = loadCounties()
  const prefectures = scale.prefectures ?? [ZHAOTONG]
  const stages = new Map<string, number>()

  const c = await sql.reserve()
  try {
    await quietSession(c, (opts.parallel ?? 1) > 1)

    say('清空旧数据 / clearing old data')
    await c`TRUNCATE evac_households, evac_status_log, evac_orders, live_events, audit_log, visits, routes, shelters, hazard_threats, hazard_sites, households,
            grid_workers, grids, admin_units, household_rollups,
            rain_readings, rain_forecasts, rain_warnings, rain_state, tasks, rain_events, rain_stations, rain_units, rain_weights
            RESTART IDENTITY CASCADE`
    await c`UPDATE rain_cache SET stale = true, state_as_of = NULL`

    say(`导入 ${prefectures.length * counties.length} 个县界（GCJ-02 → WGS84）/ loading ${prefectures.length * counties.length} county outlines (GCJ-02 → WGS84)`)
    for (const p of prefectures) await insertCityAndCounties(c, counties, p, opts.seed)

    // Every prefecture is a copy of Zhaotong: its counties get the counts of the Zhaotong county they copy.
    const all = await c<{ id: number; code: string; name: string; prefecture: string }[]>`
      SELECT k.id, substr(k.code, 1, 6) AS code, k.name, p.name AS prefecture
      FROM admin_units k JOIN admin_units p ON p.id = k.parent_id WHERE k.level = 'county' ORDER BY k.id`
    const chosen = scale.counties ? all.filter((k) => scale.counties!.includes(k.code)) : all
    if (scale.counties && chosen.length !== scale.counties.length) {
      throw new Error(`unknown county code in scale ${scale.name}: ${scale.counties.join(',')}`)
    }
    const areas = await c<{ id: number; code: string; km2: number }[]>`
      SELECT id, substr(code, 1, 6) AS code, ST_Area(geom::geography) / 1e6 AS km2
      FROM admin_units WHERE level = 'county' AND code LIKE ${ZHAOTONG.prefix + '%'} ORDER BY code`
    const weights = areas.map((a) => a.km2)
    const perCounty = (total: number, min = 1) => {
      const shares = allocate(total, weights, 1)
      const byZhaotong = new Map(areas.map((a, i) => [a.code.slice(4), Math.max(min, Math.round(shares[i] * scale.density))]))
      return new Map(all.map((k) => [k.code, byZhaotong.get(k.code.slice(4))!]))
    }
    const want: Wanted = {
      townships: perCounty(cityTotals.townships, scale.minTownships),
      villages: perCounty(cityTotals.villages),
      grids: perCounty(cityTotals.grids),
      microGrids: perCounty(cityTotals.microGrids),
      households: perCounty(cityTotals.households),
      hazardSites: perCounty(cityTotals.hazardSites),
    }

    // Counties are independent: on a real server two workers (one per core),
    // each on its own connection with its own scratch tables, share them.
    const queue = [...chosen.entries()]
    const workers = Math.min(opts.parallel ?? 1, queue.length)
    const finish = stageClock(stages, say)
    // With two workers, a county's transaction must not wait on the other's:
    // the households' indexes and keys are set aside once around the whole
    // load (rebuilt after on both cores, see setAside for why), and the
    // triggers of hazard_sites are off (each insert would update the city's
    // row in hazard_rollups and hold it until its county commits, so that the
    // other worker waits on it; the roll-ups are computed once at the end).
    const aside: Aside[] = []
    let loaded = false
    try {
      if (workers > 1) {
        finish('暂时移除户表索引 / setting the household indexes aside')
        aside.push(await takeAside(c, 'households', { indexes: true, keys: true, unique: true }))
        aside.push(await takeAside(c, 'hazard_sites', { indexes: false, keys: false }))
        finish.stop()
      }
      // All workers settle before anything is put back: when one county
      // failed, Promise.all went on to the `finally` while the other worker
      // was still writing, and putting the keys back deadlocked with it (the
      // error then reported was that deadlock, not the county's). The others
      // stop after their current county.
      const settled = await Promise.allSettled(
        Array.from({ length: workers }, async () => {
          const w = await sql.reserve()
          try {
            // A real server (parallel > 1) even when one county leaves one worker.
            await quietSession(w, (opts.parallel ?? 1) > 1)
            await createScratchTables(w, opts.seed)
            for (let item = queue.shift(); item; item = queue.shift()) {
              const [i, county] = item
              const where = prefectures.length > 1 ? `${county.prefecture}${county.name}` : county.name
              const step = stageClock(stages, (what) => say(`[${i + 1}/${chosen.length}] ${where}: ${what}`))
              await inTransaction(w, (tx) => seedCounty(tx, county.code, county.id, want, opts.seed, step, workers === 1))
              step.stop()
            }
          } catch (err) {
            queue.length = 0
            throw err
          } finally {
            await w.unsafe(`DROP TABLE IF EXISTS ${scratchTables}`).catch(() => {})
            await w`RESET ALL`.catch(() => {})
            w.release()
          }
        }),
      )
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')
      if (failed) throw failed.reason
      loaded = true
    } finally {
      if (aside.length > 0) {
        // Put back even after a failure: the tables must keep their indexes, keys and triggers.
        finish('重建户表索引 / rebuilding the household indexes')
        const helper = await sql.reserve()
        try {
          await quietSession(helper, true)
          for (const a of aside) await putBack([c, helper], a)
        } finally {
          await helper`RESET ALL`.catch(() => {})
          helper.release()
        }
        if (loaded) {
          finish('地灾统计 / hazard roll-ups')
          await c`SELECT refresh_hazard_rollups()`
        }
        finish.stop()
      }
    }

    finish('汇总统计 / computing roll-ups')
    await c`SELECT refresh_household_rollups()`
    finish('更新统计信息 / analyze')
    await c`ANALYZE`
    finish.stop()
    const [s] = await c<SeedSummary[]>`
      SELECT (SELECT count(*) FROM admin_units WHERE level = 'county')::int AS counties,
             (SELECT count(*) FROM admin_units WHERE level = 'township')::int AS townships,
             (SELECT count(*) FROM admin_units WHERE level = 'village')::int AS villages,
             (SELECT count(*) FROM grids WHERE kind = 'basic')::int AS grids,
             (SELECT count(*) FROM grids WHERE kind = 'micro')::int AS "microGrids",
             (SELECT count(*) FROM households)::int AS households,
             (SELECT count(*) FROM hazard_sites)::int AS "hazardSites",
             (SELECT count(*) FROM shelters)::int AS shelters,
             (SELECT count(*) FROM routes)::int AS routes,
             (SELECT count(*) FROM grid_workers)::int AS "gridWorkers"`
    return { ...s, seconds: (Date.now() - started) / 1000, stages: Object.fromEntries([...stages].map(([k, v]) => [k, Math.round(v) / 1000])) }
  } finally {
    await c.unsafe(`DROP TABLE IF EXISTS ${scratchTables}`).catch(() => {})
    await c`RESET ALL`.catch(() => {})
    c.release()
  }
}

type Wanted = Record<'townships' | 'villages' | 'grids' | 'microGrids' | 'households' | 'hazardSites', Map<string, number>>

/** `alone`: no other county is written meanwhile, so the households' indexes may be set aside (setAside). */
async function seedCounty(tx: Conn, code: string, countyId: number, want: Wanted, seedValue: number, step: (what: string) => void, alone: boolean) {
  step(`${want.townships.get(code)} 个乡镇 / townships`)
  await subdivideTownships(tx, countyId, want.townships.get(code)!, seedValue)
  step(`${want.villages.get(code)} 个村 / villages`)
  const villages = await subdivideVillages(tx, countyId, want.villages.get(code)!, seedValue)
  const villageHouseholds = allocate(
    want.households.get(code)!,
    villages.map((v) => v.km2 * (0.5 + v.r)),
    villages.length,
  )
  step(`${want.grids.get(code)} 个网格 / grids`)
  await subdivideGrids(tx, villages, villageHouseholds, want.grids.get(code)!, seedValue)
  step(`${want.households.get(code)} 户，聚居点 / households in settlements`)
  await placeHouseholds(tx, countyId, seedValue)
  step(`${want.microGrids.get(code)} 个微网格 / micro-grids`)
  await makeMicroGrids(tx, countyId, want.microGrids.get(code)!, seedValue)
  step('网格员 / grid workers')
  await addGridWorkers(tx, countyId, seedValue)
  step(`${want.hazardSites.get(code)} 个地灾隐患点 / hazard sites`)
  await addHazardSites(tx, countyId, villages, want.hazardSites.get(code)!, seedValue)
  step('写入户台账 / writing household ledgers')
  await insertHouseholds(tx, countyId, seedValue, alone)
  step('避险点与转移路线 / shelters and routes')
  await addSheltersAndRoutes(tx, countyId, seedValue)
  await tx`TRUNCATE seed_settlements, seed_households, seed_alloc, seed_micro_of, seed_threats, seed_threat_totals`
}

/**
 * Runs a bulk insert into `table` with its secondary indexes, foreign keys and
 * user triggers set aside, and puts them back after, in the same transaction.
 * PGlite pays tens of µs for every PostGIS call, and a GiST index kept up row
 * by row calls its penalty function many times a row where CREATE INDEX sorts
 * once (seen on the embedded database: 173,000 households 80 s with them, 24 s
 * without and rebuilt, at load 12 on 2 cores). The ALTER TABLEs lock the table
 * until commit: only when one county is written at a time. The seed's own
 * switches (gridwatch.skip_audit, skip_rollups) already make the triggers do
 * nothing here; set aside, they are not even called.
 */
async function setAside(tx: Conn, table: string, work: () => Promise<void>) {
  const aside = await takeAside(tx, table, { indexes: true, keys: true, unique: true })
  await work()
  await putBack([tx], aside)
}

/** What takeAside dropped or switched off, to be put back as it was. */
interface Aside {
  table: string
  indexes: { name: string; def: string }[]
  keys: { name: string; def: string }[]
  /** Unique constraints: `def` makes their index, then the constraint is put back on it. */
  uniques: { name: string; def: string }[]
}

/**
 * Drops `table`'s secondary indexes, foreign keys and unique constraints (each
 * when asked; never the primary key) and switches its user triggers off. In a
 * transaction (setAside) or, for the parallel load on a real server, once
 * around the whole load (seed): then each statement commits on its own, and
 * the seed puts them back in its `finally`. Unique constraints: the
 * households' code, a text key kept up row by row, was 1.0 s of the 2.2 s it
 * took to insert the demo county's 173,000 households; nothing in the load
 * relies on it (the codes are made distinct), and it is checked when put back.
 */
async function takeAside(c: Conn, table: string, what: { indexes: boolean; keys: boolean; unique?: boolean }): Promise<Aside> {
  const indexes = !what.indexes ? [] : await c<{ name: string; def: string }[]>`
    SELECT quote_ident(c.relname) AS name, pg_get_indexdef(i.indexrelid) AS def
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE i.indrelid = ${table}::regclass AND NOT i.indisprimary AND NOT i.indisunique`
  const keys = !what.keys ? [] : await c<{ name: string; def: string }[]>`
    SELECT quote_ident(conname) AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint
    WHERE conrelid = ${table}::regclass AND contype = 'f'`
  const uniques = !what.unique ? [] : await c<{ name: string; def: string }[]>`
    SELECT quote_ident(conname) AS name, pg_get_indexdef(conindid) AS def FROM pg_constraint
    WHERE conrelid = ${table}::regclass AND contype = 'u'`
  for (const i of indexes) await c.unsafe(`DROP INDEX ${i.name}`)
  for (const k of keys) await c.unsafe(`ALTER TABLE ${table} DROP CONSTRAINT ${k.name}`)
  for (const u of uniques) await c.unsafe(`ALTER TABLE ${table} DROP CONSTRAINT ${u.name}`)
  await c.unsafe(`ALTER TABLE ${table} DISABLE TRIGGER USER`)
  return { table, indexes, keys, uniques }
}

/**
 * Puts back what takeAside set aside. The indexes (the unique ones first: a
 * text sort, the longest) are built on all of `conns` at once (CREATE INDEX
 * takes a SHARE lock, which does not block another CREATE INDEX: one a core),
 * then the unique constraints take their index over and the foreign keys are
 * checked, one after the other (each ALTER TABLE locks out the others).
 */
async function putBack(conns: Conn[], aside: Aside) {
  const [first] = conns
  await first.unsafe(`ALTER TABLE ${aside.table} ENABLE TRIGGER USER`)
  const queue = [...aside.uniques, ...aside.indexes]
  await Promise.all(conns.map(async (c) => {
    for (let i = queue.shift(); i; i = queue.shift()) await c.unsafe(i.def)
  }))
  for (const u of aside.uniques) await first.unsafe(`ALTER TABLE ${aside.table} ADD CONSTRAINT ${u.name} UNIQUE USING INDEX ${u.name}`)
  for (const k of aside.keys) await first.unsafe(`ALTER TABLE ${aside.table} ADD CONSTRAINT ${k.name} ${k.def}`)
}

/**
 * Synthetic rows are generated, not edited by anyone: the audit triggers skip
 * them (a row each would double the full seed). Reset before release.
 * `server`: a real PostgreSQL (the caller asked for parallel workers), not PGlite.
 */
async function quietSession(c: Conn, server = false) {
  await c`SET client_min_messages = warning`
  await c`SET gridwatch.skip_audit = 'on'`
  // Each of the seed's statements runs once a county, and PostGIS functions
  // are costed so high that every one of them (and every query inside
  // gw_subdivide, at each call) crossed the JIT thresholds: compiling took
  // longer than running (the demo county's ledger statement: 1.25 s of 2.4 s;
  // gw_subdivide on its villages 2.1 s with JIT, 0.75 s without). PGlite,
  // built without JIT, takes the setting all the same.
  await c`SET jit = off`
  if (!server) return
  // A seed that fails is simply run again: its commits need not wait for the
  // WAL to reach the disk (the WAL is still written, so the database stays
  // consistent and the replica gets everything). A larger maintenance_work_mem
  // sorts a household index in memory rather than in temporary files.
  await c`SET synchronous_commit = off`
  await c`SET maintenance_work_mem = '256MB'`
  // The default 4 MB sent a county's sorts (a few hundred thousand rows) to
  // temporary files. Not on PGlite, whose memory is the Node process's.
  await c`SET work_mem = '64MB'`
}

/** The scratch tables of a seeding session (temporary: each connection has its own). */
const scratchTables = 'seed_settlements, seed_households, seed_alloc, seed_micro_seeds, seed_micro_of, seed_threats, seed_threat_totals'

/** A transaction on the one reserved connection that holds the temp tables. */
async function inTransaction(c: Conn, work: (tx: Conn) => Promise<void>) {
  await c`BEGIN`
  try {
    await work(c)
    await c`COMMIT`
  } catch (err) {
    await c`ROLLBACK`.catch(() => {})
    throw err
  }
}

async function createScratchTables(c: Conn, seedValue: number) {
  await c.unsafe(`DROP TABLE IF EXISTS ${scratchTables}`)
  await c`CREATE TEMP TABLE seed_alloc (unit_id int PRIMARY KEY, n int NOT NULL, households int)`
  await c`CREATE TEMP TABLE seed_settlements (id serial PRIMARY KEY, grid_id int NOT NULL, village_id int NOT NULL,
            center geometry(Point, 4326) NOT NULL, n int NOT NULL, radius_m double precision NOT NULL)`
  // Written once and never updated (an update rewrites the row, its generated column and its index entries):
  // what is learnt later about a household goes to its own table, joined when the ledger is written.
  // Its indexes are made after the insert (placeHouseholds).
  await c`CREATE TEMP TABLE seed_households (grid_id int NOT NULL, settlement_id int NOT NULL, seq int NOT NULL,
            geom geometry(Point, 4326) NOT NULL,
            geom_3857 geometry(Point, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED)`
  await c`CREATE TEMP TABLE seed_micro_of (settlement_id int NOT NULL, seq int NOT NULL, micro_grid_id int)`
  // Which hazard site threatens which household, found on the scratch table's own index
  // (the households' indexes may be set aside), and per site its totals.
  await c`CREATE TEMP TABLE seed_threats (hazard_id int NOT NULL, settlement_id int NOT NULL, seq int NOT NULL)`
  await c`CREATE TEMP TABLE seed_threat_totals (hazard_id int PRIMARY KEY, households int NOT NULL, people int NOT NULL)`
  // Name pickers with the word lists inlined as constants: a table lookup per
  // call costs minutes at 1.8 M households.
  const arr = (words: string[]) => `ARRAY[${words.map((w) => `'${w}'`).join(',')}]`
  const pick = (words: string[], r: string) => `(${arr(words)})[1 + floor(${r} * ${words.length})::int]`
  const rnd = (suffix: string) => `gw_rand(${seedValue}, key || '${suffix}')`
  await c.unsafe(`CREATE OR REPLACE FUNCTION pg_temp.person(key text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT ${pick(surnames, rnd('s'))} || ${pick(givenChars, rnd('g1'))}
      || CASE WHEN ${rnd('l')} < 0.7 THEN ${pick(givenChars, rnd('g2'))} ELSE '' END $$`)
  await c.unsafe(`CREATE OR REPLACE FUNCTION pg_temp.place(key text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT ${pick(placeChars, rnd('p1'))} || ${pick(placeChars, rnd('p2'))} $$`)
  // How far a hazard site threatens, by its scale, in EPSG:3857 units at its latitude.
  await c`CREATE OR REPLACE FUNCTION pg_temp.threat_radius(scale text, at geometry) RETURNS double precision
          LANGUAGE sql IMMUTABLE AS $$ SELECT (CASE scale WHEN '小型' THEN 150 WHEN '中型' THEN 250 WHEN '大型' THEN 400
                                             ELSE 600 END) / cos(radians(ST_Y(at))) $$`
  await c.unsafe(`CREATE OR REPLACE FUNCTION pg_temp.phone(key text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT '1' || (ARRAY['3','5','8','9'])[1 + floor(${rnd('p0')} * 4)::int]
      || lpad(floor(${rnd('p')} * 1e9)::bigint::text, 9, '0') $$`)
}

/**
 * A prefecture and its counties: Zhaotong's outlines moved by (dx, dy). The
 * copies' counties get made-up names (the outlines are Zhaotong's, not theirs)
 * of the same kind (区, 市 or 县: district seats have 街道, see subdivideTownships).
 */
async function insertCityAndCounties(c: Conn, counties: ReturnType<typeof loadCounties>, p: Prefecture, seedValue: number) {
  const copy = p.prefix !== ZHAOTONG.prefix
  const used = new Set<string>()
  const rows = counties.map((k) => ({
    code: `${p.prefix}${k.code.slice(4)}000000`,
    name: copy ? madeUpCountyName(`${seedValue}:${p.prefix}${k.code.slice(4)}`, k.name.slice(-1), used) : k.name,
    geom: JSON.stringify(k.geometry),
  }))
  await c`
    WITH k AS (
      SELECT code, name, ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Translate(ST_SetSRID(ST_GeomFromGeoJSON(geom), 4326), ${p.dx}, ${p.dy})), 3)) AS geom
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::text::jsonb) AS x(code text, name text, geom text)
    ), city AS (
      INSERT INTO admin_units (code, name, level, parent_id, geom, label_point)
      SELECT ${p.prefix + '00000000'}, ${p.name}, 'city', NULL, ST_Multi(ST_Union(geom)), ST_PointOnSurface(ST_Union(geom)) FROM k
      RETURNING id
    )
    INSERT INTO admin_units (code, name, level, parent_id, geom, label_point)
    SELECT k.code, k.name, 'county', city.id, k.geom, ST_PointOnSurface(k.geom) FROM k, city ORDER BY k.code`
}

/** Two place characters and the kind (县/区/市), from a hash of `key`; distinct within `used`. */
function madeUpCountyName(key: string, kind: string, used: Set<string>): string {
  for (let salt = 0; ; salt++) {
    let h = 2166136261
    for (const ch of `${key}#${salt}`) h = Math.imul(h ^ ch.codePointAt(0)!, 16777619) >>> 0
    const name = placeChars[h % placeChars.length] + placeChars[Math.floor(h / placeChars.length) % placeChars.length] + kind
    if (!used.has(name)) {
      used.add(name)
      return name
    }
  }
}

async function subdivideTownships(tx: Conn, countyId: number, n: number, seedValue: number) {
  // District seats (区/市) have 街道 (codes 001–099) near the centre; the rest
  // are towns 镇 (100–199) and townships 乡 (200–399).
  await tx`
    WITH county AS (SELECT * FROM admin_units WHERE id = ${countyId}),
    parts AS (
      SELECT s.geom, s.label_point,
             row_number() OVER (ORDER BY ST_Distance(s.label_point, county.label_point), ST_X(s.label_point)) AS near_rank,
             county.code AS ccode, county.name AS cname
      FROM county, gw_subdivide(county.geom, ${n}, ${seedValue * 1000 + (countyId % 1000)}, 2) s
    ),
    typed AS (
      SELECT *, CASE
        WHEN (cname LIKE '%区' OR cname LIKE '%市') AND near_rank <= greatest(1, round(${n} * 0.2)) THEN 0
        WHEN near_rank = 1 OR gw_rand(${seedValue}, ccode || 't' || near_rank) < 0.6 THEN 100
        ELSE 200 END AS base
      FROM parts
    ),
    numbered AS (
      SELECT *, row_number() OVER (PARTITION BY base ORDER BY ST_Y(label_point) DESC, ST_X(label_point)) AS num FROM typed
    )
    INSERT INTO admin_units (code, name, level, parent_id, geom, label_point)
    SELECT substr(ccode, 1, 6) || lpad((base + num)::text, 3, '0') || '000',
           pg_temp.place(ccode || 'T' || near_rank) || CASE base WHEN 0 THEN '街道' WHEN 100 THEN '镇' ELSE '乡' END,
           'township', ${countyId}, geom, label_point
    FROM numbered`
}

interface VillageRow {
  id: number
  km2: number
  r: number
}

async function subdivideVillages(tx: Conn, countyId: number, total: number, seedValue: number): Promise<VillageRow[]> {
  const towns = await tx<{ id: number; km2: number }[]>`
    SELECT id, ST_Area(geom::geography) / 1e6 AS km2 FROM admin_units WHERE parent_id = ${countyId} ORDER BY code`
  const counts = allocate(total, towns.map((t) => t.km2), 1)
  await setAlloc(tx, towns.map((t, i) => ({ unit_id: t.id, n: counts[i] })))
  // 街道 hold 社区 (codes 001–199), towns and townships hold 村 (200–399).
  await tx`
    WITH parts AS (
      SELECT t.id AS tid, t.code AS tcode, s.geom, s.label_point,
             row_number() OVER (PARTITION BY t.id ORDER BY ST_Y(s.label_point) DESC, ST_X(s.label_point)) AS num
      FROM admin_units t JOIN seed_alloc a ON a.unit_id = t.id,
           gw_subdivide(t.geom, a.n, ${seedValue} * 7919 + t.id, 1) s
    )
    INSERT INTO admin_units (code, name, level, parent_id, geom, label_point)
    SELECT substr(tcode, 1, 9) || lpad((CASE WHEN substr(tcode, 7, 3) < '100' THEN 0 ELSE 200 END + num)::text, 3, '0'),
           pg_temp.place(tcode || 'V' || num) || CASE WHEN substr(tcode, 7, 3) < '100' THEN '社区' ELSE '村' END,
           'village', tid, geom, label_point
    FROM parts`
  return tx<VillageRow[]>`
    SELECT v.id, ST_Area(v.geom::geography) / 1e6 AS km2, gw_rand(${seedValue}, v.code) AS r
    FROM admin_units v JOIN admin_units t ON t.id = v.parent_id
    WHERE t.parent_id = ${countyId} ORDER BY v.code`
}

async function setAlloc(tx: Conn, rows: { unit_id: number; n: number; households?: number }[]) {
  await tx`TRUNCATE seed_alloc`
  await tx`INSERT INTO seed_alloc (unit_id, n, households)
           SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::text::jsonb) AS x(unit_id int, n int, households int)`
}

async function subdivideGrids(tx: Conn, villages: VillageRow[], households: number[], total: number, seedValue: number) {
  // Grids follow people (≈60–100 households a grid), so villages get grids by households.
  const counts = allocate(total, households, 1)
  await setAlloc(tx, villages.map((v, i) => ({ unit_id: v.id, n: counts[i], households: households[i] })))
  // Codes run west→east within bands north→south, as the field numbers them.
  await tx`
    WITH parts AS (
      SELECT v.id AS vid, v.code AS vcode, v.name AS vname, s.geom, s.label_point,
             row_number() OVER (PARTITION BY v.id ORDER BY floor(ST_Y(s.label_point) / 0.01) DESC, ST_X(s.label_point)) AS num
      FROM admin_units v JOIN seed_alloc a ON a.unit_id = v.id,
           gw_subdivide(v.geom, a.n, ${seedValue} * 104729 + v.id, 1) s
    )
    INSERT INTO grids (code, name, kind, village_id, geom, label_point)
    SELECT vcode || lpad(num::text, 3, '0'), vname || '第' || num || '网格', 'basic', vid, geom, label_point FROM parts`
}

async function placeHouseholds(tx: Conn, countyId: number, seedValue: number) {
  // Each village's households are shared among its grids with some spread,
  // then placed in 1–3 settlements (natural villages) per grid.
  await tx`
    WITH g AS (
      SELECT g.id, g.village_id, g.code, g.geom, a.households AS vh,
             0.6 + 0.8 * gw_rand(${seedValue}, g.code || 'w') AS w
      FROM grids g JOIN seed_alloc a ON a.unit_id = g.village_id
    ), share AS (
      SELECT *, round(vh * w / sum(w) OVER (PARTITION BY village_id))::int AS hh FROM g
    ), centers AS (
      SELECT s.id, s.village_id, s.code, s.hh, s.geom, d.path[1] AS k,
             1 + (s.hh > 50)::int + (s.hh > 100)::int AS nk, d.geom AS center
      FROM share s, ST_Dump(ST_GeneratePoints(s.geom, 1 + (s.hh > 50)::int + (s.hh > 100)::int,
                                              ${seedValue} * 31 + s.id)) d
      WHERE s.hh > 0
    )
    INSERT INTO seed_settlements (grid_id, village_id, center, n, radius_m)
    SELECT id, village_id, center,
           hh / nk + CASE WHEN k <= hh % nk THEN 1 ELSE 0 END,
           60 + 140 * gw_rand(${seedValue}, code || 'r' || k)
    FROM centers`
  await tx`DROP INDEX IF EXISTS seed_households_geom_3857, seed_households_grid`
  // OFFSET 0: the buffer and its clip once a settlement, not again at each mention of area.
  await tx`
    INSERT INTO seed_households (grid_id, settlement_id, seq, geom)
    SELECT s.grid_id, s.id, d.path[1], d.geom
    FROM seed_settlements s
    JOIN grids g ON g.id = s.grid_id,
    LATERAL (SELECT ST_CollectionExtract(ST_Intersection(g.geom, ST_Buffer(s.center::geography, s.radius_m)::geometry), 3) AS area OFFSET 0) a,
    LATERAL ST_Dump(ST_GeneratePoints(CASE WHEN ST_IsEmpty(a.area) THEN g.geom ELSE a.area END, s.n, ${seedValue} * 17 + s.id)) d
    WHERE s.n > 0`
  await tx`CREATE INDEX seed_households_geom_3857 ON seed_households USING gist (geom_3857)`
  await tx`CREATE INDEX seed_households_grid ON seed_households (grid_id)`
  void countyId
}

async function makeMicroGrids(tx: Conn, countyId: number, total: number, seedValue: number) {
  const grids = await tx<{ id: number; hh: number }[]>`
    SELECT g.id, count(h.*)::int AS hh
    FROM grids g JOIN admin_units v ON v.id = g.village_id JOIN admin_units t ON t.id = v.parent_id
    LEFT JOIN seed_households h ON h.grid_id = g.id
    WHERE t.parent_id = ${countyId} AND g.kind = 'basic'
    GROUP BY g.id ORDER BY g.id`
  const counts = allocate(total, grids.map((g) => g.hh), 1)
  await setAlloc(tx, grids.map((g, i) => ({ unit_id: g.id, n: counts[i], households: g.hh })))
  // Micro-grids are drawn around people: seeds are k-means centres of the
  // grid's households (random points where a grid has too few households).
  await tx`DROP TABLE IF EXISTS seed_micro_seeds`
  await tx`
    CREATE TEMP TABLE seed_micro_seeds AS
    SELECT DISTINCT ON (grid_id) grid_id, seeds FROM (
      SELECT grid_id, ST_Collect(ST_Centroid(ST_Collect(geom))) OVER (PARTITION BY grid_id) AS seeds
      FROM (SELECT h.grid_id, h.geom, ST_ClusterKMeans(h.geom, a.n) OVER (PARTITION BY h.grid_id) AS cid
            FROM seed_households h JOIN seed_alloc a ON a.unit_id = h.grid_id
            WHERE a.n > 1 AND a.households >= a.n) clustered
      GROUP BY grid_id, cid) centres`
  // The Voronoi cells are inlined here rather than calling gw_subdivide:
  // thousands of plpgsql calls cost ten times the geometry work. MATERIALIZED:
  // inlined, the clip would be computed again at every use of c below.
  await tx`
    WITH pieces AS MATERIALIZED (
      SELECT g.id, ST_CollectionExtract(ST_Intersection(d.geom, g.geom), 3) AS c
      FROM grids g JOIN seed_micro_seeds k ON k.grid_id = g.id,
           ST_Dump(ST_VoronoiPolygons(k.seeds, 0, ST_Expand(ST_Envelope(g.geom), 0.05))) d
    ), parts AS (
      SELECT id, ST_Multi(c) AS geom,
             CASE WHEN ST_Intersects(ST_Centroid(c), c) THEN ST_Centroid(c) ELSE ST_PointOnSurface(c) END AS label_point
      FROM pieces WHERE NOT ST_IsEmpty(c)
      UNION ALL
      SELECT g.id, s.geom, s.label_point
      FROM grids g JOIN seed_alloc a ON a.unit_id = g.id,
           gw_subdivide(g.geom, a.n, ${seedValue} * 613 + g.id, 1) s
      WHERE NOT EXISTS (SELECT 1 FROM seed_micro_seeds k WHERE k.grid_id = g.id)
    ), numbered AS (
      SELECT p.*, row_number() OVER (PARTITION BY p.id ORDER BY floor(ST_Y(p.label_point) / 0.002) DESC, ST_X(p.label_point)) AS num
      FROM parts p
    )
    INSERT INTO grids (code, name, kind, parent_id, village_id, geom, label_point)
    SELECT g.code || lpad(n.num::text, 2, '0'), g.name || n.num || '号微网格', 'micro', g.id, g.village_id, n.geom, n.label_point
    FROM numbered n JOIN grids g ON g.id = n.id`
  // A point exactly on a shared edge lies in both micro-grids: the first by id.
  // The county's micro-grids go first, each tested against its own grid's
  // households (found on the scratch table's index): joined the other way
  // round, each household probed the city's GiST index of grids and ANDed
  // the bitmap with the parent's (demo county: 3.9 s; this way 0.5 s).
  await tx`
    WITH m AS MATERIALIZED (
      SELECT m.id, m.parent_id, m.geom FROM grids m JOIN seed_alloc a ON a.unit_id = m.parent_id
    )
    INSERT INTO seed_micro_of (settlement_id, seq, micro_grid_id)
    SELECT DISTINCT ON (h.settlement_id, h.seq) h.settlement_id, h.seq, m.id
    FROM m JOIN seed_households h ON h.grid_id = m.parent_id AND ST_Intersects(m.geom, h.geom)
    ORDER BY h.settlement_id, h.seq, m.id`
  // One in a floating-point sliver matched nothing: give it the nearest micro-grid of its grid.
  await tx`
    INSERT INTO seed_micro_of (settlement_id, seq, micro_grid_id)
    SELECT h.settlement_id, h.seq, (SELECT m.id FROM grids m WHERE m.parent_id = h.grid_id ORDER BY m.geom <-> h.geom LIMIT 1)
    FROM seed_households h
    WHERE NOT EXISTS (SELECT 1 FROM seed_micro_of x WHERE x.settlement_id = h.settlement_id AND x.seq = h.seq)`
}

async function addGridWorkers(tx: Conn, countyId: number, seedValue: number) {
  void seedValue
  // One grid head (网格长) and one answerable cadre (包保责任人) per grid, one
  // grid worker (网格员) per micro-grid: ≈183,000 city-wide, as in Zhaotong.
  await tx`
    INSERT INTO grid_workers (name, phone, role, grid_id, village_id)
    SELECT pg_temp.person(g.code || r.role), pg_temp.phone(g.code || r.role), r.role, g.id, g.village_id
    FROM grids g
    JOIN admin_units v ON v.id = g.village_id JOIN admin_units t ON t.id = v.parent_id
    CROSS JOIN (VALUES ('网格长', 'basic'), ('包保责任人', 'basic'), ('网格员', 'micro')) r(role, kind)
    WHERE t.parent_id = ${countyId} AND g.kind = r.kind
    ORDER BY g.id, r.role`
}

async function addHazardSites(tx: Conn, countyId: number, villages: VillageRow[], total: number, seedValue: number) {
  // Mountain villages (large ones) carry more sites.
  const counts = allocate(total, villages.map((v) => v.km2), 0)
  await setAlloc(tx, villages.map((v, i) => ({ unit_id: v.id, n: counts[i] })))
  await tx`
    WITH ranked AS (
      SELECT s.*, row_number() OVER (PARTITION BY s.village_id ORDER BY gw_rand(${seedValue}, 'hz' || s.id)) AS pick
      FROM seed_settlements s
    ), picked AS (
      SELECT r.*, v.code AS vcode, v.name AS vname,
             row_number() OVER (ORDER BY v.code, r.pick) AS num,
             gw_rand(${seedValue}, 'hzt' || r.id) AS rt, gw_rand(${seedValue}, 'hzs' || r.id) AS rs,
             gw_rand(${seedValue}, 'hzd' || r.id) AS rd
      FROM ranked r JOIN seed_alloc a ON a.unit_id = r.village_id JOIN admin_units v ON v.id = r.village_id
      WHERE r.pick <= a.n
    ), typed AS (
      SELECT p.*,
        CASE WHEN rt < 0.55 THEN '滑坡' WHEN rt < 0.75 THEN '崩塌' WHEN rt < 0.87 THEN '泥石流'
             WHEN rt < 0.95 THEN '不稳定斜坡' ELSE '地面塌陷' END AS type,
        CASE WHEN rs < 0.70 THEN '小型' WHEN rs < 0.92 THEN '中型' WHEN rs < 0.99 THEN '大型' ELSE '特大型' END AS scale
      FROM picked p
    ), w AS (
      INSERT INTO grid_workers (name, phone, role, grid_id, village_id)
      SELECT pg_temp.person('m' || id), pg_temp.phone('m' || id), '监测员', grid_id, village_id FROM typed ORDER BY num
      RETURNING id AS worker_id, grid_id, village_id
    ), wn AS (SELECT worker_id, row_number() OVER (ORDER BY worker_id) AS num FROM w)
    INSERT INTO hazard_sites (code, name, admin_code, type, scale, threat_object, countermeasure, monitoring_method,
                              warning_signal, trigger_factor, monitor_id, critical_rain_1h, critical_rain_24h, geom)
    SELECT substr(t.vcode, 1, 6) || 'DZ' || lpad(t.num::text, 5, '0'),
           t.vname || pg_temp.place('hzn' || t.id) || t.type,
           t.vcode, t.type, t.scale,
           (ARRAY['散户', '聚居区', '学校', '村道', '集镇'])[1 + floor(gw_rand(${seedValue}, 'hzo' || t.id) * 5)::int],
           (ARRAY['群测群防', '群测群防', '专业监测', '搬迁避让', '工程治理'])[1 + floor(gw_rand(${seedValue}, 'hzc' || t.id) * 5)::int],
           (ARRAY['人工巡查', '裂缝计', '雨量计', 'GNSS位移监测'])[1 + floor(gw_rand(${seedValue}, 'hzm' || t.id) * 4)::int],
           (ARRAY['铜锣', '口哨', '高音喇叭', '手摇报警器', '警报器', '喊话'])[1 + floor(gw_rand(${seedValue}, 'hzw' || t.id) * 6)::int],
           CASE WHEN gw_rand(${seedValue}, 'hzf' || t.id) < 0.85 THEN '降雨' WHEN gw_rand(${seedValue}, 'hzf' || t.id) < 0.95 THEN '人为' ELSE '地震' END,
           wn.worker_id,
           round((20 + 25 * gw_rand(${seedValue}, 'c1' || t.id))::numeric, 1),
           round((70 + 80 * gw_rand(${seedValue}, 'c24' || t.id))::numeric, 1),
           -- the site sits on the slope 120–350 m above its settlement
           ST_Project(t.center::geography, 120 + 230 * t.rd, radians(360 * gw_rand(${seedValue}, 'hza' || t.id)))::geometry
    FROM typed t JOIN wn ON wn.num = t.num`
  void countyId
}

async function insertHouseholds(tx: Conn, countyId: number, seedValue: number, alone: boolean) {
  // Threat radius by scale; exposure decided before the insert so that every
  // household row is written once.
  // Roll-ups are computed once at the end; no per-statement deltas meanwhile.
  await tx`SET LOCAL gridwatch.skip_rollups = 'on'`
  // A site threatens the county's households within its radius (those of a
  // neighbouring county are that county's business: the same rule as the
  // exposure, and the same whichever county is written first).
  await tx`
    INSERT INTO seed_threats (hazard_id, settlement_id, seq)
    SELECT h.id, sh.settlement_id, sh.seq
    FROM hazard_sites h JOIN admin_units v ON v.code = h.admin_code JOIN admin_units t ON t.id = v.parent_id
    JOIN seed_households sh ON ST_DWithin(sh.geom_3857, h.geom_3857, pg_temp.threat_radius(h.scale, h.geom))
    WHERE t.parent_id = ${countyId}`
  // One statement writes the ledger, the visits of the households due one and
  // which site threatens which: the ids come back from the insert (RETURNING),
  // so nothing reads the households table back (whose indexes may be set aside).
  // OFFSET 0 keeps each step a step: pulled up into the next, a column such
  // as rm was written out as its gw_rand call at every mention (members tests
  // rm up to six times, and risk_level mentions members four times): the
  // demo county's households took 1.8 s to draw up to `risk`, 1.0 s this way.
  const insert = () => tx`
    WITH base AS (
      SELECT sh.grid_id, sh.settlement_id, sh.seq, sh.geom, g.code AS gcode, g.village_id, mo.micro_grid_id, x.seq IS NOT NULL AS exposed,
             row_number() OVER (PARTITION BY sh.grid_id ORDER BY sh.settlement_id, sh.seq) AS num
      FROM seed_households sh JOIN grids g ON g.id = sh.grid_id
      LEFT JOIN seed_micro_of mo ON mo.settlement_id = sh.settlement_id AND mo.seq = sh.seq
      LEFT JOIN (SELECT DISTINCT settlement_id, seq FROM seed_threats) x ON x.settlement_id = sh.settlement_id AND x.seq = sh.seq
    ), attrs AS (
      SELECT b.*, gcode || lpad(num::text, 4, '0') AS code,
             gw_rand(${seedValue}, gcode || num || 'm') AS rm, gw_rand(${seedValue}, gcode || num || 'r') AS rr,
             gw_rand(${seedValue}, gcode || num || 'v') AS rv, gw_rand(${seedValue}, gcode || num || 't') AS rt
      FROM base b OFFSET 0
    ), people AS (
      SELECT a.*,
        CASE WHEN rm < 0.10 THEN 1 WHEN rm < 0.30 THEN 2 WHEN rm < 0.57 THEN 3 WHEN rm < 0.80 THEN 4
             WHEN rm < 0.92 THEN 5 WHEN rm < 0.98 THEN 6 ELSE 7 END AS members
      FROM attrs a OFFSET 0
    ), vuln AS (
      SELECT p.*,
        CASE WHEN members = 1 AND rv < 0.45 THEN 1 ELSE 0 END AS elderly_alone,
        CASE WHEN members >= 3 AND rv > 0.88 THEN 1 + (rv > 0.97)::int ELSE 0 END AS left_behind_children,
        CASE WHEN gw_rand(${seedValue}, code || 'd') < 0.04 THEN 1 ELSE 0 END AS disabled
      FROM people p OFFSET 0
    ), risk AS (
      SELECT v.*,
        CASE WHEN rr < (CASE WHEN exposed THEN 0.22 ELSE 0.015 END) + 0.04 * (elderly_alone + left_behind_children + disabled) THEN 'red'
             WHEN rr < (CASE WHEN exposed THEN 0.60 ELSE 0.09 END) + 0.10 * (elderly_alone + left_behind_children + disabled) THEN 'yellow'
             ELSE 'green' END AS risk_level
      FROM vuln v
    ), ledger AS (
      INSERT INTO households (code, householder, phone, members, elderly_alone, left_behind_children, disabled, risk_level,
                              flood_exposed, measures, cadre_id, grid_id, micro_grid_id, last_visit_at, geom)
      SELECT r.code, pg_temp.person(r.code), pg_temp.phone(r.code), r.members, r.elderly_alone, r.left_behind_children, r.disabled,
             r.risk_level, r.exposed,
             CASE r.risk_level WHEN 'red' THEN '每日走访，汛期重点监测，已发放避险明白卡'
                               WHEN 'yellow' THEN '每周走访，雨前提醒' ELSE NULL END,
             w.id, r.grid_id, r.micro_grid_id,
             -- A visit is due daily (red), weekly (yellow), monthly (green); about one in ten is overdue.
             now() - make_interval(secs => 86400 * rt * rt * CASE r.risk_level WHEN 'red' THEN 1.3 WHEN 'yellow' THEN 8.5 ELSE 34 END),
             r.geom
      FROM risk r
      LEFT JOIN grid_workers w ON w.grid_id = r.grid_id AND w.role = '包保责任人'
      ORDER BY r.code
      RETURNING id, code, cadre_id, last_visit_at, risk_level
    ), visited AS (
      INSERT INTO visits (household_id, worker_id, visited_at, note)
      SELECT id, cadre_id, last_visit_at, '入户走访' FROM ledger WHERE risk_level <> 'green' ORDER BY id
    ), threatened AS (
      SELECT t.hazard_id, r.code, r.members FROM seed_threats t JOIN risk r ON r.settlement_id = t.settlement_id AND r.seq = t.seq
    ), threats AS (
      INSERT INTO hazard_threats (hazard_id, household_id)
      SELECT t.hazard_id, l.id FROM threatened t JOIN ledger l ON l.code = t.code
    )
    INSERT INTO seed_threat_totals (hazard_id, households, people)
    SELECT hazard_id, count(*), sum(members) FROM threatened GROUP BY hazard_id`
  if (alone) await setAside(tx, 'households', async () => void (await insert()))
  else await insert()
  await tx`SET LOCAL gridwatch.skip_rollups = 'off'`
  await tx`
    UPDATE hazard_sites s SET threatened_households = x.households, threatened_people = x.people,
           threatened_property = round((x.households * (8 + 12 * gw_rand(${seedValue}, s.code || 'pp')))::numeric, 1)
    FROM seed_threat_totals x
    WHERE x.hazard_id = s.id`
}

async function addSheltersAndRoutes(tx: Conn, countyId: number, seedValue: number) {
  // Shelters at the village's largest settlements (schools, village committees,
  // squares); bigger villages have more.
  await tx`
    WITH ranked AS (
      SELECT s.*, v.code AS vcode, v.name AS vname,
             row_number() OVER (PARTITION BY s.village_id ORDER BY s.n DESC, s.id) AS rank,
             sum(s.n) OVER (PARTITION BY s.village_id) AS vh
      FROM seed_settlements s JOIN admin_units v ON v.id = s.village_id
    )
    INSERT INTO shelters (code, name, kind, village_id, capacity, certified_safe, manager, manager_phone, geom)
    SELECT vcode || 'B' || lpad(rank::text, 2, '0'),
           vname || (ARRAY['村委会', '小学', '文化广场', '集中安置点'])[rank] || '避险点',
           (ARRAY['村委会', '学校', '广场', '安置点'])[rank], village_id,
           (150 + floor(750 * gw_rand(${seedValue}, 'sc' || id)))::int,
           gw_rand(${seedValue}, 'ss' || id) < 0.93,
           pg_temp.person('sm' || id), pg_temp.phone('sm' || id),
           ST_Project(center::geography, 30 + 60 * gw_rand(${seedValue}, 'sd' || id), radians(360 * gw_rand(${seedValue}, 'sa' || id)))::geometry
    FROM ranked
    WHERE rank <= 1 + (vh > 1200)::int + (vh > 2500)::int + (vh > 4000)::int`
  // One transfer route from each hazard site's threatened settlement to the
  // nearest shelter, bent a little as mountain paths are.
  await tx`
    WITH sites AS (
      SELECT h.id, h.name, h.geom, v.id AS vid FROM hazard_sites h
      JOIN admin_units v ON v.code = h.admin_code JOIN admin_units t ON t.id = v.parent_id
      WHERE t.parent_id = ${countyId}
    ), ends AS (
      SELECT s.id, s.name, s.geom AS a, sh.id AS shelter_id, sh.geom AS b
      FROM sites s CROSS JOIN LATERAL (
        SELECT id, geom FROM shelters x ORDER BY x.geom <-> s.geom LIMIT 1) sh
    ), bent AS (
      SELECT e.*, ST_Project(ST_LineInterpolatePoint(ST_MakeLine(a, b), 0.5)::geography,
                            ST_Distance(a::geography, b::geography) * (0.08 + 0.12 * gw_rand(${seedValue}, 'rt' || e.id)),
                            ST_Azimuth(a, b) + pi() / 2 * CASE WHEN gw_rand(${seedValue}, 'rs' || e.id) < 0.5 THEN 1 ELSE -1 END)::geometry AS mid
      FROM ends e
    )
    INSERT INTO routes (hazard_id, shelter_id, from_name, length_m, geom)
    SELECT id, shelter_id, name || '受威胁户', round(ST_Length(ST_MakeLine(ARRAY[a, mid, b])::geography))::int,
           ST_MakeLine(ARRAY[a, mid, b])
    FROM bent WHERE NOT ST_Equals(a, b)`
}
