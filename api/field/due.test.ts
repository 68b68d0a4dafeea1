import { describe, expect, it } from 'vitest'
import { byDue, visitDue } from './due.ts'

const now = new Date('2026-07-14T10:00:00+08:00')
const ago = (h: number) => new Date(now.getTime() - h * 3600_000)

describe('visits due', () => {
  it('is daily for red, weekly for yellow, monthly for green; never visited is overdue', () => {
    expect(visitDue('red', ago(25), now).overdue).toBe(true)
    expect(visitDue('red', ago(23), now).overdue).toBe(false)
    expect(visitDue('yellow', ago(24 * 6), now).overdue).toBe(false)
    expect(visitDue('yellow', ago(24 * 8), now).overdue).toBe(true)
    expect(visitDue('green', ago(24 * 29), now)).toEqual({ dueAt: new Date(ago(24 * 29).getTime() + 30 * 86_400_000), overdue: false })
    expect(visitDue('green', null, now)).toEqual({ dueAt: now, overdue: true })
  })

  it('lists overdue first, then soonest due', () => {
    const h = (code: string, risk: 'red' | 'yellow' | 'green', last: Date | null) => ({ code, risk, ...visitDue(risk, last, now) })
    const list = [h('g-soon', 'green', ago(24 * 29)), h('y-late', 'yellow', ago(24 * 10)), h('r-ok', 'red', ago(2)), h('r-never', 'red', null), h('r-late', 'red', ago(30))]
    expect(list.sort(byDue).map((x) => x.code)).toEqual(['y-late', 'r-late', 'r-never', 'r-ok', 'g-soon'])
  })
})
