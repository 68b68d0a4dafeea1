import { atCommit, type Tx } from '../../db/write.ts'

export interface LiveEvent {
  id: number
  at: string
  kind: string
  /** Admin or grid code of where it happened: who may see it. */
  unitCode: string
  payload: Record<string, unknown>
}

/**
 * Adds an event to the live feed in the writer's transaction; it is sent when
 * that commits. The lock keeps ids committing in order: a reader that has
 * sent id N never later finds an N-1 that committed after it. In a writeTx
 * transaction the event is written as its last work (atCommit), so the lock,
 * which every writer of the city shares, is held for the insert and the commit
 * only: taken where the event was made, it was held through the rest of the
 * writer's statements too, and on a storm night the writers queued behind it.
 */
export async function publish(tx: Tx, kind: string, unitCode: string, payload: Record<string, unknown>): Promise<void> {
  if (atCommit(tx, (end) => publishNow(end, kind, unitCode, payload))) return
  await publishNow(tx, kind, unitCode, payload)
}

async function publishNow(tx: Tx, kind: string, unitCode: string, payload: Record<string, unknown>): Promise<void> {
  await tx`SELECT pg_advisory_xact_lock(hashtext('gridwatch.live_events'))`
  const [{ id }] = await tx<{ id: string }[]>`
    INSERT INTO live_events (kind, unit_code, payload) VALUES (${kind}, ${unitCode}, ${tx.json(payload as never)}) RETURNING id`
  await tx`SELECT pg_notify('gridwatch_events', ${String(id)})`
}

/**
 * Several events in one go (a sweep moving many reports): one lock, one
 * insert, one NOTIFY — the feed reads every row past its last id, so one
 * notification brings them all. Ids keep the events' order.
 */
export async function publishMany(tx: Tx, events: { kind: string; unitCode: string; payload: Record<string, unknown> }[]): Promise<void> {
  if (!events.length) return
  await tx`SELECT pg_advisory_xact_lock(hashtext('gridwatch.live_events'))`
  const [{ last }] = await tx<{ last: string }[]>`
    WITH ins AS (
      INSERT INTO live_events (kind, unit_code, payload)
      SELECT kind, unit_code, payload::jsonb FROM unnest(${events.map((e) => e.kind)}::text[], ${events.map((e) => e.unitCode)}::text[],
                                                 ${events.map((e) => JSON.stringify(e.payload))}::text[]) WITH ORDINALITY AS x(kind, unit_code, payload, n)
      ORDER BY n
      RETURNING id)
    SELECT max(id) AS last FROM ins`
  await tx`SELECT pg_notify('gridwatch_events', ${String(last)})`
}
