import { describe, expect, it } from 'vitest'
import { assignShelters, distanceM, nearestShelters, type Candidate } from './shelters.ts'

describe('shelter assignment', () => {
  const h = (id: number, members: number, o: Partial<Candidate> = {}): Candidate => ({ id, members, vulnerable: 0, gridId: 1, hazardId: null, planned: null, ...o })
  it('fills the planned shelter first, then the nearest with room, and never beyond capacity', () => {
    const room = new Map([[10, 6], [20, 5], [30, 100]])
    const out = assignShelters([h(1, 4, { planned: 10 }), h(2, 4, { planned: 10 }), h(3, 3)], new Map([[1, [20, 30]]]), room)
    expect(out.get(1)).toEqual({ shelterId: 10, how: 'planned' })
    expect(out.get(2)).toEqual({ shelterId: 20, how: 'nearest' }) // 10 has 2 places left
    expect(out.get(3)).toEqual({ shelterId: 30, how: 'nearest' }) // 20 has 1 left
    expect([...room.values()]).toEqual([2, 1, 97])
  })
  it('gives scarce places to vulnerable people first, then to the threatened, and reports the rest', () => {
    const room = new Map([[10, 5]])
    const out = assignShelters([h(1, 3), h(2, 3, { hazardId: 7 }), h(3, 3, { vulnerable: 1 })], new Map([[1, [10]]]), room)
    expect(out.get(3)!.shelterId).toBe(10)
    expect(out.get(2)!.how).toBe('none')
    expect(out.get(1)!.how).toBe('none')
  })
  it('leaves a household whose grid has no shelter in reach without one', () => {
    expect(assignShelters([h(1, 2, { gridId: 9 })], new Map(), new Map()).get(1)).toEqual({ shelterId: null, how: 'none' })
  })
})

describe('shelters in reach of a grid', () => {
  const at = (id: number, lon: number, lat: number) => ({ id, lon, lat })
  it('measures on the sphere: a degree of latitude is about 111 km, of longitude at 27°N about 99 km', () => {
    expect(distanceM(at(0, 103, 27), at(0, 103, 28)) / 1000).toBeCloseTo(111.2, 0)
    expect(distanceM(at(0, 103, 27), at(0, 104, 27)) / 1000).toBeCloseTo(99.1, 0)
  })
  it('lists the nearest first, at most k, none beyond the reach, across cell borders', () => {
    const grid = at(1, 103.5, 27.5)
    // 0.01° of latitude ≈ 1.1 km; the 8 km reach is about 0.072°.
    const shelters = [at(10, 103.5, 27.53), at(11, 103.5, 27.51), at(12, 103.5, 27.49), at(13, 103.5, 27.58), at(14, 103.44, 27.5), at(15, 103.6, 27.5)]
    expect(nearestShelters([grid], shelters, 8000, 8).get(1)).toEqual([11, 12, 10, 14])
    expect(nearestShelters([grid], shelters, 8000, 2).get(1)).toEqual([11, 12])
    // Brute force agrees everywhere on a lattice of grids and shelters.
    const grids = Array.from({ length: 40 }, (_, i) => at(i, 103 + (i % 8) * 0.037, 27 + Math.floor(i / 8) * 0.041))
    const many = Array.from({ length: 60 }, (_, i) => at(100 + i, 103 + ((i * 7) % 13) * 0.023, 27 + ((i * 5) % 11) * 0.019))
    const fast = nearestShelters(grids, many, 8000, 8)
    for (const g of grids) {
      const slow = many.map((s) => ({ id: s.id, d: distanceM(g, s) })).filter((s) => s.d <= 8000).sort((a, b) => a.d - b.d || a.id - b.id).slice(0, 8).map((s) => s.id)
      expect(fast.get(g.id) ?? []).toEqual(slow)
    }
  })
})
