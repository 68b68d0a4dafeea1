import { describe, expect, it } from 'vitest'
import { formatLsn, parseLsn } from './replica.ts'

describe('WAL positions', () => {
  it('compare as numbers across the high word, and read back as PostgreSQL writes them', () => {
    expect(parseLsn('1/0')! > parseLsn('0/FFFFFFFF')!).toBe(true)
    expect(parseLsn('16/B374D848')).toBe((0x16n << 32n) | 0xb374d848n)
    expect(formatLsn(parseLsn('16/B374D848')!)).toBe('16/B374D848')
  })
  it('a malformed one (a forged cookie) is none', () => {
    for (const bad of ['', '16', '16/', 'G/1', '1/2/3', '123456789/0', ' 0/1', null, undefined]) expect(parseLsn(bad)).toBeNull()
  })
})
