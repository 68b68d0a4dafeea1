import type { Sql } from '../../db/connect.ts'

/**
 * A synthetic night of heavy rain over one county, like those in the
 * mountain counties in July: a storm cell crosses the county south-west to
 * north-east from 20:00 to 04:00 Beijing time, with light rain around it, a
 * dry morning after; a 12 h county forecast, 6 h and rolling 2 h township
 * forecasts of the same field. Deterministic for a given county, seed and
 * database (stations are laid on a lattice over the county outline, forecast
 * amounts evaluated at the township label points).
 */
export interface Storm {
  name: string
  county: string
  seed: number
  stations: { code: string; name: string; lon: number; lat: number; elevation: number }[]
  /** Readings per hour, in order; `hour` is the start of the hour. */
  hours: { hour: string; readings: { station: string; mm: number }[] }[]
  forecasts: { area: string; leadHours: 2 | 6 | 12; periodStart: string; periodEnd: string; mm: number; issuedAt: string }[]
}

/** Beijing time on the storm's first day. */
const T = (day: number, hour: number) => new Date(Date.UTC(2026, 6, 14 + day, hour - 8)).toISOString()

function mulberry32(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const km = (lat: number) => ({ x: 111.32 * Math.cos((lat * Math.PI) / 180), y: 110.57 })

export async function buildStorm(sql: Sql, opts: { county: string; seed?: number; spacingKm?: number }): Promise<Storm> {
  const seed = opts.seed ?? 1
  const rnd = mulberry32(seed * 7919 + Number(opts.county))
  const [c] = await sql<{ name: string; w: number; s: number; e: number; n: number; geom: string }[]>`
    SELECT name, ST_XMin(geom) AS w, ST_YMin(geom) AS s, ST_XMax(geom) AS e, ST_YMax(geom) AS n, ST_AsText(geom) AS geom
    FROM admin_units WHERE code = ${opts.county + '000000'} AND level = 'county'`
  if (!c) throw new Error(`county ${opts.county} is not in the database (seed it first)`)
  const k = km((c.s + c.n) / 2)

  // Stations: a jittered lattice, kept where it falls inside the county.
  const spacing = opts.spacingKm ?? 6
  const candidates: { lon: number; lat: number; elevation: number }[] = []
  for (let y = c.s + spacing / k.y / 2; y < c.n; y += spacing / k.y) {
    for (let x = c.w + spacing / k.x / 2; x < c.e; x += spacing / k.x) {
      candidates.push({ lon: round(x + ((rnd() - 0.5) * spacing * 0.5) / k.x, 5), lat: round(y + ((rnd() - 0.5) * spacing * 0.5) / k.y, 5),
                        elevation: Math.round(1400 + rnd() * 1500) })
    }
  }
  const inside = await sql<{ i: number }[]>`
    SELECT (p.ord - 1)::int AS i FROM jsonb_array_elements(${sql.json(candidates as never)}) WITH ORDINALITY p(pt, ord)
    WHERE ST_Intersects(ST_GeomFromText(${c.geom}, 4326), ST_SetSRID(ST_MakePoint((p.pt->>'lon')::float8, (p.pt->>'lat')::float8), 4326))
    ORDER BY 1`
  const stations = inside.map(({ i }, n) => ({
    code: `R${opts.county}${String(n + 1).padStart(3, '0')}`,
    name: `${c.name}${String(n + 1).padStart(3, '0')}号自动雨量站`,
    ...candidates[i],
  }))

  // The cell: centre moves from the south-west corner to the north-east one.
  const cx = (h: number) => c.w + (c.e - c.w) * (0.15 + 0.7 * h)
  const cy = (h: number) => c.s + (c.n - c.s) * (0.25 + 0.5 * h)
  const sigmaKm = 9
  /** Millimetres in the hour starting `hourIdx` hours after 20:00, at a point. */
  const field = (hourIdx: number, lon: number, lat: number, noise: number) => {
    if (hourIdx < -1 || hourIdx > 8) return 0
    const p = Math.min(1, Math.max(0, hourIdx / 8))
    const dx = (lon - cx(p)) * k.x, dy = (lat - cy(p)) * k.y
    const peak = hourIdx < 0 ? 4 : 48 * Math.sin((Math.PI * (hourIdx + 1)) / 10)
    const cell = peak * Math.exp(-(dx * dx + dy * dy) / (2 * sigmaKm * sigmaKm))
    const light = hourIdx < 0 ? 0.8 : 1.5 + 2 * noise
    return round(Math.min(150, cell + light), 1)
  }

  // Readings from 08:00 (dry) through 12:00 the next day (a dry morning).
  const hours: Storm['hours'] = []
  for (let h = 8; h <= 36; h++) {
    const hourIdx = h - 20
    hours.push({
      hour: T(0, h),
      readings: stations.map((s) => ({ station: s.code, mm: hourIdx >= -1 && hourIdx <= 8 ? field(hourIdx, s.lon, s.lat, rnd()) : 0 })),
    })
  }

  const townships = await sql<{ code: string; lon: number; lat: number }[]>`
    SELECT code, ST_X(label_point) AS lon, ST_Y(label_point) AS lat FROM admin_units
    WHERE level = 'township' AND code LIKE ${opts.county + '%'} ORDER BY code`
  const expected = (lon: number, lat: number, from: number, to: number) => {
    let sum = 0
    for (let i = from; i < to; i++) sum += field(i, lon, lat, 0.5)
    return round(sum * 1.1, 1) // forecasts run a little high
  }
  const forecasts: Storm['forecasts'] = [
    { area: opts.county + '000000', leadHours: 12, periodStart: T(0, 20), periodEnd: T(1, 8), mm: 120, issuedAt: T(0, 8) },
    ...townships.map((t) => ({ area: t.code, leadHours: 6 as const, periodStart: T(0, 20), periodEnd: T(1, 2), mm: expected(t.lon, t.lat, 0, 6), issuedAt: T(0, 14) })),
    ...[18, 20, 22].flatMap((issued) =>
      townships.map((t) => ({ area: t.code, leadHours: 2 as const, periodStart: T(0, issued + 2), periodEnd: T(0, issued + 5),
                              mm: expected(t.lon, t.lat, issued - 18, issued - 15), issuedAt: T(0, issued) }))),
  ]
  return { name: `${c.name} 七月夜雨 / a July night of rain over ${opts.county}`, county: opts.county, seed, stations, hours, forecasts }
}

function round(x: number, digits: number) {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

/**
 * The storm as a timeline: at each moment, what arrives — forecasts at their
 * issue time, an hour's readings when the hour ends. `shiftMs` moves it in
 * time (the replay moves it by whole days so the night stays a night).
 */
export function timeline(storm: Storm, shiftMs = 0) {
  const at = (iso: string) => new Date(new Date(iso).getTime() + shiftMs).toISOString()
  const steps = new Map<string, { forecasts: Storm['forecasts']; readings: { station: string; hour: string; mm: number }[] }>()
  const step = (t: string) => steps.get(t) ?? steps.set(t, { forecasts: [], readings: [] }).get(t)!
  for (const f of storm.forecasts) {
    step(at(f.issuedAt)).forecasts.push({ ...f, periodStart: at(f.periodStart), periodEnd: at(f.periodEnd), issuedAt: at(f.issuedAt) })
  }
  for (const h of storm.hours) {
    const end = new Date(new Date(h.hour).getTime() + 3600_000).toISOString()
    step(at(end)).readings.push(...h.readings.map((r) => ({ station: r.station, hour: at(h.hour), mm: r.mm })))
  }
  return [...steps.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([time, s]) => ({ time, ...s }))
}
