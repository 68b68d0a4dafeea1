/**
 * One computation shared by everyone who asks for the same thing at about the same time, yet never older than the
 * question: a caller who comes while none runs starts one; a caller who comes while one runs gets the *next* one,
 * begun once the running one ends, shared by all who came meanwhile. So every answer is computed from a snapshot
 * taken after its caller asked (it sees every change committed before the question), and each key has at most one
 * computation running and one waiting in this process.
 *
 * Why: every command wall asks for its area's figures on each live event (web/src/wall/useWallState.ts, at most
 * once a second each). On a storm night hundreds of walls of a dozen areas asked for the same few answers, each
 * computed apart (api/wall/state.ts: a transaction, the rain interpolated for the area, temporary tables).
 */
export class FreshShared<T> {
  private slots = new Map<string, { current: Promise<T>; next?: Promise<T> }>()

  /**
   * `askedAt` (Date.now()): when the first of the computation's callers asked, which may be long before it begins
   * (callers while one runs wait for it to end): what it may take as fresh enough is measured from then.
   */
  constructor(private compute: (key: string, askedAt: number) => Promise<T>) {}

  get(key: string): Promise<T> {
    const slot = this.slots.get(key)
    if (!slot) {
      const s = {} as { current: Promise<T>; next?: Promise<T> }
      this.slots.set(key, s)
      s.current = this.run(key, s, Date.now())
      return s.current
    }
    // Begun before this caller asked: it may miss a change the caller has seen. The next one is begun after it.
    if (!slot.next) {
      const askedAt = Date.now()
      slot.next = slot.current.then(() => {}, () => {}).then(() => {
        slot.next = undefined
        slot.current = this.run(key, slot, askedAt)
        return slot.current
      })
    }
    return slot.next
  }

  /** How many keys have a computation running (for tests). */
  get running(): number {
    return this.slots.size
  }

  private run(key: string, slot: { current: Promise<T>; next?: Promise<T> }, askedAt: number): Promise<T> {
    const p = this.compute(key, askedAt)
    const done = () => {
      // Nobody waiting for a next one: the key is free; the next caller starts afresh.
      if (slot.current === p && !slot.next) this.slots.delete(key)
    }
    p.then(done, done)
    return p
  }
}
