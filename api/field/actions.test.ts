import { describe, expect, it } from 'vitest'
import { doneAtOf, outcomeOf, syncBody } from './actions.ts'

describe('field actions', () => {
  it('counts an action as done at the phone\'s time, never after it arrived', () => {
    const arrived = new Date('2026-07-14T10:00:00Z')
    expect(doneAtOf(new Date('2026-07-14T09:12:00Z'), arrived).toISOString()).toBe('2026-07-14T09:12:00.000Z')
    expect(doneAtOf(new Date('2026-07-14T11:00:00Z'), arrived)).toBe(arrived)
  })

  it('tells conflicts from refusals', () => {
    expect(outcomeOf(409)).toBe('conflict')
    expect(outcomeOf(403)).toBe('rejected')
    expect(outcomeOf(400)).toBe('rejected')
  })

  it('takes the four kinds and nothing else', () => {
    const id = '0b6f2a43-3c1a-4c5e-9a55-1f0d7e2b9c11'
    const at = '2026-07-14T09:12:00+08:00'
    const ok = syncBody.safeParse({ actions: [
      { id, at, kind: 'task.item', task: 3, item: 1, done: true },
      { id, at, kind: 'visit', household: 9, note: '好' },
      { id, at, kind: 'evac.status', order: 1, household: 9, from: 'not_notified', status: 'notified' },
      { id, at, kind: 'track', points: [{ at, lon: 103.7, lat: 27.3 }] },
    ] })
    expect(ok.success).toBe(true)
    for (const bad of [
      { id: 'not-a-uuid', at, kind: 'visit', household: 9 },
      { id, at: 'yesterday', kind: 'visit', household: 9 },
      { id, at, kind: 'report', note: 'later (#20)' },
      { id, at, kind: 'visit', household: 9, sql: 'x' },
      { id, at, kind: 'evac.status', order: 1, household: 9, status: 'notified' }, // no `from`
      { id, at, kind: 'track', points: [{ at, lon: 2, lat: 48 }] }, // not in China
      { id, at, kind: 'visit', household: 9, photo: '<svg>' },
    ]) expect(syncBody.safeParse({ actions: [bad] }).success, JSON.stringify(bad)).toBe(false)
    expect(syncBody.safeParse({ actions: [] }).success).toBe(false)
  })
})
