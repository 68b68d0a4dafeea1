import { describe, expect, it } from 'vitest'
import { chooseFocus } from '../../web/src/wall/focus.ts'

const county = (code: string, severity: number) => ({ code, name: code, bbox: [0, 0, 1, 1] as [number, number, number, number], severity })

describe('the wall follows the worst county, or rotates', () => {
  it('rotates through every county in order while all is calm', () => {
    const cs = [county('a', 0), county('b', 0), county('c', 0)]
    expect([0, 1, 2, 3, 4].map((t) => chooseFocus(cs, t)!.code)).toEqual(['a', 'b', 'c', 'a', 'b'])
    expect(chooseFocus(cs, 0)!.following).toBe(false)
  })
  it('stays on the worst county whatever the turn, the first of equals', () => {
    const cs = [county('a', 3), county('b', 40), county('c', 40), county('d', 0)]
    for (const t of [0, 1, 2, 7]) expect(chooseFocus(cs, t)).toMatchObject({ code: 'b', following: true })
  })
  it('has nothing to show with no county', () => {
    expect(chooseFocus([], 5)).toBeNull()
  })
})
