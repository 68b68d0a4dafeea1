import { log } from '../../core/log.ts'

export interface Periodic {
  /** No more passes; waits for one under way. */
  stop(): Promise<void>
  /** One pass now (after one under way, if any). */
  runNow(): Promise<void>
}

/**
 * A pass of `work` now (unless `now: false`) and every `everyMs`, never two at once; a failed pass
 * is logged and the next one tries again (the clocks of the rain sweep and
 * the report escalation run this way, with nobody watching).
 */
export function periodic(what: string, everyMs: number, work: () => Promise<void>, opts: { now?: boolean } = {}): Periodic {
  let running: Promise<void> | null = null
  const run = (): Promise<void> => {
    if (running) return running
    running = work()
      .catch((err) => log.warn(`${what} failed (will retry)`, err))
      .finally(() => (running = null))
    return running
  }
  if (opts.now !== false) void run()
  const timer = setInterval(run, everyMs)
  timer.unref()
  return {
    async stop() {
      clearInterval(timer)
      await running
    },
    async runNow() {
      await running
      await run()
    },
  }
}
