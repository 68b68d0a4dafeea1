import { hash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Database } from '../../db/connect.ts'
import type { SessionUser } from './guard.ts'
import { AccessTokenStore } from './token-store.ts'

/** Idle time after which a session ends; each request moves it on (a wall screen stays logged in). */
export const SESSION_IDLE_MS = 12 * 3600_000
/** How long a looked-up session is trusted without asking the database again. */
const CACHE_MS = 30_000
/** How often last_seen_at/expires_at are written for a busy session. */
const TOUCH_MS = 60_000

export const SESSION_COOKIE = 'gw_session'
const CHANNEL = 'gridwatch_sessions'

export const tokenHash = (token: string) => hash('sha256', token, 'base64url')
const newToken = () => randomBytes(32).toString('base64url')

export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

interface Cached {
  user: SessionUser
  csrfToken: string
  checkedAt: number
  touchedAt: number
}

/** A session made for a server job (a print render), held in this process only. */
interface JobSession {
  user: SessionUser
  csrfToken: string
  expiresAt: number
}

export interface FoundSession {
  user: SessionUser
  csrfToken: string
  tokenHash: string
  /** A job's session: reads only (the write middleware refuses it). */
  readOnly?: boolean
  /** This lookup moved the session's end on (the cookie's should move too). */
  renewed?: boolean
}

/**
 * Sessions live in the database (so every API process shares them and a
 * restart keeps people logged in); a short in-process cache spares a query per
 * tile. Ending a session or changing an account NOTIFYs every process, which
 * drops its cached copy at once.
 */
export class SessionStore {
  private cache = new Map<string, Cached>()
  private jobs = new Map<string, JobSession>()
  private unlisten?: () => Promise<void>
  /**
   * The personal access tokens of desktop GIS clients (token-store.ts): kept here so that every
   * place that has the sessions (the app, the tile fast path) has them too, and an account whose
   * sessions end has its tokens' cached user dropped as well.
   */
  tokens!: AccessTokenStore

  private constructor(private db: Database) {}

  static async create(db: Database) {
    const store = new SessionStore(db)
    store.unlisten = await db.listen(CHANNEL, (payload) => store.forget(payload))
    store.tokens = await AccessTokenStore.create(db)
    return store
  }

  async close() {
    await this.unlisten?.()
    await this.tokens?.close()
  }

  /** Starts a session; returns the cookie token (never stored) and its CSRF token. */
  async start(userId: number, meta: { ip?: string; userAgent?: string }) {
    const token = newToken()
    const csrfToken = newToken()
    await this.db.sql`
      INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at, ip, user_agent)
      VALUES (${tokenHash(token)}, ${userId}, ${csrfToken}, now() + ${SESSION_IDLE_MS / 1000} * interval '1 second',
              ${meta.ip ?? null}, ${meta.userAgent?.slice(0, 300) ?? null})`
    return { token, csrfToken }
  }

  /**
   * A read-only session for a server job acting for a user (the print
   * render's browser), instead of lending it the user's own cookie: the
   * user's rights, no writes, and it ends with end(), after `ttlMs`, or when
   * the account's sessions end. In this process only: the job's browser talks
   * to this process, and nothing of it outlives a restart.
   */
  async startJob(userId: number, ttlMs: number): Promise<{ token: string; end(): void }> {
    const [row] = await this.db.sql`
      SELECT id, username, display_name, role, unit_code, must_change_password FROM users WHERE id = ${userId} AND NOT disabled`
    if (!row) throw new Error(`no active account ${userId} to start a job session for`)
    const token = newToken()
    const h = tokenHash(token)
    this.jobs.set(h, { user: userOf(row), csrfToken: newToken(), expiresAt: Date.now() + ttlMs })
    return { token, end: () => void this.jobs.delete(h) }
  }

  /** The user and CSRF token behind a cookie token, or undefined when it is unknown, expired or the account disabled. */
  /** `renewed`: the session's end was moved on by this lookup (the cookie's should be too). */
  async lookup(token: string): Promise<FoundSession | undefined> {
    const h = tokenHash(token)
    const now = Date.now()
    const job = this.jobs.get(h)
    if (job) {
      if (now < job.expiresAt) return { user: job.user, csrfToken: job.csrfToken, tokenHash: h, readOnly: true }
      this.jobs.delete(h)
      return undefined
    }
    const hit = this.cache.get(h)
    if (hit && now - hit.checkedAt < CACHE_MS) {
      const renewed = now - hit.touchedAt > TOUCH_MS
      if (renewed) {
        hit.touchedAt = now
        void this.touch(h)
      }
      return { user: hit.user, csrfToken: hit.csrfToken, tokenHash: h, renewed }
    }
    // Read, and move the session's end on only when it was last moved on more than TOUCH_MS ago (as a cached
    // session is): a phone acting every half minute, or another API process asking for the same session, is a read,
    // not a write to commit (and flush to disk) on every request.
    const [row] = await this.db.sql`
      WITH s AS (
        SELECT s.token_hash, s.csrf_token, s.last_seen_at < now() - ${TOUCH_MS / 1000} * interval '1 second' AS stale,
               u.id, u.username, u.display_name, u.role, u.unit_code, u.must_change_password
        FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.token_hash = ${h} AND s.expires_at > now() AND NOT u.disabled
      ), touched AS (
        UPDATE sessions x SET last_seen_at = now(), expires_at = now() + ${SESSION_IDLE_MS / 1000} * interval '1 second'
        FROM s WHERE x.token_hash = s.token_hash AND s.stale
        RETURNING 1
      )
      SELECT s.*, EXISTS (SELECT 1 FROM touched) AS renewed FROM s`
    if (!row) {
      this.cache.delete(h)
      return undefined
    }
    const user = userOf(row)
    this.cache.set(h, { user, csrfToken: row.csrf_token as string, checkedAt: now, touchedAt: now })
    if (this.cache.size > 10_000) this.cache.delete(this.cache.keys().next().value!)
    return { user, csrfToken: row.csrf_token as string, tokenHash: h, renewed: row.renewed as boolean }
  }

  private async touch(h: string) {
    await this.db.sql`UPDATE sessions SET last_seen_at = now(), expires_at = now() + ${SESSION_IDLE_MS / 1000} * interval '1 second'
                      WHERE token_hash = ${h}`.catch(() => {})
  }

  /** Ends one session (logout). */
  async end(h: string) {
    this.jobs.delete(h)
    await this.db.sql`DELETE FROM sessions WHERE token_hash = ${h}`
    await this.announce(h)
  }

  /** Ends every session of a user except `keep` (password change, role change, account disabled). */
  async endAllOf(userId: number, keep?: string) {
    // A job acting for the account stops too: its rights may be what changed.
    for (const [h, j] of this.jobs) if (j.user.id === userId) this.jobs.delete(h)
    const gone = await this.db.sql`DELETE FROM sessions WHERE user_id = ${userId} AND token_hash <> ${keep ?? ''} RETURNING token_hash`
    for (const r of gone) await this.announce(r.token_hash as string)
    // The kept session's cached user (role, scope) may be stale too.
    if (keep) await this.announce(keep)
    // So may the account's tokens' (a disabled account's tokens stop at once).
    await this.tokens.accountChanged(userId)
  }

  private async announce(h: string) {
    this.forget(h)
    await this.db.sql`SELECT pg_notify(${CHANNEL}, ${h})`
  }

  private forget(h: string) {
    this.cache.delete(h)
  }
}

function userOf(row: Record<string, unknown>): SessionUser {
  return {
    id: row.id as number,
    username: row.username as string,
    displayName: row.display_name as string,
    role: row.role as SessionUser['role'],
    unitCode: row.unit_code as string,
    mustChangePassword: row.must_change_password as boolean,
  }
}
