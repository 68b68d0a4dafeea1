import { Hono } from 'hono'
import { z } from 'zod'
import { requireUser } from '../auth/guard.ts'
import { inScope } from '../../core/units.ts'
import type { Sql } from '../../db/connect.ts'
import { HttpError } from '../../core/errors.ts'
import { readQuery } from '../validate.ts'
import { stormWindows } from '../wall/storms.ts'
import { wallState } from '../wall/state.ts'
import { FreshShared } from '../wall/fresh-shared.ts'
import { sharedFigures } from '../wall/shared-figures.ts'
import { systemClock, type Clock } from '../clock.ts'
import { requireUnit } from '../units/known.ts'

const admin = z.string().regex(/^[0-9]{12}$/, 'a 12-digit admin code')
const stateQuery = z.object({ unit: admin.optional(), at: z.iso.datetime({ offset: true }).optional() }).strict()
/** Replays go back to the first storms a flood office keeps; later than now is the future, which no one has recorded. */
const EARLIEST = Date.UTC(2000, 0, 1)
const LEEWAY_MS = 60_000

/** The area a wall shows: the one asked for, inside the reader's own; by default the reader's own (a grid worker's: their village). */
function wallUnit(userUnit: string, asked: string | undefined): string {
  const own = userUnit.slice(0, 12)
  if (asked === undefined) return own
  if (!inScope(userUnit, asked) && !inScope(asked, userUnit)) {
    throw new HttpError(403, 'forbidden_scope', `超出您的管辖范围（${userUnit}）：${asked}`, `outside your area (${userUnit}): ${asked}`)
  }
  // Someone asking for a larger area than theirs sees their own part of it.
  return inScope(userUnit, asked) ? asked : own
}

/** The command wall (/screen): its figures at now or any past moment, and the storms there are to replay. */
export function wallRoutes(sql: Sql, clock: Clock = systemClock) {
  const app = new Hono()
  // Asked together in this process: one question to the figures shared by every process (shared-figures.ts).
  const live = new FreshShared((unit, askedAt) => sharedFigures(sql, unit, clock, askedAt))

  app.get('/api/wall/state', async (c) => {
    const user = requireUser(c)
    const q = readQuery(stateQuery, c.req.query())
    const unit = wallUnit(user.unitCode, q.unit)
    const now = clock()
    const at = q.at === undefined ? now : new Date(q.at)
    if (at.getTime() < EARLIEST || at.getTime() > now.getTime() + LEEWAY_MS) {
      throw new HttpError(400, 'bad_time', `时间须在 2000 年之后且不晚于现在：${q.at}`, `the time must be after 2000 and not in the future: ${q.at}`)
    }
    c.header('Cache-Control', 'no-store')
    // Now: shared by the walls of the same area asking together (each answer begun after its question).
    if (q.at === undefined) return c.body(await live.get(unit), 200, { 'Content-Type': 'application/json' })
    await requireUnit(sql, unit)
    return c.json(await wallState(sql, unit, at, now))
  })

  app.get('/api/wall/storms', async (c) => {
    const user = requireUser(c)
    const q = readQuery(z.object({ unit: admin.optional() }).strict(), c.req.query())
    return c.json({ storms: await stormWindows(sql, wallUnit(user.unitCode, q.unit), clock()) })
  })

  return app
}
