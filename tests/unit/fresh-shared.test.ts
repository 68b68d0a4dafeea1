import { describe, expect, it } from 'vitest'
import { FreshShared } from '../../api/wall/fresh-shared.ts'

/** A computation that ends when the test says, numbered in the order they began. */
function computations() {
  const started: { key: string; n: number; finish(v?: string): void; fail(e: Error): void }[] = []
  const compute = (key: string) => new Promise<string>((resolve, reject) => {
    const n = started.length + 1
    started.push({ key, n, finish: (v) => resolve(v ?? `${key}#${n}`), fail: reject })
  })
  return { started, compute }
}
const settle = () => new Promise((r) => setTimeout(r, 0))

describe('FreshShared: one computation for many callers, never begun before a caller asked', () => {
  it('a caller while none runs starts one; callers while it runs share the next, begun after it ends', async () => {
    const { started, compute } = computations()
    const shared = new FreshShared(compute)
    const first = shared.get('530602000000')
    expect(started).toHaveLength(1)
    // Asked while #1 runs: #1 began before them, so they must not get it.
    const second = shared.get('530602000000')
    const third = shared.get('530602000000')
    expect(started).toHaveLength(1)
    started[0].finish()
    expect(await first).toBe('530602000000#1')
    await settle()
    expect(started).toHaveLength(2)
    // Asked while #2 runs: a third computation, not #2.
    const fourth = shared.get('530602000000')
    started[1].finish()
    expect(await second).toBe('530602000000#2')
    expect(await third).toBe('530602000000#2')
    await settle()
    expect(started).toHaveLength(3)
    started[2].finish()
    expect(await fourth).toBe('530602000000#3')
    await settle()
    expect(shared.running).toBe(0)
    // Quiet again: the next caller starts at once.
    const fifth = shared.get('530602000000')
    expect(started).toHaveLength(4)
    started[3].finish()
    expect(await fifth).toBe('530602000000#4')
  })

  it('keys apart: another area is computed at once, beside the first', async () => {
    const { started, compute } = computations()
    const shared = new FreshShared(compute)
    const a = shared.get('530602000000')
    const b = shared.get('530621000000')
    expect(started.map((s) => s.key)).toEqual(['530602000000', '530621000000'])
    started[1].finish()
    started[0].finish()
    expect([await a, await b]).toEqual(['530602000000#1', '530621000000#2'])
  })

  it('a failure reaches its own callers only; those waiting for the next get the next', async () => {
    const { started, compute } = computations()
    const shared = new FreshShared(compute)
    const first = shared.get('530602000000')
    const second = shared.get('530602000000')
    started[0].fail(new Error('database gone'))
    await expect(first).rejects.toThrow('database gone')
    await settle()
    started[1].finish()
    expect(await second).toBe('530602000000#2')
    await settle()
    expect(shared.running).toBe(0)
  })

  it('tells a computation when the first of its callers asked, not when it began', async () => {
    const asked: number[] = []
    const ends: (() => void)[] = []
    const shared = new FreshShared((_key, askedAt) => {
      asked.push(askedAt)
      return new Promise<string>((resolve) => ends.push(() => resolve('x')))
    })
    const t0 = Date.now()
    const first = shared.get('530602000000')
    await new Promise((r) => setTimeout(r, 30))
    const t1 = Date.now()
    const second = shared.get('530602000000') // waits for #1 to end
    await new Promise((r) => setTimeout(r, 30))
    shared.get('530602000000') // shares #2, asked later than `second`
    await new Promise((r) => setTimeout(r, 60))
    ends[0]()
    await first
    await settle()
    expect(asked).toHaveLength(2)
    expect(asked[0]).toBeGreaterThanOrEqual(t0)
    expect(asked[0]).toBeLessThan(t1)
    // #2 began 90 ms after `second` asked; what it may take as fresh is measured from that question.
    expect(asked[1]).toBeGreaterThanOrEqual(t1)
    expect(asked[1]).toBeLessThan(t1 + 30)
    ends[1]()
    await second
  })
})
