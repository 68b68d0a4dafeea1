/**
 * The query string of OGC API – Features requests, checked at the edge with
 * zod: Part 1 says a parameter the API does not define is a 400
 * (/req/core/query-param-unknown), and so is a bad bbox or limit — but a limit
 * above the maximum is not an error: the maximum is used (/req/core/fc-limit-response-1).
 */
import type { Context } from 'hono'
import { z } from 'zod'
import { HttpError } from '../../core/errors.ts'

export const DEFAULT_LIMIT = 100
/** Largest page; announced in the OpenAPI document, where GDAL and QGIS read it. */
export const MAX_LIMIT = 10_000

const badParam = (name: string, zh: string, en: string) => new HttpError(400, 'bad_parameter', `参数 ${name} 有误：${zh}`, `bad parameter ${name}: ${en}`)

/** The query parameters, each at most once, none outside `allowed`. */
export function queryParams(c: Context, allowed: readonly string[]): Record<string, string> {
  const all = new URL(c.req.url).searchParams
  const out: Record<string, string> = {}
  for (const [k, v] of all) {
    if (!allowed.includes(k)) {
      throw new HttpError(400, 'unknown_parameter', `不支持的查询参数：${k}（可用：${allowed.join(', ')}）`, `unknown query parameter: ${k} (allowed: ${allowed.join(', ')})`)
    }
    if (k in out) throw badParam(k, '只能出现一次', 'given more than once')
    out[k] = v
  }
  return out
}

const num = z.string().trim().regex(/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/).transform(Number)

/** bbox=w,s,e,n (or w,s,zmin,e,n,zmax) in CRS84 longitude/latitude; w > e crosses the antimeridian. */
export function parseBbox(raw: string): [number, number, number, number] {
  const parts = raw.split(',')
  if (parts.length !== 4 && parts.length !== 6) throw badParam('bbox', `须为 4 个（或 6 个）以逗号分隔的数字，收到 "${raw}"`, `expected 4 (or 6) comma-separated numbers, got "${raw}"`)
  const nums = parts.map((p) => num.safeParse(p))
  if (nums.some((n) => !n.success)) throw badParam('bbox', `含非数字的值："${raw}"`, `not all numbers: "${raw}"`)
  const v = nums.map((n) => n.data!)
  const [w, s, e, n] = v.length === 4 ? v : [v[0], v[1], v[3], v[4]]
  if ([w, e].some((x) => x < -180 || x > 180)) throw badParam('bbox', '经度须在 -180 到 180 之间', 'longitudes must lie in -180…180')
  if ([s, n].some((y) => y < -90 || y > 90)) throw badParam('bbox', '纬度须在 -90 到 90 之间', 'latitudes must lie in -90…90')
  if (s > n) throw badParam('bbox', '南边界大于北边界', 'the south edge is north of the north edge')
  return [w, s, e, n]
}

const whole = (name: string, min: number, max: number) => (raw: string) => {
  if (!/^[0-9]{1,10}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw badParam(name, `须为 ${min} 到 ${max} 之间的整数，收到 "${raw}"`, `must be a whole number from ${min} to ${max}, got "${raw}"`)
  }
  return Number(raw)
}
const anyLimit = whole('limit', 1, 2_000_000_000)
export const parseLimit = (raw: string) => Math.min(anyLimit(raw), MAX_LIMIT)
export const parseOffset = whole('offset', 0, 2_000_000_000)

const instant = z.union([z.literal('..'), z.literal(''), z.iso.datetime({ offset: true }), z.iso.date()])

/**
 * datetime (an instant or an interval a/b, open ends as ".."): checked, then
 * not applied — none of these collections has a time of its own, so the
 * filter selects what it would without it (as the collections' extents say).
 */
export function checkDatetime(raw: string) {
  const ends = raw.split('/')
  const open = (e: string) => e === '..' || e === ''
  // An instant, or an interval with at least one end given.
  const ok = ends.length <= 2 && ends.every((e) => instant.safeParse(e).success) && !ends.every(open)
  if (!ok) throw badParam('datetime', `须为 RFC 3339 时间或时段（如 2026-07-01T00:00:00Z/..），收到 "${raw}"`, `expected an RFC 3339 instant or interval (e.g. 2026-07-01T00:00:00Z/..), got "${raw}"`)
}

export type Produces = 'json' | 'geojson' | 'openapi'

export const mediaTypes: Record<Produces, string> = {
  json: 'application/json',
  geojson: 'application/geo+json',
  openapi: 'application/vnd.oai.openapi+json;version=3.0',
}

/** Media ranges that accept each kind of answer (all of ours are JSON). */
const accepted: Record<Produces, string[]> = {
  json: ['*/*', 'application/*', 'application/json'],
  geojson: ['*/*', 'application/*', 'application/geo+json', 'application/json'],
  openapi: ['*/*', 'application/*', 'application/vnd.oai.openapi+json', 'application/openapi+json', 'application/json'],
}

/**
 * Content negotiation as Part 1 describes it: `f` wins when given (only
 * `json` is offered: no HTML encoding), else the Accept header; an Accept
 * with nothing we can send is a 406.
 */
export function negotiate(c: Context, f: string | undefined, produces: Produces): string {
  if (f !== undefined) {
    if (f !== 'json' && !(produces === 'geojson' && f === 'geojson')) {
      throw new HttpError(400, 'bad_format', `不支持的格式 f=${f}（可用：json）`, `unsupported format f=${f} (offered: json)`)
    }
    return mediaTypes[produces]
  }
  const header = c.req.header('Accept')
  if (!header) return mediaTypes[produces]
  const ranges = header.split(',').map((part) => {
    const [type, ...params] = part.trim().toLowerCase().split(';').map((s) => s.trim())
    const q = params.find((p) => p.startsWith('q='))
    return { type, q: q ? Number(q.slice(2)) : 1 }
  })
  if (ranges.some((r) => r.q > 0 && accepted[produces].includes(r.type))) return mediaTypes[produces]
  throw new HttpError(406, 'not_acceptable', `无法提供所要求的格式（Accept: ${header}），可用：${mediaTypes[produces]}`,
    `cannot answer in the requested type (Accept: ${header}); available: ${mediaTypes[produces]}`)
}
