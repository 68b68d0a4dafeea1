/**
 * Personal access tokens for desktop GIS clients (issue #22): a person makes
 * one in the page, names it after the client it is for, and pastes it into
 * QGIS, ArcGIS Pro or GDAL. It acts as its user (same role, same area) and
 * only reads (api/auth/token-auth.ts says where). The secret is returned
 * once, at creation; only its SHA-256 is stored. Made and revoked are audited
 * (the trigger of migration 019).
 */
import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import { allowedOn, type SessionUser } from './guard.ts'
import { ACCESS_TOKEN_PREFIX, accessTokenHash, type AccessTokenStore } from './token-store.ts'
import type { Sql } from '../../db/connect.ts'
import { writeTx } from '../../db/write.ts'
import { HttpError, notFound } from '../../core/errors.ts'

export const TOKEN = { zh: '访问令牌', en: 'access token' }
/** Live tokens one account may hold: enough for every client on every machine, few enough to review. */
export const MAX_TOKENS_PER_USER = 20

export const newTokenSchema = z.strictObject({
  name: z.string().trim().min(1).max(40),
  /** Days until the token stops working; absent: until revoked. */
  expiresInDays: z.number().int().min(1).max(366).optional(),
})

const columns = (sql: Sql) => sql`id, name, created_at AS "createdAt", last_used_at AS "lastUsedAt", expires_at AS "expiresAt"`

/** Makes a token for the user; the answer's `token` is the secret, never shown again. */
export async function createToken(sql: Sql, user: SessionUser, input: z.infer<typeof newTokenSchema>) {
  const secret = ACCESS_TOKEN_PREFIX + randomBytes(32).toString('base64url')
  const row = await writeTx(sql, user, async (tx) => {
    // One at a time per account, so two requests cannot both pass the count.
    await tx`SELECT 1 FROM users WHERE id = ${user.id} FOR UPDATE`
    const [{ n }] = await tx`SELECT count(*)::int AS n FROM access_tokens WHERE user_id = ${user.id} AND revoked_at IS NULL`
    if (n >= MAX_TOKENS_PER_USER) {
      throw new HttpError(409, 'too_many_tokens', `访问令牌已达上限（${MAX_TOKENS_PER_USER} 个），请先撤销不用的令牌`,
        `you have the most access tokens allowed (${MAX_TOKENS_PER_USER}); revoke one you no longer use first`)
    }
    const expires = input.expiresInDays === undefined ? null : input.expiresInDays
    const [r] = await tx`
      INSERT INTO access_tokens (user_id, name, token_hash, expires_at)
      VALUES (${user.id}, ${input.name}, ${accessTokenHash(secret)},
              CASE WHEN ${expires}::int IS NULL THEN NULL ELSE now() + ${expires}::int * interval '1 day' END)
      RETURNING id, name, created_at AS "createdAt", last_used_at AS "lastUsedAt", expires_at AS "expiresAt"`
    return r
  })
  return { ...row, token: secret }
}

/** The user's own live tokens: names and dates, never the secret or its hash. */
export async function listTokens(sql: Sql, user: SessionUser) {
  return sql`SELECT ${columns(sql)} FROM access_tokens WHERE user_id = ${user.id} AND revoked_at IS NULL ORDER BY created_at DESC, id DESC`
}

/**
 * Revokes a token: the user's own, or (an admin) one of an account in the
 * admin's area. Another's token is "not found", not "forbidden": its id
 * tells nobody else that it exists. Every API process stops accepting it now.
 */
export async function revokeToken(sql: Sql, user: SessionUser, tokens: AccessTokenStore, input: { id: number }) {
  const [t] = await sql`SELECT t.user_id, t.token_hash, u.unit_code FROM access_tokens t JOIN users u ON u.id = t.user_id
                        WHERE t.id = ${input.id} AND t.revoked_at IS NULL`
  if (!t || (t.user_id !== user.id && !allowedOn(user, 'user.manage', t.unit_code as string))) throw notFound(TOKEN, String(input.id))
  await writeTx(sql, user, (tx) => tx`UPDATE access_tokens SET revoked_at = now() WHERE id = ${input.id} AND revoked_at IS NULL`)
  await tokens.revoked(t.token_hash as string)
  return { ok: true }
}
