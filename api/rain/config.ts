import { z } from 'zod'
import type { Sql } from '../db/connect.ts'
import type { Tx } from '../db/write.ts'

export const colours = ['blue', 'yellow', 'orange', 'red'] as const
export type Colour = (typeof colours)[number]
export const targetKinds = ['hazard_site', 'household', 'grid'] as const
export type TargetKind = (typeof targetKinds)[number]
export const phases = ['before', 'during', 'after'] as const
export type Phase = (typeof phases)[number]

/** Rain sums the state keeps; a signal's window must be one of them. */
export const sumHours = [1, 3, 6, 12, 24] as const

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
  after: z.object({ dryHours: z.number().int().min(1).max(72), dueHours: z.number().positive().max(168) }),
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

/** The signal colour for sums, highest first (what the SQL does, for tests and clients). */
export function signalColour(cfg: RainConfig['signals'], sums: Record<(typeof sumHours)[number], number>): Colour | null {
  for (const c of [...colours].reverse()) if (sums[cfg[c].hours as (typeof sumHours)[number]] >= cfg[c].mm) return c
  return null
}
