/**
 * Attempts per key (a client address) in a fixed window, in this process.
 * With several API processes each counts its own share, which still bounds
 * guessing; the per-account lockout in the database holds across processes.
 */
export class AttemptLimiter {
  private windows = new Map<string, { start: number; count: number }>()

  constructor(
    private max: number,
    private windowMs: number,
  ) {}

  /** Counts an attempt; returns the seconds to wait when over the limit, else 0. */
  hit(key: string, now = Date.now()): number {
    let w = this.windows.get(key)
    if (!w || now - w.start >= this.windowMs) {
      w = { start: now, count: 0 }
      this.windows.set(key, w)
      if (this.windows.size > 50_000) this.prune(now)
    }
    w.count++
    return w.count > this.max ? Math.ceil((w.start + this.windowMs - now) / 1000) : 0
  }

  private prune(now: number) {
    for (const [k, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(k)
  }
}
