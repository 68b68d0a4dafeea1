import type { Tx } from '../../db/write.ts'

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
 * that commits, and never if it (or the savepoint it was added in) rolls back.
 * The event waits in live_events_pending and gets its live_events id at the
 * COMMIT, from a deferred trigger (data/migrations/022): ids are given under a
 * lock every writer shares, held to the end of the commit so that they become
 * visible in id order, and held inside that one statement only, never while
 * the server waits for this process. A transaction's events keep the order
 * they were added in.
 */
export async function publish(tx: Tx, kind: string, unitCode: string, payload: Record<string, unknown>): Promise<void> {
  await tx`INSERT INTO live_events_pending (kind, unit_code, payload) VALUES (${kind}, ${unitCode}, ${tx.json(payload as never)})`
}

/** Several events in one statement (a sweep moving many reports), in their order. */
export async function publishMany(tx: Tx, events: { kind: string; unitCode: string; payload: Record<string, unknown> }[]): Promise<void> {
  if (!events.length) return
  await tx`
    INSERT INTO live_events_pending (kind, unit_code, payload)
    SELECT kind, unit_code, payload::jsonb FROM unnest(${events.map((e) => e.kind)}::text[], ${events.map((e) => e.unitCode)}::text[],
                                               ${events.map((e) => JSON.stringify(e.payload))}::text[]) WITH ORDINALITY AS x(kind, unit_code, payload, n)
    ORDER BY n`
}
