/**
 * A session looked up by a process that has not cached it (another API process, or the cache's 30 s gone by) is
 * read, not written, when it was moved on within the last minute: on a storm night every grid worker's action
 * every half minute was one more write transaction. Older than that, the lookup moves its end on (and says so,
 * for the cookie); an expired session is still refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { SessionStore, tokenHash } from '../../api/auth/sessions.ts'
import { loginAs, type Client } from '../helpers/session.ts'
import { targets } from '../helpers/targets.ts'

const CITY = '530600000000'

for (const target of targets()) {
  describe(`session lookups on ${target.name}`, () => {
    let s: RunningServer
    let viewer: Client
    let hash: string
    let token: string
    const stores: SessionStore[] = []
    /** A store with nothing cached: what another API process has. */
    const freshStore = async () => {
      const store = await SessionStore.create(s.db)
      stores.push(store)
      return store
    }
    const row = async () => (await s.db.sql`SELECT last_seen_at, expires_at FROM sessions WHERE token_hash = ${hash}`)[0]

    beforeAll(async () => {
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true })
      viewer = await loginAs(s, 'viewer', CITY)
      token = viewer.cookie.slice(viewer.cookie.indexOf('=') + 1)
      hash = tokenHash(token)
    })
    afterAll(async () => {
      for (const store of stores) await store.close()
      await s?.close()
    })

    it('a session moved on within the minute is only read', async () => {
      const before = await row()
      const found = await (await freshStore()).lookup(token)
      expect(found?.user.id).toBe(viewer.userId)
      expect(found?.renewed).toBe(false)
      expect(await row()).toEqual(before)
    })

    it('one last moved on over a minute ago is moved on, and the lookup says so', async () => {
      await s.db.sql`UPDATE sessions SET last_seen_at = now() - interval '2 minutes', expires_at = now() + interval '1 hour' WHERE token_hash = ${hash}`
      const before = await row()
      const found = await (await freshStore()).lookup(token)
      expect(found?.user.id).toBe(viewer.userId)
      expect(found?.renewed).toBe(true)
      const after = await row()
      expect(after.last_seen_at.getTime()).toBeGreaterThan(before.last_seen_at.getTime())
      expect(after.expires_at.getTime()).toBeGreaterThan(before.expires_at.getTime())
    })

    it('an expired session is refused, and not brought back', async () => {
      await s.db.sql`UPDATE sessions SET last_seen_at = now() - interval '13 hours', expires_at = now() - interval '1 hour' WHERE token_hash = ${hash}`
      expect(await (await freshStore()).lookup(token)).toBeUndefined()
      expect((await row()).expires_at.getTime()).toBeLessThan(Date.now())
    })
  })
}
