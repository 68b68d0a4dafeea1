import { describe, expect, it } from 'vitest'
import { copyBinaryChunks, inGridOrder, type TransferRow } from './insert-rows.ts'
import { nextPrefix, parsePacked } from './pick.ts'

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
