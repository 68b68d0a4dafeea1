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
    const ends: Ending[] = []
    endings.set(tx, ends)
    const out = await work(tx)
    for (const end of ends) await end(tx)
    return out
  })
}

type Ending = (tx: Tx) => Promise<void>
const endings = new WeakMap<object, Ending[]>()

/**
 * Runs `end` as the last work of `tx`'s transaction, just before its COMMIT, when `tx` is a writeTx transaction (or a
 * savepoint in one, see inSavepoint); returns false, doing nothing, otherwise. For work that takes a lock every
 * writer shares (the live feed's order, api/events/publish.ts): held from there to the commit only.
 */
export function atCommit(tx: object, end: Ending): boolean {
  const ends = endings.get(tx)
  if (!ends) return false
  ends.push(end)
  return true
}

/** `work` in the savepoint `sp` of `tx`: what it leaves for the commit (atCommit) is kept only if it succeeds. */
export async function inSavepoint<T>(tx: Tx, sp: Tx, work: () => Promise<T>): Promise<T> {
  const parent = endings.get(tx)
  if (!parent) return work()
  const mine: Ending[] = []
  endings.set(sp, mine)
  const out = await work()
  parent.push(...mine)
  return out
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
