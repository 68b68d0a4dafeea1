/**
 * Places for expensive work (print renders, analysis jobs, exports): at most
 * `concurrent` run at once and the rest wait in arrival order; one user holds
 * at most `perUser` places (running or waiting), everyone together at most
 * `total`. Past either, the work is refused rather than queued without end,
 * so one person cannot hold the printer for everyone. Bookkeeping only, in
 * this process (each API process keeps its own): the caller gives a place
 * back when its work ends, whichever way it ends.
 */
export interface WorkLimits {
  /** Running at once. */
  concurrent: number
  /** Running or waiting, per user. */
  perUser: number
  /** Running or waiting, everyone (≥ concurrent; equal: nothing waits). */
  total: number
}

export interface Refusal {
  refused: 'user' | 'total'
  /** The limit that was reached. */
  limit: number
}

export interface Place {
  /** Settles when the work may start; rejects if the place is given back before its turn. */
  readonly ready: Promise<void>
  /** 1 = next to start, 2 = after that…; 0 once running (or given back). */
  position(): number
  /** Gives the place back (again is harmless): the first one waiting starts. */
  release(): void
}

interface Entry {
  userId: number
  state: 'waiting' | 'running' | 'gone'
  start(): void
  drop(): void
}

export class WorkLimiter {
  private running = 0
  private waiting: Entry[] = []
  private perUser = new Map<number, number>()

  constructor(readonly limits: WorkLimits) {
    const { concurrent, perUser, total } = limits
    if (!(concurrent >= 1 && perUser >= 1 && total >= concurrent)) throw new Error(`bad work limits: ${JSON.stringify(limits)}`)
  }

  /** Places held (running or waiting), by one user or by all. */
  held(userId?: number): number {
    return userId === undefined ? this.running + this.waiting.length : (this.perUser.get(userId) ?? 0)
  }

  /** A place for `userId`'s work, running at once or waiting its turn; or why not. */
  enter(userId: number): Place | Refusal {
    if (this.held(userId) >= this.limits.perUser) return { refused: 'user', limit: this.limits.perUser }
    if (this.held() >= this.limits.total) return { refused: 'total', limit: this.limits.total }
    this.perUser.set(userId, this.held(userId) + 1)
    let entry!: Entry
    const ready = new Promise<void>((resolve, reject) => {
      entry = {
        userId,
        state: 'waiting',
        start: () => {
          entry.state = 'running'
          this.running++
          resolve()
        },
        drop: () => reject(new Error('the place was given back before its turn')),
      }
    })
    // Nobody need wait on `ready` for a place given back early.
    ready.catch(() => {})
    if (this.running < this.limits.concurrent) entry.start()
    else this.waiting.push(entry)
    return {
      ready,
      position: () => (entry.state === 'waiting' ? this.waiting.indexOf(entry) + 1 : 0),
      release: () => this.release(entry),
    }
  }

  private release(entry: Entry) {
    if (entry.state === 'gone') return
    const n = this.held(entry.userId) - 1
    if (n > 0) this.perUser.set(entry.userId, n)
    else this.perUser.delete(entry.userId)
    if (entry.state === 'waiting') {
      this.waiting.splice(this.waiting.indexOf(entry), 1)
      entry.state = 'gone'
      entry.drop()
      return
    }
    entry.state = 'gone'
    this.running--
    const next = this.waiting.shift()
    next?.start()
  }
}

export const isRefusal = (p: Place | Refusal): p is Refusal => 'refused' in p
