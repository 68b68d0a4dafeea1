import { z } from 'zod'
import { authorizeUserCityWide, type SessionUser } from '../auth/guard.ts'
import type { Sql } from '../../db/connect.ts'
import { writeTx, type Tx } from '../../db/write.ts'
import { HttpError } from '../../core/errors.ts'
import type { Ladder } from '../../core/rules/ladder.ts'
import type { CurrentRule } from '../../core/rules/rain-current.ts'
import type { Signals } from '../../core/rules/rain-signal.ts'


const signal = z.object({ mm: z.number().positive().max(1000), hours: z.union([z.literal(1), z.literal(3), z.literal(6), z.literal(12), z.literal(24)]) })
const householdSet = z.enum(['vulnerable', 'everyone']).nullable()

/** The shape of each rain_config row (data/migrations/005_rain.sql holds the defaults). */
export const configSchemas = {
  signals: z.object({ blue: signal, yellow: signal, orange: signal, red: signal }),
  ladder: z.object({
    heavyRainMm: z.number().positive().max(1000),
    steps: z
      .array(z.object({
        lead: z.union([z.literal(12), z.literal(6), z.literal(2)]),
        level: z.enum(['county', 'township']),
        targets: z.array(z.enum(['hazard_site', 'grid'])),
        households: householdSet,
        dueBeforeStartHours: z.number().min(0).max(24),
      }))
      .min(1)
      .max(3),
    night: z.object({
      fromHour: z.number().int().min(0).max(23),
      toHour: z.number().int().min(0).max(23),
      timeZone: z.string().min(1).max(40),
      households: householdSet,
    }),
  }),
  during: z.object({ dueHours: z.number().positive().max(72), wetMm: z.number().positive().max(10) }),
  // timeoutHours: after the after-rain checks open (or, for an event that never opened them, after its
  // last rain or forecast), the event is over and its unfinished checklists are closed as missed.
  after: z.object({ dryHours: z.number().int().min(1).max(72), dueHours: z.number().positive().max(168), timeoutHours: z.number().positive().max(720) }),
  /** Rain of a unit is current while the newest reading of its stations ended at most maxAgeHours ago. */
  current: z.object({ maxAgeHours: z.number().positive().max(168) }),
  interpolation: z.object({ neighbours: z.number().int().min(1).max(12), radiusKm: z.number().positive().max(200), power: z.number().min(0.5).max(4) }),
}
export type ConfigKey = keyof typeof configSchemas
export type RainConfig = { [K in ConfigKey]: z.infer<(typeof configSchemas)[K]> }

export async function loadConfig(sql: Sql | Tx): Promise<RainConfig> {
  const rows = await sql<{ key: string; value: unknown }[]>`SELECT key, value FROM rain_config`
  const byKey = Object.fromEntries(rows.map((r) => [r.key, r.value]))
  const out: Partial<RainConfig> = {}
  for (const key of Object.keys(configSchemas) as ConfigKey[]) {
    // A row edited by hand into something unreadable must say so, not half-work.
    const r = configSchemas[key].safeParse(byKey[key])
    if (!r.success) throw new Error(`rain_config.${key} is invalid: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
    ;(out as Record<string, unknown>)[key] = r.data
  }
  return out as RainConfig
}

/** The rows' shapes are the rules' (core/rules): a schema that drifts from them fails to compile here. */
type Fits<T extends U, U> = T
export type RulesFit = [Fits<RainConfig['signals'], Signals>, Fits<RainConfig['ladder'], Ladder>, Fits<RainConfig['current'], CurrentRule>]

/** Every setting with its version, for reading and for an edit that names the version it started from. */
export async function listConfig(sql: Sql) {
  return sql`SELECT key, value, version, updated_at AS "updatedAt" FROM rain_config ORDER BY key`
}

/**
 * Replaces one setting (city-wide: only a city-level commander) when the
 * version sent is current; the value is checked against the setting's schema.
 */
export async function saveSetting(sql: Sql, user: SessionUser, input: { key: string; version: unknown; value: unknown }) {
  authorizeUserCityWide(user, 'task.manage', { zh: '降雨规则', en: 'the rain rules' })
  const { key, version } = input
  if (!(key in configSchemas)) throw new HttpError(404, 'not_found', `没有这项配置：${key}`, `no such setting: ${key}`)
  const r = configSchemas[key as ConfigKey].safeParse(input.value)
  if (!r.success || typeof version !== 'number') {
    const where = r.success ? 'version: required' : r.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ')
    throw new HttpError(400, 'bad_input', `配置有误：${where}`, `invalid setting: ${where}`)
  }
  return writeTx(sql, user, async (tx) => {
    const [cur] = await tx`SELECT version FROM rain_config WHERE key = ${key} FOR UPDATE`
    if (cur.version !== version) {
      throw new HttpError(409, 'version_conflict', `配置已被他人修改（当前版本 ${cur.version}），请刷新后重试`, `the setting was changed meanwhile (now version ${cur.version}); reload and retry`)
    }
    const [u] = await tx`UPDATE rain_config SET value = ${tx.json(r.data as never)}, version = version + 1, updated_at = now()
                         WHERE key = ${key} RETURNING key, value, version`
    return u
  })
}
