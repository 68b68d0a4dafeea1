import { describe, expect, it } from 'vitest'
import { assignShelters, distanceM, nearestShelters, type Candidate } from '../../api/evac/assign.ts'
import { copyBinaryChunks, inGridOrder, type TransferRow } from '../../api/evac/insert-rows.ts'
import { nextPrefix, parsePacked } from '../../api/evac/pick.ts'
import { commonUnit } from '../../api/evac/orders.ts'
import { checkTransition, statuses, type Status } from '../../api/evac/status.ts'

const code = (fn: () => void) => {
  try {
    fn()
    return 'ok'
  } catch (e) {
    return (e as { code: string }).code
  }
}

describe('transfer status rules', () => {
  it('lets a household go forward freely and back only with a reason', () => {
    const forward: [Status, Status][] = [['not_notified', 'notified'], ['notified', 'moving'], ['moving', 'at_shelter'], ['at_shelter', 'returned'],
      ['not_notified', 'moving'], ['not_notified', 'refused'], ['notified', 'unreachable'], ['moving', 'refused'], ['refused', 'notified'],
      ['unreachable', 'at_shelter'], ['refused', 'unreachable']]
    for (const [from, to] of forward) expect(code(() => checkTransition(from, to, undefined)), `${from}→${to}`).toBe('ok')
    const back: [Status, Status][] = [['notified', 'not_notified'], ['moving', 'notified'], ['at_shelter', 'moving'], ['returned', 'at_shelter'],
      ['at_shelter', 'refused'], ['returned', 'unreachable'], ['refused', 'not_notified'], ['moving', 'returned'], ['not_notified', 'returned']]
    for (const [from, to] of back) {
      expect(code(() => checkTransition(from, to, undefined)), `${from}→${to}`).toBe('reason_required')
      expect(code(() => checkTransition(from, to, '家中有病人')), `${from}→${to} with a reason`).toBe('ok')
    }
  })
  it('refuses a change to the same status, reason or not', () => {
    for (const s of statuses) {
      expect(code(() => checkTransition(s, s, undefined))).toBe('same_status')
      expect(code(() => checkTransition(s, s, 'again'))).toBe('same_status')
    }
  })
})

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

describe('the unit an order belongs to', () => {
  it('is the smallest admin unit holding all its grids', () => {
    expect(commonUnit(['530602100201001', '530602100201009'])).toBe('530602100201')
    expect(commonUnit(['530602100201001', '530602100202001'])).toBe('530602100000')
    expect(commonUnit(['530602100201001', '530602101201001'])).toBe('530602000000')
    expect(commonUnit(['530602100201001', '530621100201001'])).toBe('530600000000')
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

describe('reading an order\'s households', () => {
  it('parses the packed rows, empty fields as 0', () => {
    // Nine numbers a household: id, members, vulnerable, grid, hazard, planned shelter, route, cadre, flags.
    expect([...parsePacked('1,2,3,4,5,6,7,8,1;40,3,0,12,,,,9,6')]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 1, 40, 3, 0, 12, 0, 0, 0, 9, 6])
    expect(parsePacked(null).length).toBe(0)
  })
  it('bounds a code prefix from above', () => {
    expect(nextPrefix('530627')).toBe('530628')
    expect(nextPrefix('530629')).toBe('530630')
    expect(nextPrefix('530627109')).toBe('530627110')
    expect(nextPrefix('5306')).toBe('5307')
  })
})

describe('writing an order\'s rows', () => {
  const row = (householdId: number, gridCode: string, o: Partial<TransferRow> = {}): TransferRow =>
    ({ householdId, gridCode, members: 3, vulnerable: 0, hazardId: null, shelterId: null, routeId: null, cadreId: null, ...o })

  it('puts rows in grid-code order, then household, whatever order they came in', () => {
    // Pseudo-random households over 40 grids, as a pick returns them.
    const rows = Array.from({ length: 3000 }, (_, i) => row((i * 7919) % 100003, `530627101201${String((i * 31) % 40).padStart(3, '0')}`))
    const want = [...rows].sort((a, b) => (a.gridCode < b.gridCode ? -1 : a.gridCode > b.gridCode ? 1 : a.householdId - b.householdId))
    expect(inGridOrder(rows)).toEqual(want)
    expect(inGridOrder([])).toEqual([])
  })

  it('encodes COPY\'s binary format: header, nine fields a row with NULLs as -1, trailer', () => {
    const buf = Buffer.concat([...copyBinaryChunks(7, [row(12, '530627101201001', { shelterId: 5, members: 4, vulnerable: 1 }), row(2 ** 31 - 1, '5306271012010011', { cadreId: 9 })])])
    expect(buf.subarray(0, 11).toString('latin1')).toBe('PGCOPY\n\xff\r\n\0')
    expect(buf.readInt32BE(11)).toBe(0)
    expect(buf.readInt32BE(15)).toBe(0)
    let o = 19
    const fields = () => {
      const n = buf.readInt16BE(o)
      o += 2
      return Array.from({ length: n }, () => {
        const len = buf.readInt32BE(o)
        o += 4
        if (len === -1) return null
        const v = buf.subarray(o, o + len)
        o += len
        return len === 4 ? v.readInt32BE() : len === 2 ? v.readInt16BE() : v.toString('utf8')
      })
    }
    expect(fields()).toEqual([7, 12, '530627101201001', 4, 1, null, 5, null, null])
    expect(fields()).toEqual([7, 2 ** 31 - 1, '5306271012010011', 3, 0, null, null, null, 9])
    expect(buf.readInt16BE(o)).toBe(-1)
    expect(o + 2).toBe(buf.length)
  })
})
