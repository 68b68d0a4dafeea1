import { Hono } from 'hono'
import { accountPatch, editAccount, listAccounts, USER } from '../auth/account-edit.ts'
import { createAccount, newAccountSchema } from '../auth/accounts.ts'
import { authorize, requireUser } from '../auth/guard.ts'
import type { SessionStore } from '../auth/sessions.ts'
import type { Sql } from '../../db/connect.ts'
import { parseId } from '../../core/errors.ts'
import { readJson } from '../validate.ts'

/**
 * Account management, for admins, inside their own area: an admin of a
 * county lists and manages that county's accounts only, and cannot place an
 * account (least of all an admin or a commander) outside it.
 */
export function userRoutes(sql: Sql, sessions: SessionStore) {
  const app = new Hono()

  app.get('/api/users', async (c) => c.json(await listAccounts(sql, requireUser(c))))

  app.post('/api/users', async (c) => {
    authorize(c, 'user.manage')
    const body = await readJson(c, newAccountSchema)
    const admin = authorize(c, 'user.manage', body.unitCode)
    return c.json(await createAccount(sql, body, admin, { mustChange: true }), 201)
  })

  app.patch('/api/users/:id', async (c) => {
    authorize(c, 'user.manage')
    const id = parseId(c.req.param('id'), USER)
    const patch = await readJson(c, accountPatch)
    return c.json(await editAccount(sql, requireUser(c), sessions, { id, patch }))
  })
  return app
}
