/**
 * Read your own writes with a read replica (db/replica.ts). After a write answered without error, the primary's
 * WAL position goes back to the writer in a cookie; their heavy reads (tiles, OGC API, exports, analyses,
 * roll-ups) then come from the replica only once it has replayed that far, else from the primary. A cookie,
 * not this process's memory: the next request may reach another API process behind nginx, one that may not
 * yet have heard the change's notice. No replica configured: no cookie, nothing to compare.
 *
 * A forged mark can only send its bearer's reads to the primary (as with no replica); it names no data.
 * It lives 10 minutes: a replica further behind than that is past what read routing should hide (monitor the lag).
 */
import type { Context, MiddlewareHandler } from 'hono'
import { getCookie, setCookie } from 'hono/cookie'
import { parse as parseCookies } from 'hono/utils/cookie'
import { formatLsn, parseLsn, type Reads } from '../../db/replica.ts'
import { clientUsesHttps, type ProxySettings } from '../proxy.ts'

export const READ_AFTER_COOKIE = 'gw_read_after'
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS'])

export function markWrites(reads: Reads, proxy: ProxySettings): MiddlewareHandler {
  return async (c, next) => {
    await next()
    // Logins and logouts write sessions only, which no heavy read shows.
    if (!reads.replicated || SAFE.has(c.req.method) || c.res.status >= 400 || c.req.path.startsWith('/api/auth/')) return
    // After the handler: its transaction has committed, so the position now is past the write.
    const lsn = await reads.primaryLsn()
    setCookie(c, READ_AFTER_COOKIE, formatLsn(lsn), { httpOnly: true, sameSite: 'Lax', path: '/', secure: clientUsesHttps(c, proxy), maxAge: 600 })
  }
}

/** The reader's mark in a Hono request; undefined when none (or not one we wrote). */
export const readAfterOf = (c: Context): bigint | undefined => parseLsn(getCookie(c, READ_AFTER_COOKIE)) ?? undefined

/** The same from a raw Cookie header (the tile fast path, in front of Hono). */
export function readAfterIn(cookieHeader: string | undefined): bigint | undefined {
  if (!cookieHeader?.includes(READ_AFTER_COOKIE)) return undefined
  return parseLsn(parseCookies(cookieHeader, READ_AFTER_COOKIE)[READ_AFTER_COOKIE]) ?? undefined
}
