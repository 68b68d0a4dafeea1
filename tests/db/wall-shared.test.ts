/**
 * The command walls' live figures with two API processes on one database (issue #21): each wall asks for its area's
 * figures after every live event, and each process computed them again for its own walls. Now an area's figures
 * are computed once per event for every process, and still hold every change published before the question.
 * PostGIS only: the embedded database serves one process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { fileReport } from '../../api/reports/file.ts'
import { publish } from '../../api/events/publish.ts'
import { REUSE_MS } from '../../api/wall/shared-figures.ts'
import type { SessionUser } from '../../api/auth/guard.ts'
import type { WallState } from '../../core/contracts/wall.ts'
import type { Sql } from '../../db/connect.ts'
import { writeTx } from '../../db/write.ts'
import { client, targets } from '../helpers/targets.ts'
import { loginAs, type Client } from '../helpers/session.ts'

const COUNTY = '530626'
const UNIT = COUNTY + '000000'

for (const target of targets().filter((t) => t.name === 'postgis')) {
  describe(`wall figures shared by two API processes on ${target.name}`, () => {
    let s1: RunningServer, s2: RunningServer
    let c1: Client, c2: Client
    let admin: Sql
    let town: string
    let grid: { code: string; lng: number; lat: number }

    /** How many times the figures were computed: each computation builds its 三查 table once (api/wall/state.ts). */
    const runs = async () => (await admin<{ n: number }[]>`SELECT count(*)::int AS n FROM test_wall_runs`)[0].n
    const lastEvent = async () => Number((await admin<{ id: string }[]>`SELECT coalesce(max(id), 0)::text AS id FROM live_events`)[0].id)
    /** A live event in the county, as every change a wall shows publishes one. */
    const event = async () => {
      await writeTx(s2.db.sql, { id: null, username: 'test:wall-shared', role: 'admin' }, (tx) => publish(tx, 'test.wall', grid.code, {}))
      return lastEvent()
    }
    const raw = async (c: Client, unit = UNIT) => {
      const r = await c.get(`/api/wall/state?unit=${unit}`)
      expect(r.status, await r.clone().text()).toBe(200)
      expect(r.headers.get('content-type')).toMatch(/^application\/json/)
      return r.text()
    }
    const wall = async (c: Client, unit = UNIT) => JSON.parse(await raw(c, unit)) as WallState

    beforeAll(async () => {
      admin = client(target.url)
      // Counts the figures' computations in the database, whichever process ran them.
      await admin`CREATE TABLE IF NOT EXISTS test_wall_runs (n serial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())`
      await admin.unsafe(`
        CREATE OR REPLACE FUNCTION test_wall_run() RETURNS event_trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() WHERE object_identity LIKE '%.wall_tasks') THEN
            INSERT INTO test_wall_runs DEFAULT VALUES;
          END IF;
        END $$`)
      await admin`DROP EVENT TRIGGER IF EXISTS test_wall_run`
      await admin`CREATE EVENT TRIGGER test_wall_run ON ddl_command_end WHEN TAG IN ('CREATE TABLE AS') EXECUTE FUNCTION test_wall_run()`
      // No report sweep: its escalations would be live events of their own between a test's questions.
      const opts = { port: 0, databaseUrl: target.url, seedScale: false as const, quiet: true, reportSweepEveryMs: 3600_000 }
      ;[s1, s2] = await Promise.all([startServer(opts), startServer(opts)])
      ;[c1, c2] = await Promise.all([loginAs(s1, 'commander', UNIT), loginAs(s2, 'commander', UNIT)])
      ;[{ code: town }] = await admin<{ code: string }[]>`SELECT code FROM admin_units WHERE level = 'township' AND code LIKE ${COUNTY + '%'} ORDER BY code LIMIT 1`
      ;[grid] = await admin<{ code: string; lng: number; lat: number }[]>`
        SELECT code, ST_X(ST_PointOnSurface(geom)) AS lng, ST_Y(ST_PointOnSurface(geom)) AS lat
        FROM grids WHERE kind = 'basic' AND code LIKE ${town.slice(0, 9) + '%'} ORDER BY code LIMIT 1`
    })
    afterAll(async () => {
      await Promise.all([s1?.close(), s2?.close()])
      if (!admin) return
      await admin`DROP EVENT TRIGGER IF EXISTS test_wall_run`
      await admin`DROP FUNCTION IF EXISTS test_wall_run()`
      await admin`DROP TABLE IF EXISTS test_wall_runs`
      await admin.end()
    })

    it('computes an area\'s figures once per event for both processes, asked at once', async () => {
      for (let round = 0; round < 2; round++) {
        await event()
        const before = await runs()
        const answers = await Promise.all([raw(c1), raw(c2), raw(c1), raw(c2), raw(c1), raw(c2)])
        expect(await runs() - before, `round ${round}`).toBe(1)
        expect(new Set(answers).size).toBe(1)
      }
    })

    it('computes each area once per event, each with its own figures', async () => {
      await event()
      const before = await runs()
      const [a1, b1, a2, b2] = await Promise.all([wall(c1), wall(c1, town), wall(c2), wall(c2, town)])
      expect(await runs() - before).toBe(2)
      expect(a1).toEqual(a2)
      expect(b1).toEqual(b2)
      expect([a1.unit.code, b1.unit.code]).toEqual([UNIT, town])
    })

    it('waits for the figures another process is computing, however long they take, and computes them once', async () => {
      await event()
      const before = await runs()
      // A third process computing this area's figures: the area's lock (api/wall/shared-figures.ts), longer than REUSE_MS.
      const other = client(target.url) // a connection of its own: `admin` counts meanwhile
      try {
        await other`BEGIN`
        await other`SELECT pg_advisory_xact_lock(hashtextextended(${'gridwatch.wall_figures:' + UNIT}, 0))`
        const answers = Promise.all([raw(c1), raw(c2)])
        await new Promise((r) => setTimeout(r, REUSE_MS + 500))
        expect(await runs()).toBe(before)
        // It ends without figures for this question (as one begun before it would): one of the two computes for both.
        await other`COMMIT`
        const [a, b] = await answers
        expect(b).toBe(a)
        expect(await runs() - before).toBe(1)
      } finally {
        await other.end()
      }
    })

    it('takes the other process\'s figures when no event came since, asked one after the other', async () => {
      await event()
      const before = await runs()
      const t0 = Date.now()
      const first = await raw(c1)
      const second = await raw(c2)
      // Only while young: a machine too busy to ask twice within REUSE_MS computes them again, rightly.
      if (Date.now() - t0 < REUSE_MS - 200) {
        expect(await runs() - before).toBe(1)
        expect(second).toBe(first)
      }
    })

    it('holds a change published a moment ago, though the other process had figures from before it', async () => {
      const worker: SessionUser = {
        ...(await loginAs(s2, 'grid_worker', grid.code).then((c) => ({ id: c.userId, username: c.username }))),
        displayName: '测试', role: 'grid_worker', unitCode: grid.code, mustChangePassword: false,
      }
      const before = await wall(c1)
      const { id } = await fileReport(s2.db.sql, worker, { type: 'other', urgency: 'urgent', lng: grid.lng, lat: grid.lat, note: '' }, new Date())
      const ev = await lastEvent()
      const after = await wall(c1)
      expect(after.reports.openTotal).toBe(before.reports.openTotal + 1)
      expect(after.ticker[0]).toMatchObject({ id: ev, kind: 'report', payload: expect.objectContaining({ id, action: 'filed' }) })
      expect(Date.parse(after.at)).toBeGreaterThan(Date.parse(before.at))
      await admin`DELETE FROM reports WHERE id = ${id}`
    })

    it('never hands out figures older than the newest event, too old, of a later moment, or from before the events were numbered afresh', async () => {
      const planted = '{"planted":true}'
      const plant = async (set: { event?: number; begunAgoMs?: number; atAheadMs?: number }) => {
        const ev = await lastEvent()
        await raw(c1) // the row exists, for the newest event
        await admin`
          UPDATE wall_figures SET figures = ${planted}::text::json, event_id = ${set.event ?? ev},
                 begun_at = clock_timestamp() - ${set.begunAgoMs ?? 0} * interval '1 millisecond',
                 at = clock_timestamp() + ${set.atAheadMs ?? 0} * interval '1 millisecond'
          WHERE unit_code = ${UNIT}`
        return ev
      }
      // The row as planted is taken (both processes read the one row)…
      await event()
      await plant({})
      expect(await raw(c2)).toBe(planted)
      // …but not once an event came after it,
      await plant({})
      await event()
      expect(await raw(c2)).not.toBe(planted)
      // nor for an event before the newest,
      const ev = await lastEvent()
      await plant({ event: ev - 1 })
      expect(await raw(c2)).not.toBe(planted)
      // nor past the newest (the events were emptied and numbered from 1 again),
      await plant({ event: ev + 5 })
      expect(await raw(c2)).not.toBe(planted)
      // nor begun longer ago than REUSE_MS,
      await plant({ begunAgoMs: REUSE_MS + 1000 })
      expect(await raw(c2)).not.toBe(planted)
      // nor of a moment ahead of the clock (another process's clock ahead).
      await plant({ atAheadMs: 60_000 })
      expect(await raw(c2)).not.toBe(planted)
      // And the figures that replace a refused row are the real ones, for the newest event.
      const w = await wall(c2)
      expect(w.unit.code).toBe(UNIT)
      expect((await admin<{ event_id: string }[]>`SELECT event_id::text FROM wall_figures WHERE unit_code = ${UNIT}`)[0].event_id).toBe(String(await lastEvent()))
    })

    it('still refuses an area that does not exist, and one outside the reader\'s own', async () => {
      const [{ code }] = await admin<{ code: string }[]>`SELECT code FROM admin_units WHERE level = 'county' AND code NOT LIKE ${COUNTY + '%'} LIMIT 1`
      const other = await loginAs(s1, 'commander', code)
      expect((await other.get(`/api/wall/state?unit=${UNIT}`)).status).toBe(403)
      const r = await c1.get(`/api/wall/state?unit=${COUNTY}999999`)
      expect(r.status).toBe(404)
      expect((await admin<{ n: number }[]>`SELECT count(*)::int AS n FROM wall_figures WHERE unit_code = ${COUNTY + '999999'}`)[0].n).toBe(0)
    })
  })
}
