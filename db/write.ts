import type { Sql } from './connect.ts'
import { transaction, type Tx } from './transaction.ts'

export type { Tx } from './transaction.ts'

/** Who a write is recorded as: a logged-in user, or a command-line tool / failed login (id null). */
export type Actor = { id: number | null; username: string; role: string }

/**
 * Every write goes through here: one transaction, with the actor set for the
 * audit triggers (data/migrations/004), so the audit rows commit or roll back
 * with the change itself.
 */
export async function writeTx<T>(sql: Sql, user: Actor, work: (tx: Tx) => Promise<T>): Promise<T> {
  const actor = JSON.stringify({ id: user.id, username: user.username, role: user.role })
  return transaction(sql, async (tx) => {
    await tx`SELECT set_config('gridwatch.actor', ${actor}, true)`
    return work(tx)
  })
}

/**
 * An audit row for a change that is not one table row (a batch import, a
 * replayed storm), written in the caller's transaction.
 */
export async function auditEvent(tx: Tx, e: { action: string; table: string; rowId?: string | null; before?: unknown; after?: unknown }) {
  await tx`
    INSERT INTO audit_log (actor, actor_id, actor_role, action, table_name, row_id, before, after)
    SELECT a ->> 'username', (a ->> 'id')::int, a ->> 'role', ${e.action}, ${e.table}, ${e.rowId ?? null},
           ${e.before === undefined ? null : tx.json(e.before as never)}, ${e.after === undefined ? null : tx.json(e.after as never)}
    FROM audit_actor() a`
}
