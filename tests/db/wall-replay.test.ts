import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import type { WallState } from '../../core/contracts/wall.ts'
import { buildStorm, type Storm } from '../../data/storms/build.ts'
import { shifted, writeStormHistory } from '../../api/demo/storm.ts'
import { testClock } from '../helpers/clock.ts'
import { loginAs, type Client } from '../helpers/session.ts'
import { targets } from '../helpers/targets.ts'
import { clearStorms } from '../helpers/wall.ts'

const COUNTY = '530626'
const UNIT = COUNTY + '000000'
const H = 3600_000
const DAY = 24 * H
const iso = (t: number) => new Date(t).toISOString()

interface Window { from: string; to: string; counties: string[] }

/**
 * Issue #17: a replayed moment shows only what was true then — the events of
 * its own storm up to that moment, never an earlier storm's. Two storms over
 * one county ten days apart, both as lived (rain, ticks, transfers, the feed).
 */
for (const target of targets()) {
  describe(`the wall's replay of one storm among others on ${target.name}`, () => {
    let s: RunningServer
    let commander: Client
    let july: Storm
    let later: Storm
    let windows: Window[]
    const clock = testClock()
    const wall = async (at: number) => {
      const r = await commander.get(`/api/wall/state?unit=${UNIT}&at=${encodeURIComponent(iso(at))}`)
      expect(r.status, await r.clone().text()).toBe(200)
      return (await r.json()) as WallState
    }

    beforeAll(async () => {
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true, clock, sweepEveryMs: 3600_000 })
      await clearStorms(s.db.sql)
      july = await buildStorm(s.db.sql, { county: COUNTY, seed: 5, spacingKm: 5 })
      later = shifted(july, 10 * DAY)
      await writeStormHistory(s.db.sql, july)
      await writeStormHistory(s.db.sql, later)
      clock.set(Date.parse(later.hours.at(-1)!.hour) + 3 * DAY)
      commander = await loginAs(s, 'commander', UNIT)
      windows = ((await (await commander.get(`/api/wall/storms?unit=${UNIT}`)).json()) as { storms: Window[] }).storms
    })
    afterAll(async () => {
      if (s) await clearStorms(s.db.sql)
      await s?.close()
    })

    it('lists the two storms, newest first', () => {
      expect(windows).toHaveLength(2)
      expect(Date.parse(windows[0].from)).toBeLessThan(Date.parse(later.forecasts[0].issuedAt))
      expect(Date.parse(windows[1].to)).toBeLessThan(Date.parse(windows[0].from))
    })

    it('shows in the feed of a replayed moment only the events of its own storm up to that moment', async () => {
      const [w2, w1] = windows.map((w) => ({ from: Date.parse(w.from), to: Date.parse(w.to) }))
      const firstReading = Date.parse(later.hours[0].hour) + H
      const moments = [w2.from + 30 * 60_000, w2.from + 2 * H, firstReading + 13 * H, w2.to - H]
      let seen = 0
      for (const at of moments) {
        const w = await wall(at)
        const outside = w.ticker.filter((e) => Date.parse(e.at) < w2.from || Date.parse(e.at) > at)
        expect(outside.map((e) => `${e.at} ${e.kind}`), iso(at)).toEqual([])
        expect(w.storm, iso(at)).toEqual({ from: windows[0].from, to: windows[0].to })
        seen += w.ticker.length
      }
      expect(seen, 'the later storm has events of its own to show').toBeGreaterThan(10)
      // Just after the later storm's first forecast, the feed has that one event, nothing of July's.
      const early = await wall(Date.parse(later.forecasts[0].issuedAt) + 10 * 60_000)
      expect(early.ticker.map((e) => e.kind)).toEqual(['rain.update'])
      // July's storm, replayed, shows July's events.
      const mid = await wall(w1.from + 20 * H)
      expect(mid.ticker.length).toBeGreaterThan(0)
      expect(mid.ticker.every((e) => Date.parse(e.at) >= w1.from)).toBe(true)
    })

    it('counts only the replayed storm’s checklists, and no rain of the storm before as live', async () => {
      // Before the later storm's first reading: the rain known then is July's, ten days old — not current.
      const w = await wall(Date.parse(later.forecasts[0].issuedAt) + 30 * 60_000)
      expect(w.rain.current).toBe(false)
      expect(w.rain.asOf).toBe(iso(Date.parse(july.hours.at(-1)!.hour) + H))
      expect(w.sites.overCritical).toBe(0)
      const at = Date.parse(later.hours[0].hour) + 14 * H
      const mid = await wall(at)
      const [{ n }] = await s.db.sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM tasks t JOIN rain_events e ON e.id = t.event_id
        WHERE e.started_at >= ${later.forecasts[0].issuedAt}::timestamptz AND t.opened_at <= ${iso(at)}::timestamptz`
      expect(n).toBeGreaterThan(0)
      expect(mid.checks.before.total + mid.checks.during.total + mid.checks.after.total).toBe(n)
      expect(mid.rain.current).toBe(true)
    })
  })
}
