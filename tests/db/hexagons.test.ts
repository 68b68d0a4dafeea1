import { cellToBoundary, latLngToCell } from 'h3-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { decodeRing, hexagonFields, hexagonResolutions, type HexagonAnswer } from '../../core/contracts/hexagons.ts'
import { loginAs, type Client } from '../helpers/session.ts'
import { targets } from '../helpers/targets.ts'
import { cellPolygon } from '../helpers/h3-cells.ts'
import { HexagonCache } from '../../api/hexagons/cache.ts'
import { binHouseholds } from '../../api/hexagons/cells.ts'

const COUNTY = '530626'
const UNIT = COUNTY + '000000'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface Direct { households: number; red: number; yellow: number; green: number; vulnerable: number; threatened: number }

/** The counts of the households whose point lies in `polygon` (GeoJSON), straight from the tables. */
const directSql = (prefix: string, polygon: unknown) => `
  SELECT count(*)::int AS households,
         (count(*) FILTER (WHERE h.risk_level = 'red'))::int AS red,
         (count(*) FILTER (WHERE h.risk_level = 'yellow'))::int AS yellow,
         (count(*) FILTER (WHERE h.risk_level = 'green'))::int AS green,
         coalesce(sum(h.elderly_alone + h.left_behind_children + h.disabled), 0)::int AS vulnerable,
         coalesce(sum(h.members) FILTER (WHERE h.id IN (SELECT t.household_id FROM hazard_threats t JOIN hazard_sites s ON s.id = t.hazard_id
                                                         WHERE s.status = 'active')), 0)::int AS threatened
  FROM households h JOIN grids g ON g.id = h.grid_id
  WHERE g.code LIKE '${prefix}%' ${polygon ? `AND ST_Within(h.geom, ST_SetSRID(ST_GeomFromGeoJSON('${JSON.stringify(polygon)}'), 4326))` : ''}`

const sum = (xs: (number | null)[]) => xs.reduce<number>((a, b) => a + (b ?? 0), 0)
/** Cell i of an answer as an object. */
const cellAt = (a: HexagonAnswer, i: number) => Object.fromEntries(hexagonFields.map((f) => [f, a.counts[f][i]]))

for (const target of targets()) {
  describe(`hexagons (H3) on ${target.name}`, () => {
    let s: RunningServer
    let commander: Client
    const hex = async (c: Client, unit: string, res: number | string) => {
      const r = await c.get(`/api/hexagons?unit=${unit}&res=${res}`)
      expect(r.status, await r.clone().text()).toBe(200)
      return (await r.json()) as HexagonAnswer
    }

    beforeAll(async () => {
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true, reportSweepEveryMs: 3600_000 })
      commander = await loginAs(s, 'commander', UNIT)
    })
    afterAll(async () => {
      await s?.close()
    })

    for (const res of hexagonResolutions) {
      it(`at resolution ${res}, every cell counts what a direct SQL count finds in its polygon`, async () => {
        const a = await hex(commander, UNIT, res)
        expect(a.res).toBe(res)
        const n = a.cells.length
        for (const f of hexagonFields) expect(a.counts[f]).toHaveLength(n)
        expect(a.rings).toHaveLength(n)
        expect(new Set(a.cells).size).toBe(n)

        // The whole: the county's households, red, vulnerable… all fall in some cell, once.
        const [all] = await s.db.sql.unsafe<Direct[]>(directSql(COUNTY, null))
        expect(all.households).toBeGreaterThan(1000)
        for (const f of ['households', 'red', 'yellow', 'green', 'vulnerable', 'threatened'] as const) expect(sum(a.counts[f]), f).toBe(all[f])

        // Every cell: the households grouped here by their own cell (computed from SQL rows, in the test).
        const rows = await s.db.sql<{ x: number; y: number; risk: string }[]>`
          SELECT ST_X(h.geom) AS x, ST_Y(h.geom) AS y, h.risk_level AS risk FROM households h JOIN grids g ON g.id = h.grid_id
          WHERE g.code LIKE ${COUNTY + '%'}`
        const byCell = new Map<string, { households: number; red: number }>()
        for (const r of rows) {
          const c = latLngToCell(r.y, r.x, res)
          const e = byCell.get(c) ?? { households: 0, red: 0 }
          e.households++
          if (r.risk === 'red') e.red++
          byCell.set(c, e)
        }
        const withHouseholds = a.cells.filter((_, i) => a.counts.households[i] > 0)
        expect(new Set(withHouseholds)).toEqual(new Set(byCell.keys()))
        a.cells.forEach((c, i) => {
          if (a.counts.households[i] === 0) return
          expect({ households: a.counts.households[i], red: a.counts.red[i] }, c).toEqual(byCell.get(c))
        })

        // A sample of cells, counted in PostGIS within the polygon h3-js gives (the largest, and every seventh).
        const order = a.cells.map((_, i) => i).sort((i, j) => a.counts.households[j] - a.counts.households[i])
        const sample = [...new Set([...order.slice(0, 4), ...order.filter((_, k) => k % 7 === 3).slice(0, 8)])]
        for (const i of sample) {
          const [d] = await s.db.sql.unsafe<Direct[]>(directSql(COUNTY, cellPolygon(a.cells[i])))
          const got = cellAt(a, i)
          expect({ households: got.households, red: got.red, yellow: got.yellow, green: got.green, vulnerable: got.vulnerable, threatened: got.threatened }, a.cells[i])
            .toEqual({ ...d })
        }
        // Every outline is its cell's: the vertices h3-js gives, within a metre.
        a.cells.forEach((cell, i) => {
          const own = cellToBoundary(cell, true).slice(0, -1)
          const ring = decodeRing(a.rings[i])
          expect(ring).toHaveLength(own.length)
          ring.forEach(([lon, lat], k) => expect(Math.max(Math.abs(lon - own[k][0]), Math.abs(lat - own[k][1]))).toBeLessThan(1e-5))
        })
      })
    }

    it('counts open problem reports in their cell, and not closed ones', async () => {
      const [g] = await s.db.sql`SELECT g.code, substr(g.code, 1, 12) AS village, ST_X(ST_PointOnSurface(g.geom)) AS x, ST_Y(ST_PointOnSurface(g.geom)) AS y
                                 FROM grids g WHERE g.kind = 'basic' AND g.code LIKE ${COUNTY + '%'} ORDER BY g.code LIMIT 1`
      const before = await hex(commander, UNIT, 7)
      const ids = await s.db.sql`
        INSERT INTO reports (type, urgency, geom, grid_code, level, unit_code, state, reported_by_name, reported_at, received_at, level_since)
        SELECT 'road_cut', 'urgent', ST_SetSRID(ST_MakePoint(${g.x}, ${g.y}), 4326), ${g.code}, 'township', ${g.village}, st, '测试', now(), now(), now()
        FROM unnest(ARRAY['reported', 'dispatched', 'closed', 'merged']) st RETURNING id`
      try {
        const after = await hex(commander, UNIT, 7)
        const cell = latLngToCell(g.y, g.x, 7)
        const i = after.cells.indexOf(cell)
        expect(i).toBeGreaterThanOrEqual(0)
        const was = before.cells.indexOf(cell) < 0 ? 0 : before.counts.reports[before.cells.indexOf(cell)]
        expect(after.counts.reports[i] - was).toBe(2)
        expect(sum(after.counts.reports) - sum(before.counts.reports)).toBe(2)
      } finally {
        await s.db.sql`DELETE FROM reports WHERE id IN ${s.db.sql(ids.map((r) => r.id))}`
      }
    })

    it('counts the households of active transfers in their cell, and the safe ones among them', async () => {
      const hh = await s.db.sql<{ id: number; x: number; y: number; grid: string; members: number; vulnerable: number }[]>`
        SELECT h.id, ST_X(h.geom) AS x, ST_Y(h.geom) AS y, g.code AS grid, h.members, h.vulnerable FROM households h JOIN grids g ON g.id = h.grid_id
        WHERE g.code LIKE ${COUNTY + '%'} ORDER BY h.id LIMIT 4`
      const orders = await s.db.sql<{ id: number; status: string }[]>`
        INSERT INTO evac_orders (unit_code, title, stage, trigger_kind, scope, deadline, status, issued_by_name)
        VALUES (${UNIT}, '测试转移', 'everyone', 'manual', '{}', now() + interval '2 hours', 'active', '测试'),
               (${UNIT}, '测试转移（已结束）', 'everyone', 'manual', '{}', now() + interval '2 hours', 'closed', '测试')
        RETURNING id, status`
      const [active, closed] = orders.map((o) => o.id)
      const statuses = ['not_notified', 'moving', 'at_shelter', 'returned']
      try {
        for (const [k, h] of hh.entries()) {
          await s.db.sql`
            INSERT INTO evac_households (order_id, household_id, grid_code, members, vulnerable, status, open)
            VALUES (${active}, ${h.id}, ${h.grid}, ${h.members}, ${h.vulnerable}, ${statuses[k]}, ${statuses[k] !== 'returned'}),
                   (${closed}, ${h.id}, ${h.grid}, ${h.members}, ${h.vulnerable}, 'moving', false)`
        }
        const a = await hex(commander, UNIT, 8)
        const expected = new Map<number, { transfer: number; transferSafe: number }>()
        hh.forEach((h, k) => {
          const i = a.cells.indexOf(latLngToCell(h.y, h.x, 8))
          const e = expected.get(i) ?? { transfer: 0, transferSafe: 0 }
          e.transfer++
          if (statuses[k] === 'at_shelter' || statuses[k] === 'returned') e.transferSafe++
          expected.set(i, e)
        })
        for (const [i, e] of expected) expect({ transfer: a.counts.transfer[i], transferSafe: a.counts.transferSafe[i] }).toEqual(e)
        expect(sum(a.counts.transfer)).toBe(4)
        expect(sum(a.counts.transferSafe)).toBe(2)
      } finally {
        await s.db.sql`DELETE FROM evac_orders WHERE id IN ${s.db.sql([active, closed])}`
      }
    })

    it("gives a cell the most rain of the last 3 h over its households' grids, and none once that rain is not current", async () => {
      const [cache] = await s.db.sql<{ asOf: Date | null }[]>`SELECT state_as_of AS "asOf" FROM rain_cache`
      const grids = await s.db.sql<{ id: number; code: string; x: number; y: number }[]>`
        SELECT DISTINCT ON (g.id) g.id, g.code, ST_X(h.geom) AS x, ST_Y(h.geom) AS y FROM grids g JOIN households h ON h.grid_id = g.id
        WHERE g.kind = 'basic' AND g.code LIKE ${COUNTY + '%'} ORDER BY g.id, h.id LIMIT 2`
      const saved = await s.db.sql`SELECT * FROM rain_state WHERE kind = 'grid' AND unit_id IN ${s.db.sql(grids.map((g) => g.id))}`
      try {
        await s.db.sql`UPDATE rain_cache SET state_as_of = date_trunc('hour', now()) - interval '1 hour'`
        for (const [k, g] of grids.entries()) {
          await s.db.sql`
            INSERT INTO rain_state (kind, unit_id, code, unit_code, rain_1h, rain_3h, rain_6h, rain_12h, rain_24h, on_alert, lag_hours)
            VALUES ('grid', ${g.id}, ${g.code}, ${g.code}, 10, ${k === 0 ? 42.5 : 7}, 50, 60, 70, false, 0)
            ON CONFLICT (kind, unit_id) DO UPDATE SET rain_3h = excluded.rain_3h, lag_hours = 0`
        }
        const a = await hex(commander, UNIT, 5)
        const i = a.cells.indexOf(latLngToCell(grids[0].y, grids[0].x, 5))
        expect(a.counts.rain3h[i]).toBeGreaterThanOrEqual(42.5)
        // Hours old (past rain_config's maxAgeHours): history, not rain of the last 3 h.
        // (every grid's: another grid of the cell must not answer for it; + 1000 h is undone exactly below)
        await s.db.sql`UPDATE rain_state SET lag_hours = lag_hours + 1000 WHERE kind = 'grid'`
        const b = await hex(commander, UNIT, 5)
        expect(b.counts.rain3h.filter((v) => v !== null)).toEqual([])
      } finally {
        await s.db.sql`DELETE FROM rain_state WHERE kind = 'grid' AND unit_id IN ${s.db.sql(grids.map((g) => g.id))}`
        for (const r of saved) await s.db.sql`INSERT INTO rain_state ${s.db.sql(r)}`
        await s.db.sql`UPDATE rain_state SET lag_hours = lag_hours - 1000 WHERE kind = 'grid' AND lag_hours >= 1000`
        await s.db.sql`UPDATE rain_cache SET state_as_of = ${cache.asOf}`
      }
    })

    it('follows a household edit: the cached cells are dropped when households change', async () => {
      const first = await hex(commander, UNIT, 8)
      const [h] = await s.db.sql<{ id: number; x: number; y: number; risk: string }[]>`
        SELECT h.id, ST_X(h.geom) AS x, ST_Y(h.geom) AS y, h.risk_level AS risk FROM households h JOIN grids g ON g.id = h.grid_id
        WHERE g.code LIKE ${COUNTY + '%'} AND h.risk_level <> 'red' ORDER BY h.id LIMIT 1`
      const i = first.cells.indexOf(latLngToCell(h.y, h.x, 8))
      await s.db.sql`UPDATE households SET risk_level = 'red' WHERE id = ${h.id}`
      try {
        let now = first
        for (let k = 0; k < 50 && now.counts.red[i] === first.counts.red[i]; k++) {
          await sleep(100)
          now = await hex(commander, UNIT, 8)
        }
        expect(now.counts.red[i]).toBe(first.counts.red[i] + 1)
        expect(now.counts.households[i]).toBe(first.counts.households[i])
      } finally {
        await s.db.sql`UPDATE households SET risk_level = ${h.risk} WHERE id = ${h.id}`
      }
    })

    it('keeps the binned households through a visit or a phone number (counts unchanged); drops them when a counted column changes', async () => {
      const cache = new HexagonCache()
      await cache.listen(s.db)
      // Every notice this test hears too, to know when the cache has heard one (one connection delivers them in order).
      const heard: string[] = []
      const stop = await s.db.listen('gridwatch_tiles', (p) => void heard.push(p))
      const county = await s.db.sql<{ id: number; risk: 'red' | 'yellow' | 'green'; phone: string | null; visited: Date | null; x: number; y: number; grid: number }[]>`
        SELECT h.id, h.risk_level AS risk, h.phone, h.last_visit_at AS visited, ST_X(h.geom) AS x, ST_Y(h.geom) AS y, h.grid_id AS grid FROM households h JOIN grids g ON g.id = h.grid_id WHERE g.code LIKE ${COUNTY + '%'} ORDER BY h.id LIMIT 1`
      // The binning below holds household h alone (its box is h's point); a household farther than the cache's margin
      // (0.05°) from it bumps the generation when it changes and drops nothing of h's.
      const h = county[0]
      const [far] = await s.db.sql<{ id: number; risk: string }[]>`
        SELECT f.id, f.risk_level AS risk FROM households f
        WHERE NOT ST_DWithin(f.geom, ST_SetSRID(ST_MakePoint(${h.x}, ${h.y}), 4326), 0.1) ORDER BY f.id LIMIT 1`
      expect(far).toBeDefined()
      let made = 0
      const make = async () => {
        made++
        return binHouseholds([[h.id, h.x, h.y, h.grid, h.risk, 0, 0]], 7)
      }
      const waitFor = async (what: (p: string) => boolean) => {
        for (let k = 0; k < 100 && !heard.some(what); k++) await sleep(50)
        expect(heard.some(what)).toBe(true)
        return heard.splice(0).join('\n')
      }
      // Whether a notice's 'household_counts' boxes hold h (other suites' writers share the database and send theirs).
      const countsOfH = (all: string) => [...all.matchAll(/\["household_counts",\s*([-\d.e]+),\s*([-\d.e]+),\s*([-\d.e]+),\s*([-\d.e]+)\]/g)]
        .some(([, x0, y0, x1, y1]) => +x0 - 1e-9 <= h.x && h.x <= +x1 + 1e-9 && +y0 - 1e-9 <= h.y && h.y <= +y1 + 1e-9)
      try {
        const first = await cache.get(`${UNIT}/7`, make)
        expect(made).toBe(1)
        const g0 = cache.generation
        // A visit (what api/households/visits.ts writes), a phone number: tiles hear of them, the hexagon cache does not act.
        await s.db.sql`UPDATE households SET last_visit_at = now() WHERE id = ${h.id}`
        expect(countsOfH(await waitFor((p) => p.includes('"household"')))).toBe(false)
        await s.db.sql`UPDATE households SET phone = '13800000000' WHERE id = ${h.id}`
        expect(countsOfH(await waitFor((p) => p.includes('"household"')))).toBe(false)
        // The sentinel, far away: once the cache has heard it, it has heard the two before.
        await s.db.sql`UPDATE households SET risk_level = ${far.risk === 'red' ? 'green' : 'red'} WHERE id = ${far.id}`
        await waitFor((p) => p.includes('"household_counts"'))
        for (let k = 0; k < 100 && cache.generation === g0; k++) await sleep(50)
        expect(cache.generation).toBeGreaterThan(g0)
        expect(await cache.get(`${UNIT}/7`, make)).toBe(first)
        expect(made).toBe(1)
        // A counted column in the county: dropped, binned again.
        const g1 = cache.generation
        await s.db.sql`UPDATE households SET risk_level = ${h.risk === 'red' ? 'green' : 'red'} WHERE id = ${h.id}`
        for (let k = 0; k < 100 && cache.generation === g1; k++) await sleep(50)
        expect(cache.generation).toBeGreaterThan(g1)
        expect(await cache.get(`${UNIT}/7`, make)).not.toBe(first)
        expect(made).toBe(2)
      } finally {
        await stop()
        await s.db.sql`UPDATE households SET risk_level = ${h.risk}, phone = ${h.phone}, last_visit_at = ${h.visited} WHERE id = ${h.id}`
        await s.db.sql`UPDATE households SET risk_level = ${far.risk} WHERE id = ${far.id}`
      }
    })

    it('answers a township user for his township only (asked for the county or city: his part of it); an unknown unit is 404, a bad resolution 400', async () => {
      const townships = await s.db.sql<{ code: string }[]>`SELECT code FROM admin_units WHERE level = 'township' AND code LIKE ${COUNTY + '%'} ORDER BY code LIMIT 2`
      expect(townships).toHaveLength(2)
      const [mine, other] = townships.map((t) => t.code)
      const township = await loginAs(s, 'township', mine)
      const a = await hex(township, mine, 7)
      const [d] = await s.db.sql.unsafe<Direct[]>(directSql(mine.slice(0, 9), null))
      expect(sum(a.counts.households)).toBe(d.households)
      expect(d.households).toBeGreaterThan(0)
      // The county and the city hold his township: he gets his own part, as on the wall.
      for (const unit of [UNIT, '530600000000']) {
        const r = await township.get(`/api/hexagons?unit=${unit}&res=7`)
        expect(r.status, unit).toBe(200)
        expect(sum(((await r.json()) as typeof a).counts.households), unit).toBe(d.households)
      }
      const r = await township.get(`/api/hexagons?unit=${other}&res=7`)
      expect(r.status, other).toBe(403)
      expect((await r.json()).error.code).toBe('forbidden_scope')
      expect((await commander.get(`/api/hexagons?unit=${COUNTY}999000&res=7`)).status).toBe(404)
      for (const q of ['res=4', 'res=9', 'res=7.5', 'res=x', '', 'res=7&res=8', 'res=7&extra=1']) {
        const r = await commander.get(`/api/hexagons?unit=${UNIT}&${q}`)
        expect(r.status, q).toBe(400)
      }
      expect((await commander.get(`/api/hexagons?unit=5306&res=7`)).status).toBe(400)
      const anonymous = await fetch(`${s.url}/api/hexagons?unit=${UNIT}&res=7`)
      expect(anonymous.status).toBe(401)
    })
  })
}
