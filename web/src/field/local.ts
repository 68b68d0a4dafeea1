import type { Action } from './store.ts'
import type { Today } from './types.ts'

/**
 * What an action made on the phone changes in the grid the phone keeps, so the
 * screen shows it at once, signal or not. The server's answer replaces it when
 * the outbox is empty again.
 */
export function applyLocal(today: Today, a: Action, byName: string): Today {
  switch (a.kind) {
    case 'task.item':
      return {
        ...today,
        tasks: today.tasks.map((t) => {
          if (t.id !== a.task) return t
          const items = t.items.map((it, i) => (i !== a.item - 1 ? it : {
            ...it,
            ...(a.done === undefined ? {} : { done: a.done, at: a.done ? a.at : null, byName: a.done ? byName : null }),
            ...(a.note === undefined ? {} : { note: a.note }),
          }))
          const done = items.filter((i) => i.done).length
          return { ...t, items, status: done === 0 ? 'not_started' : done === items.length ? 'done' : 'in_progress' }
        }),
      }
    case 'visit':
      return {
        ...today,
        households: today.households.map((h) => (h.id !== a.household ? h : {
          ...h, lastVisitAt: a.at, overdue: false,
          dueAt: new Date(new Date(a.at).getTime() + h.intervalDays * 86_400_000).toISOString(),
        })),
      }
    case 'evac.status':
      return {
        ...today,
        transfer: today.transfer.map((t) => (t.orderId !== a.order || t.householdId !== a.household ? t : {
          ...t, status: a.status, people: a.status === 'at_shelter' ? (a.people ?? t.members) : t.people, updatedAt: a.at,
        })),
      }
    default:
      return today
  }
}

/** The next step along a transfer: one tap moves a household on. Null at the end of the way. */
export function nextStatus(s: string): string | null {
  return ({ not_notified: 'notified', notified: 'moving', moving: 'at_shelter', at_shelter: 'returned', refused: 'notified', unreachable: 'notified' } as Record<string, string>)[s] ?? null
}

/**
 * Splits the waiting actions into requests the server takes: at most 200
 * actions (we send 50) and well under the route's 8 MB (photos are base64).
 */
export function batches<T extends { action: Action }>(entries: T[], maxCount = 50, maxBytes = 6 * 1024 * 1024): T[][] {
  const out: T[][] = []
  let cur: T[] = []
  let bytes = 0
  for (const e of entries) {
    const size = JSON.stringify(e.action).length
    if (cur.length && (cur.length >= maxCount || bytes + size > maxBytes)) {
      out.push(cur)
      cur = []
      bytes = 0
    }
    cur.push(e)
    bytes += size
  }
  if (cur.length) out.push(cur)
  return out
}
