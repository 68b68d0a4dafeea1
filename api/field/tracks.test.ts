import { describe, expect, it } from 'vitest'
import { mayReadTrack } from './tracks.ts'

const worker = { id: 7, unitCode: '530602100201003' }

describe('who reads a patrol track', () => {
  it('is the worker and the staff up their chain', () => {
    expect(mayReadTrack({ id: 7, role: 'grid_worker', unitCode: worker.unitCode }, worker)).toBe(true)
    expect(mayReadTrack({ id: 1, role: 'township', unitCode: '530602100000' }, worker)).toBe(true)
    expect(mayReadTrack({ id: 2, role: 'commander', unitCode: '530602000000' }, worker)).toBe(true)
    expect(mayReadTrack({ id: 3, role: 'admin', unitCode: '530600000000' }, worker)).toBe(true)
  })

  it('is never another grid worker, the planner, the wall, or another township', () => {
    expect(mayReadTrack({ id: 8, role: 'grid_worker', unitCode: worker.unitCode }, worker)).toBe(false)
    expect(mayReadTrack({ id: 9, role: 'grid_worker', unitCode: '530602100201' }, worker)).toBe(false)
    expect(mayReadTrack({ id: 4, role: 'planner', unitCode: '530600000000' }, worker)).toBe(false)
    expect(mayReadTrack({ id: 5, role: 'viewer', unitCode: '530602000000' }, worker)).toBe(false)
    expect(mayReadTrack({ id: 6, role: 'township', unitCode: '530602101000' }, worker)).toBe(false)
  })
})
