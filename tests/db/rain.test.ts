import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { duringRain, pastCritical } from '../../core/rules/checks.ts'
import { householdCalled, ladder1262, ladderCall } from '../../core/rules/ladder.ts'
import type { RiskLevel } from '../../core/rules/risk.ts'
import { scopePrefix } from '../../core/units.ts'
import type { Sql } from '../../db/connect.ts'
import { HttpError } from '../../core/errors.ts'
import { loadConfig, type RainConfig } from '../../api/rain/config.ts'
import { signalColour } from '../../core/rules/rain-signal.ts'
import { ingestForecasts, ingestReadings, ingestStations, ingestWarnings } from '../../api/rain/ingest.ts'
import postgres from 'postgres'
import { buildStorm, timeline, type Storm } from '../../data/storms/build.ts'
import { playStorm, resetRain, testActor } from '../helpers/rain.ts'
import { client, targets } from '../helpers/targets.ts'

const TEST_COUNTY = '530626' // the county the test seed generates

type Sums = { 1: number; 3: number; 6: number; 12: number; 24: number }
const key = (kind: string, id: number) => `${kind}:${id}`

/** What the tasks table holds, as comparable keys. */
async function taskKeys(sql: Sql, phase: string) {
  const r = await sql<{ target_kind: string; target_id: number }[]>`SELECT target_kind, target_id FROM tasks WHERE phase = ${phase}`
  return new Set(r.map((t) => key(t.target_kind, t.target_id)))
}

/**
 * The before-rain checks the 1262 ladder calls for, worked out here from the
 * forecasts and the config by the pure rule (core/rules/ladder.ts: step,
 * area, households, due time) and code prefixes in TypeScript, not by the
 * engine's SQL: each target once, due at the earliest its calls ask.
 */
async function expectedBefore(sql: Sql, cfg: RainConfig) {
  const due = new Map<string, number>()
  const call = (k: string, at: Date) => due.set(k, Math.min(due.get(k) ?? Infinity, at.getTime()))
  const forecasts = await sql<{ area_code: string; lead_hours: number; mm: string; period_start: Date; issued_at: Date }[]>`SELECT * FROM rain_forecasts`
  const sites = await sql<{ id: number; admin_code: string }[]>`SELECT id, admin_code FROM hazard_sites WHERE status = 'active'`
  const grids = await sql<{ id: number; code: string }[]>`SELECT id, code FROM grids WHERE kind = 'basic'`
  const hh = await sql<{ id: number; code: string; risk_level: RiskLevel; vulnerable: number }[]>`SELECT id, code, risk_level, vulnerable FROM households`
  for (const f of forecasts) {
    const c = ladderCall(cfg.ladder, { areaCode: f.area_code, leadHours: f.lead_hours, mm: Number(f.mm), issuedAt: f.issued_at, periodStart: f.period_start })
    if (!c) continue
    if (c.targets.includes('hazard_site')) for (const s of sites) if (s.admin_code.startsWith(c.prefix)) call(key('hazard_site', s.id), c.dueAt)
    if (c.targets.includes('grid')) for (const g of grids) if (g.code.startsWith(c.prefix)) call(key('grid', g.id), c.dueAt)
    for (const h of hh) if (h.code.startsWith(c.prefix) && householdCalled(c.households, { risk: h.risk_level, vulnerable: h.vulnerable })) call(key('household', h.id), c.dueAt)
  }
  return due
}

/**
 * The during-rain targets, from an independent route: interpolate each hour
 * first (the engine interpolates the sums), sum the windows here, and apply
 * the pure rules (core/rules: signalColour, pastCritical, duringRain).
 */
async function expectedDuring(sql: Sql, cfg: RainConfig) {
  const { neighbours, radiusKm, power } = cfg.interpolation
  const hourly = await sql<{ kind: string; unit_id: number; hour: Date; mm: number; c1: string | null; c24: string | null }[]>`
    WITH units AS (
      SELECT 'grid' AS kind, id AS unit_id, label_point AS pt, NULL::numeric AS c1, NULL::numeric AS c24 FROM grids WHERE kind = 'basic'
      UNION ALL SELECT 'site', id, geom, critical_rain_1h, critical_rain_24h FROM hazard_sites WHERE status = 'active'
    ), nb AS (
      SELECT u.kind, u.unit_id, u.c1, u.c24, s.id AS station_id, ST_Distance(s.geom::geography, u.pt::geography, false) AS d
      FROM units u CROSS JOIN LATERAL (SELECT * FROM rain_stations s ORDER BY s.geom <-> u.pt LIMIT ${neighbours}) s
    )
    SELECT nb.kind, nb.unit_id, r.hour, nb.c1, nb.c24,
           sum(r.mm / power(greatest(nb.d, 50), ${power})) / sum(1 / power(greatest(nb.d, 50), ${power})) AS mm
    FROM nb JOIN rain_readings r ON r.station_id = nb.station_id
    WHERE nb.d <= ${radiusKm * 1000}
    GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3`
  const byUnit = new Map<string, (typeof hourly)[number][]>()
  for (const h of hourly) {
    const k = key(h.kind === 'grid' ? 'grid' : 'hazard_site', h.unit_id)
    byUnit.set(k, [...(byUnit.get(k) ?? []), h])
  }
  const during = new Set<string>()
  const sitesPastCritical = new Set<number>()
  for (const [k, series] of byUnit) {
    for (let i = 0; i < series.length; i++) {
      const t = series[i].hour.getTime()
      const sums = {} as Sums
      for (const w of [1, 3, 6, 12, 24] as const) {
        const v = series.filter((x) => x.hour.getTime() > t - w * 3600_000 && x.hour.getTime() <= t).reduce((a, x) => a + Number(x.mm), 0)
        sums[w] = Math.round(v * 10) / 10
      }
      const site = series[i].c1 !== null
      const critical = site && pastCritical({ h1: sums[1], h24: sums[24] }, { h1: Number(series[i].c1), h24: Number(series[i].c24) })
      // The storm has no warnings; its readings are all current at their own hour.
      if (duringRain({ current: true, rain1h: sums[1], signal: signalColour(cfg.signals, sums), warning: null, pastCritical: critical }, cfg.during.wetMm)) during.add(k)
      if (critical) sitesPastCritical.add(series[i].unit_id)
    }
  }
  // Red and vulnerable households threatened by a site past its critical rainfall.
  if (sitesPastCritical.size) {
    const hh = await sql<{ id: number }[]>`
      SELECT DISTINCT h.id FROM hazard_threats t JOIN households h ON h.id = t.household_id
      WHERE t.hazard_id = ANY(${[...sitesPastCritical]}::int[]) AND (h.risk_level = 'red' OR h.vulnerable > 0)`
    for (const h of hh) during.add(key('household', h.id))
  }
  return during
}

for (const target of targets()) {
  describe(`rain and 三查 on ${target.name}`, () => {
    let sql: Sql
    let storm: Storm
    let cfg: RainConfig
    beforeAll(async () => {
      sql = client(target.url)
      await resetRain(sql)
      storm = await buildStorm(sql, { county: TEST_COUNTY, seed: 3, spacingKm: 5 })
      cfg = await loadConfig(sql)
    })
    afterAll(async () => {
      await resetRain(sql)
      await sql.end()
    })

    it('starts with the 1262 ladder as core/rules/ladder.ts states it (the migration seeds the same)', () => {
      expect(cfg.ladder).toEqual(ladder1262)
    })

    it('a replayed storm opens before, during and after tasks exactly as the rules say', async () => {
      expect(storm.stations.length).toBeGreaterThan(5)
      await playStorm(sql, storm)

      const before = await sql<{ target_kind: string; target_id: number; due_at: Date }[]>`SELECT target_kind, target_id, due_at FROM tasks WHERE phase = 'before'`
      const wantBefore = await expectedBefore(sql, cfg)
      expect(wantBefore.size).toBeGreaterThan(0)
      expect(new Map(before.map((t) => [key(t.target_kind, t.target_id), t.due_at.getTime()]))).toEqual(wantBefore)

      const during = await taskKeys(sql, 'during')
      const wantDuring = await expectedDuring(sql, cfg)
      expect(wantDuring.size).toBeGreaterThan(0)
      expect([...during].sort()).toEqual([...wantDuring].sort())

      // After rain: the same targets as during, opened once the county has been dry for dryHours after its last rain.
      // One task per target and phase: no second event opened by sums that stay high after the rain.
      const [{ dup }] = await sql`SELECT count(*)::int AS dup FROM (SELECT 1 FROM tasks GROUP BY phase, target_kind, target_id HAVING count(*) > 1) d`
      expect(dup).toBe(0)
      const after = await taskKeys(sql, 'after')
      expect([...after].sort()).toEqual([...during].sort())
      const [{ last_wet }] = await sql`SELECT max(hour) AS last_wet FROM rain_readings WHERE mm >= ${cfg.during.wetMm}`
      const opened = await sql`SELECT DISTINCT opened_at FROM tasks WHERE phase = 'after'`
      expect(opened.map((o) => o.opened_at.getTime())).toEqual([(last_wet as Date).getTime() + cfg.after.dryHours * 3600_000])

      // Each task goes to the right person.
      const [wrong] = await sql`
        SELECT count(*) FILTER (WHERE t.target_kind = 'hazard_site' AND t.assignee_id IS DISTINCT FROM h.monitor_id)::int AS sites,
               count(*) FILTER (WHERE t.target_kind = 'household' AND t.assignee_id IS DISTINCT FROM hh.cadre_id)::int AS households,
               -- A grid's task goes to a 网格员 (or, failing one, the 网格长) of the grid or its micro-grids; to nobody only
               -- when it has none (a grid redrawn by the grid editor tests may have lost its people).
               count(*) FILTER (WHERE t.target_kind = 'grid' AND CASE WHEN t.assignee_id IS NULL
                 THEN EXISTS (SELECT 1 FROM grid_workers w JOIN grids m ON m.id = w.grid_id
                              WHERE w.role IN ('网格员', '网格长') AND (m.parent_id = t.target_id OR m.id = t.target_id))
                 ELSE NOT EXISTS (SELECT 1 FROM grid_workers w JOIN grids m ON m.id = w.grid_id
                              WHERE w.id = t.assignee_id AND w.role IN ('网格员', '网格长') AND (m.parent_id = t.target_id OR m.id = t.target_id)) END)::int AS grids,
               count(*) FILTER (WHERE t.due_at <= t.opened_at)::int AS due
        FROM tasks t LEFT JOIN hazard_sites h ON t.target_kind = 'hazard_site' AND h.id = t.target_id
        LEFT JOIN households hh ON t.target_kind = 'household' AND hh.id = t.target_id`
      expect(wrong).toEqual({ sites: 0, households: 0, grids: 0, due: 0 })
    })

    it('replaying the same storm again changes nothing', async () => {
      const snapshot = async () => ({
        tasks: await sql`SELECT id, event_id, phase, target_kind, target_id, due_at FROM tasks ORDER BY id`,
        state: await sql`SELECT * FROM rain_state ORDER BY kind, unit_id`,
        events: await sql`SELECT * FROM rain_events ORDER BY id`,
      })
      const first = await snapshot()
      expect(first.tasks.length).toBeGreaterThan(0)
      await playStorm(sql, storm)
      expect(await snapshot()).toEqual(first)
    })

    it('late and reordered readings give the same tasks and rain as readings in order', async () => {
      const inOrder = {
        tasks: await sql`SELECT phase, target_kind, target_id FROM tasks ORDER BY 1, 2, 3`,
        state: await sql`SELECT kind, unit_id, rain_1h, rain_3h, rain_24h, colour, on_alert FROM rain_state ORDER BY 1, 2`,
      }
      await resetRain(sql)
      // The gauge nearest the storm's core reports three hours late; every hour's rows arrive reversed.
      const wettest = storm.stations
        .map((s) => ({ s, total: storm.hours.reduce((a, h) => a + h.readings.find((r) => r.station === s.code)!.mm, 0) }))
        .sort((a, b) => b.total - a.total)[0].s.code
      await playStorm(sql, storm, { delay: { station: wettest, steps: 3 }, reverse: true })
      expect(await sql`SELECT phase, target_kind, target_id FROM tasks ORDER BY 1, 2, 3`).toEqual(inOrder.tasks)
      expect(await sql`SELECT kind, unit_id, rain_1h, rain_3h, rain_24h, colour, on_alert FROM rain_state ORDER BY 1, 2`).toEqual(inOrder.state)
    })

    it('a corrected reading replaces the old one; the same reading again changes nothing', async () => {
      const last = storm.hours.at(-1)!
      const station = storm.stations[0].code
      const [before] = await sql`SELECT r.mm FROM rain_readings r JOIN rain_stations s ON s.id = r.station_id WHERE s.code = ${station} AND r.hour = ${last.hour}`
      const corrected = Number(before.mm) + 12.3
      const one = [{ row: 1, values: { station, hour: last.hour, mm: corrected } }]
      const r1 = await ingestReadings(sql, testActor, one)
      expect(r1).toMatchObject({ inserted: 0, corrected: 1, unchanged: 0 })
      const [after] = await sql`SELECT r.mm FROM rain_readings r JOIN rain_stations s ON s.id = r.station_id WHERE s.code = ${station} AND r.hour = ${last.hour}`
      expect(Number(after.mm)).toBeCloseTo(corrected, 1)
      // The site or grid nearest the station now shows more rain in its last hour.
      const [near] = await sql`
        SELECT rs.rain_1h FROM rain_state rs JOIN grids g ON rs.kind = 'grid' AND g.id = rs.unit_id
        ORDER BY g.label_point <-> (SELECT geom FROM rain_stations WHERE code = ${station}) LIMIT 1`
      expect(Number(near.rain_1h)).toBeGreaterThan(0)
      const r2 = await ingestReadings(sql, testActor, one)
      expect(r2).toMatchObject({ inserted: 0, corrected: 0, unchanged: 1, evaluations: [] })
    })

    it('refuses every kind of bad input with a 400 naming the rows, and writes nothing', async () => {
      const station = storm.stations[0].code
      const hour = storm.hours.at(-1)!.hour
      const count = async () => (await sql`
        SELECT (SELECT count(*) FROM rain_readings)::int AS r, (SELECT count(*) FROM rain_forecasts)::int AS f,
               (SELECT count(*) FROM rain_warnings)::int AS w, (SELECT count(*) FROM rain_stations)::int AS s,
               (SELECT count(*) FROM tasks)::int AS t, (SELECT count(*) FROM audit_log)::int AS a,
               (SELECT coalesce(sum(mm), 0)::float8 FROM rain_readings) AS mm`)[0]
      const before = await count()
      const good = { station, hour, mm: 99 } // would change the data if it got through
      const reading = (v: Record<string, unknown>) => [{ row: 1, values: good }, { row: 2, values: v }]
      const cases: [string, () => Promise<unknown>, RegExp][] = [
        ['unknown station', () => ingestReadings(sql, testActor, reading({ station: 'NOPE', hour, mm: 1 })), /row 2: unknown station/],
        ['negative mm', () => ingestReadings(sql, testActor, reading({ station, hour, mm: -1 })), /row 2: rain cannot be negative/],
        ['absurd mm', () => ingestReadings(sql, testActor, reading({ station, hour, mm: 900 })), /row 2: .*not plausible/],
        ['mm not a number', () => ingestReadings(sql, testActor, reading({ station, hour, mm: 'lots' })), /row 2: rain must be a number/],
        ['malformed time', () => ingestReadings(sql, testActor, reading({ station, hour: '14/07/2026 20:00', mm: 1 })), /row 2: time must be ISO 8601/],
        ['time without offset', () => ingestReadings(sql, testActor, reading({ station, hour: '2026-07-14T20:00:00', mm: 1 })), /row 2: time must be ISO 8601/],
        ['not on the hour', () => ingestReadings(sql, testActor, reading({ station, hour: '2026-07-14T20:30:00+08:00', mm: 1 })), /row 2: .*on the hour/],
        ['in the future', () => ingestReadings(sql, testActor, reading({ station, hour: '2099-07-14T20:00:00+08:00', mm: 1 })), /row 2: time is in the future/],
        ['conflicting duplicate', () => ingestReadings(sql, testActor, reading({ station, hour, mm: 98 })), /row 2: same station and hour as row 1/],
        ['forecast: unknown area', () => ingestForecasts(sql, testActor, [{ row: 1, values: { area: '530626999000', leadHours: 6, periodStart: hour, periodEnd: hour.replace(/T\d\d/, 'T23'), mm: 80, issuedAt: hour } }]), /row 1: no admin unit or grid/],
        ['forecast: bad lead', () => ingestForecasts(sql, testActor, [{ row: 1, values: { area: TEST_COUNTY + '000000', leadHours: 3, periodStart: hour, periodEnd: hour, mm: 80, issuedAt: hour } }]), /row 1: leadHours must be/],
        ['warning: bad colour and polygon', () => ingestWarnings(sql, testActor, [{ row: 1, values: { colour: 'purple', polygon: { type: 'Point', coordinates: [0, 0] }, issuedAt: hour, validUntil: hour } }]), /row 1: colour.*row 1: polygon/],
        ['warning: self-crossing polygon', () => ingestWarnings(sql, testActor, [{ row: 1, values: { colour: 'red', polygon: { type: 'Polygon', coordinates: [[[104, 28], [104.2, 28.2], [104.2, 28], [104, 28.2], [104, 28]]] }, issuedAt: hour, validUntil: '2099-01-01T00:00:00Z' } }]), /row 1: invalid polygon/],
        ['station: outside China', () => ingestStations(sql, testActor, [{ row: 1, values: { code: 'X1', name: 'x', lon: 0, lat: 0 } }]), /row 1: longitude\/latitude outside China/],
      ]
      for (const [name, run, message] of cases) {
        const e = await run().then(() => null, (err: unknown) => err)
        expect(e, name).toBeInstanceOf(HttpError)
        expect((e as HttpError).status, name).toBe(400)
        expect((e as HttpError).en, name).toMatch(message)
        expect((e as HttpError).zh, name).toMatch(/第 \d 行/)
      }
      expect(await count()).toEqual(before)
    })

    it('a warning in force raises the colour of the units in its area (codes or polygon), once', async () => {
      const [{ t }] = await sql`SELECT state_as_of AS t FROM rain_cache`
      const asOf = (t as Date).getTime()
      const iso = (ms: number) => new Date(ms).toISOString()
      // A polygon around the western half of the grids' label points; an orange warning by codes for one township.
      const [box] = await sql`SELECT ST_XMin(e) AS w, ST_YMin(e) AS s, ST_XMax(e) AS e, ST_YMax(e) AS n
                              FROM (SELECT ST_Extent(label_point) AS e FROM grids WHERE kind = 'basic') x`
      const midX = (box.w + box.e) / 2
      const polygon = { type: 'Polygon', coordinates: [[[box.w - 0.01, box.s - 0.01], [midX, box.s - 0.01], [midX, box.n + 0.01], [box.w - 0.01, box.n + 0.01], [box.w - 0.01, box.s - 0.01]]] }
      const [tw] = await sql`SELECT code FROM admin_units WHERE level = 'township' AND code LIKE ${TEST_COUNTY + '%'} ORDER BY code DESC LIMIT 1`
      const warnings = [
        { colour: 'red', polygon, issuedAt: iso(asOf - 3600_000), validUntil: iso(asOf + 6 * 3600_000) },
        { colour: 'orange', areas: [tw.code], issuedAt: iso(asOf - 3600_000), validUntil: iso(asOf + 6 * 3600_000) },
        { colour: 'blue', areas: [TEST_COUNTY + '000000'], issuedAt: iso(asOf - 10 * 3600_000), validUntil: iso(asOf) }, // expired at asOf
      ]
      const r1 = await ingestWarnings(sql, testActor, warnings.map((values, i) => ({ row: i + 1, values })))
      expect(r1.inserted).toBe(3)
      const grids = await sql<{ x: number; code: string; warning_colour: string | null }[]>`
        SELECT ST_X(g.label_point) AS x, g.code, s.warning_colour FROM rain_state s JOIN grids g ON s.kind = 'grid' AND g.id = s.unit_id`
      expect(grids.length).toBeGreaterThan(0)
      for (const g of grids) {
        const want = g.x <= midX ? 'red' : g.code.startsWith(scopePrefix(tw.code)) ? 'orange' : null
        expect(g.warning_colour, g.code).toBe(want)
      }
      const r2 = await ingestWarnings(sql, testActor, warnings.map((values, i) => ({ row: i + 1, values })))
      expect(r2).toMatchObject({ inserted: 0, unchanged: 3 })
    })

    it.runIf(target.name === 'postgis')('takes forecasts and readings at the same time without a conflict', async () => {
      // Several connections: on the embedded database everything runs one at a time anyway.
      const pool = postgres(target.url, { onnotice: () => {}, max: 4 }) as unknown as Sql
      try {
        await resetRain(pool)
        await ingestStations(pool, testActor, storm.stations.map((values, i) => ({ row: i + 1, values })))
        const steps = timeline(storm)
        const jobs = steps.flatMap((st) => [
          st.forecasts.length ? ingestForecasts(pool, testActor, st.forecasts.map((values, i) => ({ row: i + 1, values }))) : null,
          st.readings.length ? ingestReadings(pool, testActor, st.readings.map((values, i) => ({ row: i + 1, values }))) : null,
        ]).filter((j) => j !== null)
        const results = await Promise.allSettled(jobs)
        expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([])
        const [{ open }] = await pool`SELECT count(*)::int AS open FROM rain_events WHERE closed_at IS NULL GROUP BY county_code ORDER BY 1 DESC LIMIT 1`
          .then((r) => (r.length ? r : [{ open: 0 }]))
        expect(open).toBeLessThanOrEqual(1)
      } finally {
        await pool.end()
      }
    })

    it('colours grids at the signal thresholds and not 0.1 mm below', async () => {
      await resetRain(sql)
      await ingestStations(sql, testActor, storm.stations.map((s, i) => ({ row: i + 1, values: s })))
      // Each case: one hour of rain at the start of the colour's window, every gauge alike, a day after the last case.
      let day = Date.parse('2026-08-01T00:00:00Z')
      for (const colour of ['blue', 'yellow', 'orange', 'red'] as const) {
        for (const delta of [0, -0.1]) {
          const { mm, hours } = cfg.signals[colour]
          const asOf = day + 23 * 3600_000
          const wet = asOf - (hours - 1) * 3600_000
          const rows = storm.stations.flatMap((s) =>
            Array.from({ length: 24 }, (_, h) => day + h * 3600_000).map((t) => ({ station: s.code, hour: new Date(t).toISOString(), mm: t === wet ? mm + delta : 0 })))
          await ingestReadings(sql, testActor, rows.map((values, i) => ({ row: i + 1, values })))
          const sums = Object.fromEntries([1, 3, 6, 12, 24].map((w) => [w, asOf - wet < w * 3600_000 ? mm + delta : 0])) as Sums
          const want = signalColour(cfg.signals, sums)
          if (delta === 0) expect(want).toBe(colour)
          const got = await sql`SELECT DISTINCT colour FROM rain_state WHERE kind = 'grid'`
          expect(got.map((g) => g.colour), `${colour} ${mm + delta} mm`).toEqual([want])
          day += 2 * 86400_000
        }
      }
    })
  })
}
