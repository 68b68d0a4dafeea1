/**
 * Failed attempts per key (a client address) in a fixed window, in this
 * process. Only failures count: a command room behind one address where
 * thirty people log in at eight is not an attack.
 * With several API processes each counts its own share, which still bounds
 * guessing; the per-account lockout in the database holds across processes.
 */
export class AttemptLimiter {
  private windows = new Map<string, { start: number; count: number }>()

  constructor(
    private max: number,
    private windowMs: number,
  ) {}

  /** Seconds to wait before the next attempt from `key`, 0 when it may go ahead. */
  wait(key: string, now = Date.now()): number {
    const w = this.windows.get(key)
    if (!w || now - w.start >= this.windowMs || w.count < this.max) return 0
    return Math.ceil((w.start + this.windowMs - now) / 1000)
  }

  /** Counts a failed attempt. */
  fail(key: string, now = Date.now()) {
    let w = this.windows.get(key)
    if (!w || now - w.start >= this.windowMs) {
      w = { start: now, count: 0 }
      this.windows.set(key, w)
      if (this.windows.size > 50_000) this.prune(now)
    }
    w.count++
  }

  private prune(now: number) {
    for (const [k, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(k)
  }
}
