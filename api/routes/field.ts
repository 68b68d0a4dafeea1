import { Hono } from 'hono'
import { z } from 'zod'
import { requireUser } from '../auth/guard.ts'
import type { Sql } from '../../db/connect.ts'
import { parseId } from '../../core/errors.ts'
import { systemClock, type Clock } from '../clock.ts'
import { readJson, readQuery } from '../validate.ts'
import { syncBody } from '../field/actions.ts'
import { applyBatch } from '../field/sync.ts'
import { fieldGrids, gridRequired, gridToday } from '../field/today.ts'
import { trackOfDay } from '../field/tracks.ts'
import { gridPatrols } from '../field/patrols.ts'
import { fieldOverview } from '../field/overview.ts'
import { fieldPhoto, PHOTO } from '../field/photos.ts'

/** The field app's API (issue #19): the outbox's sync, the grid kept on the phone, patrol tracks, photos. */
export function fieldRoutes(sql: Sql, clock: Clock = systemClock) {
  const app = new Hono()

  // The outbox: actions in the order they were made, each applied once (its id is the key).
  app.post('/api/field/sync', async (c) => {
    const user = requireUser(c)
    const { actions } = await readJson(c, syncBody)
    const results = await applyBatch(sql, user, actions, clock)
    c.header('Cache-Control', 'no-store')
    return c.json({ results, serverTime: clock() })
  })

  app.get('/api/field/grids', async (c) => c.json({ grids: await fieldGrids(sql, requireUser(c)) }))

  app.get('/api/field/today', async (c) => {
    const user = requireUser(c)
    const q = readQuery(z.object({ grid: z.string().regex(/^[0-9]{15}$/, 'a 15-digit grid code').optional() }).strict(), c.req.query())
    const grid = q.grid ?? (user.unitCode.length === 15 ? user.unitCode : null)
    if (!grid) throw gridRequired()
    c.header('Cache-Control', 'no-store')
    return c.json(await gridToday(sql, user, grid, clock()))
  })

  app.get('/api/field/tracks', async (c) => {
    const user = requireUser(c)
    const q = readQuery(z.object({
      user: z.coerce.number().int().positive().max(2147483647),
      day: z.iso.date(),
    }).strict(), c.req.query())
    return c.json(await trackOfDay(sql, user, q.user, q.day))
  })

  app.get('/api/field/patrols', async (c) => {
    const user = requireUser(c)
    const q = readQuery(z.object({ grid: z.string().regex(/^[0-9]{15}([0-9]{2})?$/, 'a 15- or 17-digit grid code'), day: z.iso.date() }).strict(), c.req.query())
    c.header('Cache-Control', 'no-store')
    return c.json(await gridPatrols(sql, user, q))
  })

  app.get('/api/field/overview', async (c) => {
    const user = requireUser(c)
    const q = readQuery(z.object({ unit: z.string().regex(/^[0-9]{12}$/, 'a 12-digit admin code'), day: z.iso.date() }).strict(), c.req.query())
    c.header('Cache-Control', 'no-store')
    return c.json(await fieldOverview(sql, user, q))
  })

  app.get('/api/field/photos/:id', async (c) => {
    const user = requireUser(c)
    const id = parseId(c.req.param('id'), PHOTO)
    const p = await fieldPhoto(sql, user, id)
    return c.body(p.bytes, 200, { 'Content-Type': p.mime, 'Cache-Control': 'private, max-age=86400', 'X-Content-Type-Options': 'nosniff' })
  })

  // Its thumbnail for records and lists (the photo itself when it came without one: X-Thumbnail says which).
  app.get('/api/field/photos/:id/thumb', async (c) => {
    const user = requireUser(c)
    const id = parseId(c.req.param('id'), PHOTO)
    const p = await fieldPhoto(sql, user, id, 'thumb')
    return c.body(p.bytes, 200, {
      'Content-Type': p.mime, 'Cache-Control': 'private, max-age=86400', 'X-Content-Type-Options': 'nosniff', 'X-Thumbnail': p.thumb ? 'yes' : 'none',
    })
  })
  return app
}
