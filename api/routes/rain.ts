import type { Context } from 'hono'
import { Hono } from 'hono'
import { authorize, authorizeCityWide, requireUser } from '../auth/guard.ts'
import type { Sql } from '../db/connect.ts'
import { writeTx } from '../db/write.ts'
import { HttpError } from '../errors.ts'
import { configSchemas, type ConfigKey } from '../rain/config.ts'
import { ingestForecasts, ingestReadings, ingestStations, ingestWarnings, type RawRow } from '../rain/ingest.ts'
import { rowsFromBody, type RainKind } from '../rain/rows.ts'
import { scopePrefix } from '../auth/policy.ts'

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

export function rainRoutes(sql: Sql) {
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

  // Rain per grid and hazard site under a unit, as of the latest reading hour.
  app.get('/api/rain/state', async (c) => {
    requireUser(c)
    const unit = rainUnit(c.req.query('unit')) ?? '530600000000'
    const kind = c.req.query('kind')
    if (kind !== undefined && kind !== 'grid' && kind !== 'site') throw new HttpError(400, 'bad_kind', 'kind 须为 grid 或 site', 'kind must be grid or site')
    const alertOnly = c.req.query('alert') === 'true'
    const prefix = scopePrefix(unit) + '%'
    const [meta] = await sql`SELECT state_as_of AS "asOf" FROM rain_cache`
    const counts = await sql`
      SELECT kind, coalesce(colour, 'none') AS colour, count(*)::int AS n, count(*) FILTER (WHERE on_alert)::int AS "onAlert"
      FROM rain_state WHERE unit_code LIKE ${prefix} GROUP BY 1, 2 ORDER BY 1, 2`
    const units = await sql`
      SELECT kind, unit_id AS id, code, unit_code AS "unitCode", rain_1h AS "rain1h", rain_3h AS "rain3h", rain_6h AS "rain6h",
             rain_12h AS "rain12h", rain_24h AS "rain24h", signal_colour AS "signalColour", warning_colour AS "warningColour",
             colour, on_alert AS "onAlert"
      FROM rain_state
      WHERE unit_code LIKE ${prefix} ${kind ? sql`AND kind = ${kind}` : sql``} ${alertOnly ? sql`AND (on_alert OR colour IS NOT NULL)` : sql``}
      ORDER BY kind, code LIMIT 50000`
    return c.json({ unit, asOf: meta?.asOf ?? null, counts, units })
  })

  app.get('/api/rain/events', async (c) => {
    requireUser(c)
    const events = await sql`
      SELECT id, county_code AS county, started_at AS "startedAt", expect_until AS "expectUntil", last_wet_at AS "lastWetAt",
             last_alert_at AS "lastAlertAt", after_opened_at AS "afterOpenedAt", closed_at AS "closedAt"
      FROM rain_events ORDER BY started_at DESC LIMIT 200`
    return c.json({ events })
  })

  // The rules (signals, 1262 ladder, during/after, interpolation): readable by all, editable by city-level command.
  app.get('/api/rain/config', async (c) => {
    requireUser(c)
    const rows = await sql`SELECT key, value, version, updated_at AS "updatedAt" FROM rain_config ORDER BY key`
    return c.json({ config: rows })
  })
  app.put('/api/rain/config/:key', async (c) => {
    const user = authorizeCityWide(c, 'task.manage', { zh: '降雨规则', en: 'the rain rules' })
    const key = c.req.param('key')
    if (!(key in configSchemas)) throw new HttpError(404, 'not_found', `没有这项配置：${key}`, `no such setting: ${key}`)
    let body: unknown
    try {
      body = await c.req.json()
    } catch {
      throw new HttpError(400, 'bad_json', '请求体不是有效的 JSON', 'the body is not valid JSON')
    }
    const { version, value } = (body ?? {}) as { version?: unknown; value?: unknown }
    const r = configSchemas[key as ConfigKey].safeParse(value)
    if (!r.success || typeof version !== 'number') {
      const where = r.success ? 'version: required' : r.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ')
      throw new HttpError(400, 'bad_input', `配置有误：${where}`, `invalid setting: ${where}`)
    }
    const row = await writeTx(sql, user, async (tx) => {
      const [cur] = await tx`SELECT version FROM rain_config WHERE key = ${key} FOR UPDATE`
      if (cur.version !== version) {
        throw new HttpError(409, 'version_conflict', `配置已被他人修改（当前版本 ${cur.version}），请刷新后重试`, `the setting was changed meanwhile (now version ${cur.version}); reload and retry`)
      }
      const [u] = await tx`UPDATE rain_config SET value = ${tx.json(r.data as never)}, version = version + 1, updated_at = now()
                           WHERE key = ${key} RETURNING key, value, version`
      return u
    })
    return c.json(row)
  })
  return app
}
