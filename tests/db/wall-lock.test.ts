/**
 * The command wall's figures take no lock a rain update holds (rain_cache's row) while the rain weights are current:
 * they did, so every wall of every API process waited for the others and for each rain update, one at a time, and a
 * storm night's walls (each asking on every live event) queued behind each other. PostGIS only: the embedded
 * database runs one backend, where a transaction held by a second connection holds everyone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { loginAs, type Client } from '../helpers/session.ts'
import { targets } from '../helpers/targets.ts'

const UNIT = '530626000000'

for (const target of targets().filter((t) => t.name === 'postgis')) {
  describe(`wall figures beside a rain update on ${target.name}`, () => {
    let s: RunningServer
    let commander: Client

    beforeAll(async () => {
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true })
      commander = await loginAs(s, 'commander', UNIT)
      // Current weights, as after any rain update (a stale cache is rebuilt under the lock, by a reader too).
      const r = await commander.get(`/api/wall/state?unit=${UNIT}`)
      expect(r.status, await r.clone().text()).toBe(200)
    })
    afterAll(async () => {
      await s?.close()
    })

    it('are answered while a rain update holds the rain cache', async () => {
      const held = await s.db.sql.reserve()
      let looking = true
      try {
        await held`BEGIN`
        await held`SELECT 1 FROM rain_cache FOR UPDATE` // what a rain update and the storm-end sweep take
        // Is a wall request waiting on that lock? (It answers first, or it is seen waiting: one or the other happens.)
        const blocked = async () => {
          while (looking) {
            const [w] = await s.db.sql`SELECT count(*)::int AS n FROM pg_stat_activity
                                        WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%rain_cache%FOR UPDATE%'`
            if ((w.n as number) > 0) return 'waiting on the rain update' as const
            await new Promise((r) => setTimeout(r, 50))
          }
          return 'stopped' as const
        }
        const answer = commander.get(`/api/wall/state?unit=${UNIT}`).then(async (r) => {
          expect(r.status, await r.clone().text()).toBe(200)
          return 'answered' as const
        })
        expect(await Promise.race([answer, blocked()])).toBe('answered')
      } finally {
        looking = false
        await held`ROLLBACK`
        held.release()
      }
    })
  })
}
