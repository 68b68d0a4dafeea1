import type { Context } from 'hono'
import { Hono } from 'hono'
import { authorize, requireUser } from '../auth/guard.ts'
import type { Sql } from '../../db/connect.ts'
import { HttpError } from '../../core/errors.ts'
import { listConfig, saveSetting } from '../rain/config.ts'
import { listRainEvents, rainStateOf } from '../rain/read.ts'
import { systemClock, type Clock } from '../clock.ts'
import { ingestForecasts, ingestReadings, ingestStations, ingestWarnings, type RawRow } from '../rain/ingest.ts'
import { rowsFromBody, type RainKind } from '../rain/rows.ts'

/**
 * The rows of a rain POST: a JSON array, or an object holding the array
 * under the kind's name; for readings also CSV (text/csv, header station,hour,mm).
 */
async function readRows(c: Context, kind: RainKind): Promise<RawRow[]> {
  const type = c.req.header('Content-Type') ?? ''
  // Its size is limited at the edge (api/edge/body-limits.ts: 16 MB, chunked bodies too).
  const csv = kind === 'readings'
  if (csv && /^text\/csv\b/i.test(type)) return rowsFromBody(await c.req.text(), 'csv', kind)
  if (!/^application\/json\b/i.test(type)) {
    throw new HttpError(415, 'json_required',
      `请求体须为 JSON${csv ? ' 或 CSV（text/csv）' : ''}`, `the body must be JSON${csv ? ' or CSV (text/csv)' : ''}`)
  }
  return rowsFromBody(await c.req.text(), 'json', kind)
}

const rainUnit = (raw: string | undefined) => {
  if (raw === undefined) return undefined
  if (!/^[0-9]{12}([0-9]{3})?$/.test(raw)) throw new HttpError(400, 'bad_code', `unit 须为 12 位区划代码或 15 位网格代码，收到 "${raw}"`, `unit must be a 12-digit admin code or a 15-digit grid code, got "${raw}"`)
  return raw
}

export function rainRoutes(sql: Sql, clock: Clock = systemClock) {
  const app = new Hono()

  app.post('/api/rain/stations', async (c) => {
    const user = authorize(c, 'rain.ingest')
    return c.json(await ingestStations(sql, user, await readRows(c, 'stations')))
  })
  app.post('/api/rain/readings', async (c) => {
    const user = authorize(c, 'rain.ingest')
    return c.json(await ingestReadings(sql, user, await readRows(c, 'readings')))
  })
  app.post('/api/rain/forecasts', async (c) => {
    const user = authorize(c, 'rain.ingest')
    return c.json(await ingestForecasts(sql, user, await readRows(c, 'forecasts')))
  })
  app.post('/api/rain/warnings', async (c) => {
    const user = authorize(c, 'rain.ingest')
    return c.json(await ingestWarnings(sql, user, await readRows(c, 'warnings')))
  })

  app.get('/api/rain/state', async (c) => {
    requireUser(c)
    const unit = rainUnit(c.req.query('unit')) ?? '530600000000'
    const kind = c.req.query('kind')
    if (kind !== undefined && kind !== 'grid' && kind !== 'site') throw new HttpError(400, 'bad_kind', 'kind 须为 grid 或 site', 'kind must be grid or site')
    const state = await rainStateOf(sql, clock(), { unit, kind, alertOnly: c.req.query('alert') === 'true' })
    c.header('Cache-Control', 'no-store')
    return c.json(state)
  })

  app.get('/api/rain/events', async (c) => {
    requireUser(c)
    return c.json({ events: await listRainEvents(sql) })
  })

  // The rules (signals, 1262 ladder, during/after, interpolation): readable by all, editable by city-level command.
  app.get('/api/rain/config', async (c) => {
    requireUser(c)
    return c.json({ config: await listConfig(sql) })
  })
  app.put('/api/rain/config/:key', async (c) => {
    const user = requireUser(c)
    let body: unknown
    try {
      body = await c.req.json()
    } catch {
      throw new HttpError(400, 'bad_json', '请求体不是有效的 JSON', 'the body is not valid JSON')
    }
    const { version, value } = (body ?? {}) as { version?: unknown; value?: unknown }
    return c.json(await saveSetting(sql, user, { key: c.req.param('key'), version, value }))
  })
  return app
}
