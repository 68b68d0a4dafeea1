import { describe, expect, it } from 'vitest'
import { formatLsn, lagOf, parseLsn } from './replica.ts'

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

describe('replica lag as /api/ready reports it', () => {
  const now = new Date('2026-12-07T12:00:10Z')
  const at = new Date('2026-12-07T12:00:00Z')
  it('is the WAL not replayed, in bytes, and the age of the last replayed transaction while behind', () => {
    expect(lagOf('1/100', { replay: '0/FFFFFF00', at, now, paused: false })).toEqual({ state: 'streaming', lagBytes: 0x200, lagSeconds: 10, replayedAt: at.toISOString() })
    expect(lagOf('1/100', { replay: '1/0', at, now, paused: true }).state).toBe('paused')
  })
  it('caught up is no lag, however old the last transaction (an idle primary writes none)', () => {
    expect(lagOf('1/100', { replay: '1/100', at, now, paused: false })).toMatchObject({ lagBytes: 0, lagSeconds: 0 })
    // The primary's position read after the replica's: never less than it, but a replica further on is not "negative lag".
    expect(lagOf('1/100', { replay: '1/200', at, now, paused: false }).lagBytes).toBe(0)
  })
  it('a server that is not replaying (promoted, or never a standby) says so, with no figures', () => {
    expect(lagOf('1/100', { replay: null, at: null, now, paused: false })).toEqual({ state: 'not_standby', lagBytes: null, lagSeconds: null, replayedAt: null })
    expect(lagOf('1/100', { replay: '1/10', at: null, now, paused: false })).toMatchObject({ lagBytes: 0xf0, lagSeconds: null, replayedAt: null })
  })
})
