import { describe, expect, it } from 'vitest'
import { isRefusal, WorkLimiter, type Place, type Refusal } from '../../api/limits/work-limiter.ts'

const place = (p: Place | Refusal): Place => {
  if (isRefusal(p)) throw new Error(`refused: ${JSON.stringify(p)}`)
  return p
}
const started = async (p: Place) => {
  let yes = false
  void p.ready.then(() => (yes = true), () => {})
  await new Promise((r) => setTimeout(r, 0))
  return yes
}

describe('work limiter', () => {
  it('runs `concurrent` at once, queues the rest in order with their positions, starts the next as one ends', async () => {
    const l = new WorkLimiter({ concurrent: 2, perUser: 5, total: 5 })
    const [a, b, c, d] = [1, 2, 3, 4].map((u) => place(l.enter(u)))
    expect([a, b, c, d].map((p) => p.position())).toEqual([0, 0, 1, 2])
    expect([await started(a), await started(b), await started(c)]).toEqual([true, true, false])
    b.release()
    expect(await started(c)).toBe(true)
    expect([c.position(), d.position()]).toEqual([0, 1])
    expect(l.held()).toBe(3)
  })

  it('refuses past the per-user limit (running and waiting count) and past the total, naming which', () => {
    const l = new WorkLimiter({ concurrent: 1, perUser: 2, total: 3 })
    place(l.enter(7))
    place(l.enter(7))
    expect(l.enter(7)).toEqual({ refused: 'user', limit: 2 })
    place(l.enter(8))
    expect(l.enter(9)).toEqual({ refused: 'total', limit: 3 })
    // A user at their limit is told so even when everything is full.
    expect(l.enter(7)).toEqual({ refused: 'user', limit: 2 })
    expect([l.held(7), l.held(8), l.held(9), l.held()]).toEqual([2, 1, 0, 3])
  })

  it('gives a waiting place back without it ever starting, and moves those behind it up', async () => {
    const l = new WorkLimiter({ concurrent: 1, perUser: 3, total: 4 })
    const run = place(l.enter(1))
    const [w1, w2, w3] = [2, 3, 4].map((u) => place(l.enter(u)))
    w2.release()
    await expect(w2.ready).rejects.toThrow(/before its turn/)
    expect([w1.position(), w2.position(), w3.position()]).toEqual([1, 0, 2])
    expect(l.held(3)).toBe(0)
    run.release()
    expect([await started(w1), await started(w3)]).toEqual([true, false])
    expect(w3.position()).toBe(1)
  })

  it('frees a place once however often it is given back, and forgets users with none', () => {
    const l = new WorkLimiter({ concurrent: 1, perUser: 1, total: 2 })
    const a = place(l.enter(1))
    const b = place(l.enter(2))
    a.release()
    a.release()
    expect(l.held()).toBe(1)
    expect(b.position()).toBe(0)
    // User 1 may come back; user 2 still holds theirs.
    place(l.enter(1))
    expect(l.enter(2)).toEqual({ refused: 'user', limit: 1 })
    b.release()
    b.release()
    expect([l.held(), l.held(1), l.held(2)]).toEqual([1, 1, 0])
  })

  it('with total = concurrent nothing waits: past it the work is refused', () => {
    const l = new WorkLimiter({ concurrent: 2, perUser: 2, total: 2 })
    expect(place(l.enter(1)).position()).toBe(0)
    expect(place(l.enter(2)).position()).toBe(0)
    expect(l.enter(3)).toEqual({ refused: 'total', limit: 2 })
  })

  it('refuses limits that make no sense', () => {
    expect(() => new WorkLimiter({ concurrent: 0, perUser: 1, total: 1 })).toThrow()
    expect(() => new WorkLimiter({ concurrent: 2, perUser: 1, total: 1 })).toThrow()
    expect(() => new WorkLimiter({ concurrent: 1, perUser: 0, total: 1 })).toThrow()
  })
})
