import { Hono } from 'hono'
import { z } from 'zod'
import { requireUser } from '../auth/guard.ts'
import type { Database } from '../../db/connect.ts'
import { log } from '../../core/log.ts'
import { hexagonResolutions, type HexagonResolution } from '../../core/contracts/hexagons.ts'
import { queryObject, readQuery } from '../validate.ts'
import { systemClock, type Clock } from '../clock.ts'
import { HexagonCache } from '../hexagons/cache.ts'
import { hexagonView } from '../hexagons/view.ts'

const query = z.object({
  unit: z.string().regex(/^[0-9]{12}$/, 'a 12-digit admin code'),
  res: z.enum(hexagonResolutions.map(String) as [string, ...string[]]).transform((r) => Number(r) as HexagonResolution),
}).strict()

/** The hexagon view of an area (GET /api/hexagons?unit=…&res=5..8): households and what is happening to them, per H3 cell. */
export function hexagonRoutes(db: Database, clock: Clock = systemClock) {
  const app = new Hono()
  const cache = new HexagonCache()
  const listening = cache.listen(db).catch((err) => log.warn('hexagons: cannot listen for changes; cells age out instead', err))
  app.get('/api/hexagons', async (c) => {
    const user = requireUser(c)
    const q = readQuery(query, queryObject(c))
    await listening
    c.header('Cache-Control', 'no-store')
    return c.json(await hexagonView(db.sql, user, q, { cache, now: clock() }))
  })
  return app
}
