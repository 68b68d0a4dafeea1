/**
 * Every request body has a ceiling fitting its route, enforced while it is
 * read (hono/body-limit: on Content-Length before reading, on a chunked body
 * as it arrives), before login too: four anonymous 100 MB logins cost the
 * server half a gigabyte when nothing stopped them. The table is stated in
 * api/README.md ("Request limits").
 */
import type { MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { errorBody } from '../../core/errors.ts'

const KiB = 1024
const MiB = 1024 * KiB

/** First match wins; paths are the API's. */
export const BODY_LIMITS: readonly { path: RegExp; bytes: number; what: string }[] = [
  { path: /^\/api\/auth\//, bytes: 4 * KiB, what: 'login and password change' },
  { path: /^\/api\/tokens(\/|$)/, bytes: 4 * KiB, what: 'access tokens (a name)' },
  // A file of up to 32 MB as base64 (api/routes/ledger-import.ts), with the request's other fields.
  { path: /^\/api\/import\//, bytes: 33 * MiB, what: 'imports (households, hazard sites, grids)' },
  { path: /^\/api\/rain\/(readings|stations|forecasts|warnings)$/, bytes: 16 * MiB, what: 'rain input (a day of readings from every gauge of the city)' },
  { path: /^\/api\/villages\/[^/]+\/cover(\/|$)/, bytes: 4 * MiB, what: 'grid editor (a redrawn grid with its vertices)' },
  { path: /^\/api\/evacuation\/orders$/, bytes: 2 * MiB, what: 'evacuation orders (an area drawn on the map)' },
  // The phone sends its outbox in batches of at most 8 MB: a few photos (≤ 2 MB each, base64) with the ticks and visits.
  // A call log of up to 2000 reports as base64 CSV (api/reports/import.ts).
  { path: /^\/api\/reports\/import$/, bytes: 8 * MiB, what: 'reports by import (a CSV of up to 2000 rows)' },
  { path: /^\/api\/field\/sync$/, bytes: 8 * MiB, what: 'the field app\'s outbox (actions with photos)' },
]
export const DEFAULT_BODY_LIMIT = 64 * KiB

export const bodyLimitFor = (path: string) => BODY_LIMITS.find((l) => l.path.test(path))?.bytes ?? DEFAULT_BODY_LIMIT

const size = (n: number) => (n >= MiB ? `${n / MiB} MB` : `${n / KiB} KB`)

export function limitBodies(): MiddlewareHandler {
  const limiters = new Map<number, MiddlewareHandler>()
  const limiter = (bytes: number) => {
    let l = limiters.get(bytes)
    if (!l) {
      l = bodyLimit({
        maxSize: bytes,
        // Close the connection: the rest of an oversized upload is not worth reading.
        onError: (c) => c.json(errorBody('too_large', `请求体过大（此接口上限 ${size(bytes)}）`, `request body too large (at most ${size(bytes)} here)`), 413, { Connection: 'close' }),
      })
      limiters.set(bytes, l)
    }
    return l
  }
  return (c, next) => limiter(bodyLimitFor(c.req.path))(c, next)
}
