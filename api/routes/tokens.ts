import { Hono } from 'hono'
import { requireUser } from '../auth/guard.ts'
import type { AccessTokenStore } from '../auth/token-store.ts'
import { createToken, listTokens, newTokenSchema, revokeToken, TOKEN } from '../auth/tokens.ts'
import type { Sql } from '../../db/connect.ts'
import { parseId } from '../../core/errors.ts'
import { readJson } from '../validate.ts'

/** One's own personal access tokens for desktop GIS clients (api/auth/tokens.ts); a token itself cannot reach these. */
export function tokenRoutes(sql: Sql, tokens: AccessTokenStore) {
  const app = new Hono()

  app.get('/api/tokens', async (c) => {
    c.header('Cache-Control', 'no-store')
    return c.json(await listTokens(sql, requireUser(c)))
  })

  app.post('/api/tokens', async (c) => {
    const user = requireUser(c)
    const body = await readJson(c, newTokenSchema)
    // The secret is in this answer only: no cache may keep it.
    c.header('Cache-Control', 'no-store')
    return c.json(await createToken(sql, user, body), 201)
  })

  app.delete('/api/tokens/:id', async (c) => {
    const user = requireUser(c)
    const id = parseId(c.req.param('id'), TOKEN)
    return c.json(await revokeToken(sql, user, tokens, { id }))
  })
  return app
}
