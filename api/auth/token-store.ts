/**
 * Finding the user behind a personal access token (api/auth/tokens.ts makes
 * and revokes them). A short in-process cache spares a query per tile, as the
 * session store's does; revoking a token, or a change to its account (disabled,
 * new role or place), NOTIFYs every API process, which drops its copy at once.
 */
import { hash } from 'node:crypto'
import type { Database } from '../../db/connect.ts'
import type { SessionUser } from './guard.ts'

/** A token is `gw_` and 43 base64url characters (32 random bytes): recognisable in a config file or a leak scan. */
export const ACCESS_TOKEN_PREFIX = 'gw_'
export const ACCESS_TOKEN_PATTERN = /^gw_[A-Za-z0-9_-]{43}$/

export const TOKEN_CHANNEL = 'gridwatch_tokens'
/** How long a looked-up token is trusted without asking the database again (a revoke is announced at once anyway). */
const CACHE_MS = 30_000
/** How often last_used_at is written for a busy token. */
const TOUCH_MS = 60_000

export const accessTokenHash = (secret: string) => hash('sha256', secret, 'base64url')

interface Cached {
  user: SessionUser
  tokenId: number
  expiresAt: number | null
  checkedAt: number
  touchedAt: number
}

export interface FoundToken {
  user: SessionUser
  tokenId: number
}

export class AccessTokenStore {
  private cache = new Map<string, Cached>()
  private unlisten?: () => Promise<void>

  private constructor(private db: Database) {}

  static async create(db: Database) {
    const store = new AccessTokenStore(db)
    store.unlisten = await db.listen(TOKEN_CHANNEL, (payload) => store.forget(payload))
    return store
  }

  async close() {
    await this.unlisten?.()
  }

  /** The user behind a token, or undefined when it is malformed, unknown, revoked, expired or its account disabled. */
  async lookup(secret: string): Promise<FoundToken | undefined> {
    if (!ACCESS_TOKEN_PATTERN.test(secret)) return undefined
    const h = accessTokenHash(secret)
    const now = Date.now()
    const hit = this.cache.get(h)
    if (hit && now - hit.checkedAt < CACHE_MS && (hit.expiresAt === null || now < hit.expiresAt)) {
      if (now - hit.touchedAt > TOUCH_MS) {
        hit.touchedAt = now
        void this.touch(hit.tokenId)
      }
      return { user: hit.user, tokenId: hit.tokenId }
    }
    const [row] = await this.db.sql`
      UPDATE access_tokens t SET last_used_at = now()
      FROM users u
      WHERE t.token_hash = ${h} AND u.id = t.user_id AND t.revoked_at IS NULL
        AND (t.expires_at IS NULL OR t.expires_at > now()) AND NOT u.disabled
      RETURNING t.id AS token_id, t.expires_at, u.id, u.username, u.display_name, u.role, u.unit_code, u.must_change_password`
    if (!row) {
      this.cache.delete(h)
      return undefined
    }
    const user: SessionUser = {
      id: row.id as number, username: row.username as string, displayName: row.display_name as string,
      role: row.role as SessionUser['role'], unitCode: row.unit_code as string, mustChangePassword: row.must_change_password as boolean,
    }
    const expiresAt = row.expires_at ? new Date(row.expires_at as string).getTime() : null
    this.cache.set(h, { user, tokenId: row.token_id as number, expiresAt, checkedAt: now, touchedAt: now })
    if (this.cache.size > 10_000) this.cache.delete(this.cache.keys().next().value!)
    return { user, tokenId: row.token_id as number }
  }

  private async touch(id: number) {
    await this.db.sql`UPDATE access_tokens SET last_used_at = now() WHERE id = ${id}`.catch(() => {})
  }

  /** A token revoked (its hash): every process forgets it now. */
  async revoked(tokenHash: string) {
    await this.announce(tokenHash)
  }

  /** An account changed (disabled, new role or place): every process forgets its tokens' cached user. */
  async accountChanged(userId: number) {
    await this.announce(`user:${userId}`)
  }

  private async announce(payload: string) {
    this.forget(payload)
    await this.db.sql`SELECT pg_notify(${TOKEN_CHANNEL}, ${payload})`
  }

  private forget(payload: string) {
    const user = /^user:(\d+)$/.exec(payload)
    if (!user) return void this.cache.delete(payload)
    for (const [h, c] of this.cache) if (c.user.id === Number(user[1])) this.cache.delete(h)
  }
}
