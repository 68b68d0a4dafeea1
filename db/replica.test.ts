import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { formatLsn, lagOf, MAX_WAIT_MS, parseLsn, PROBE_EVERY_MS, ReadRouting, type Positions } from './replica.ts'

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * A primary and its streaming replica as WAL positions, on the fake clock. Each commit is replayed `lag` ms after
 * it (Infinity: never, here), and in order: a commit not replayed holds back every one after it. Each answer
 * takes a 1 ms round trip; the primary's position is the one when the query is sent (a lookup sent before a
 * commit does not see it).
 */
class Servers implements Positions {
  private commits: { lsn: bigint; replayedAt: number }[] = [{ lsn: 0x1000n, replayedAt: -Infinity }]
  primaryDown = false
  replicaDown = false
  lookups = 0
  probes = 0

  get primaryNow() {
    return this.commits.at(-1)!.lsn
  }
  /** A commit on the primary; its position. */
  commit(lag: number): bigint {
    const lsn = this.primaryNow + 0x100n
    this.commits.push({ lsn, replayedAt: Date.now() + lag })
    return lsn
  }
  replayedNow(): bigint {
    let replayed = 0n
    for (const c of this.commits) {
      if (c.replayedAt > Date.now()) break
      replayed = c.lsn
    }
    return replayed
  }
  async primary() {
    this.lookups++
    const lsn = this.primaryNow
    await sleep(1)
    if (this.primaryDown) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })
    return lsn
  }
  async replica(): Promise<bigint | null> {
    this.probes++
    await sleep(1)
    if (this.replicaDown) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5433'), { code: 'ECONNREFUSED' })
    return this.replayedNow()
  }
}

/** A heavy read being routed: where it went, after how long (fake ms), and how far the replica had replayed then. */
interface Routed { replica?: boolean; waited?: number; replayed?: bigint }

function route(routing: ReadRouting, servers: Servers, after?: bigint): Routed {
  const routed: Routed = {}
  const start = Date.now()
  void routing.replicaFits(after).then((replica) => Object.assign(routed, { replica, waited: Date.now() - start, replayed: servers.replayedNow() }))
  return routed
}

/** Runs the fake clock a millisecond at a time until every read is routed. */
async function routed(...reads: Routed[]) {
  for (let ms = 0; ; ms++) {
    await vi.advanceTimersByTimeAsync(0) // what is answered without time passing
    if (reads.every((r) => r.replica !== undefined)) return reads
    if (ms >= 1000) throw new Error('a read was not routed within 1 s')
    await vi.advanceTimersByTimeAsync(1)
  }
}

describe('where a heavy read runs: the replica once it has replayed what the read must see', () => {
  beforeEach(() => void vi.useFakeTimers())
  afterEach(() => void vi.useRealTimers())

  it('a change just heard, replayed by the replica 10 ms later: the read waits for it, on the replica', async () => {
    const servers = new Servers()
    const routing = new ReadRouting(servers, servers.primaryNow)
    const change = servers.commit(10)
    routing.noteChange()
    const [read] = await routed(route(routing, servers))
    expect(read.replica).toBe(true)
    expect(read.replayed).toBeGreaterThanOrEqual(change)
    expect(read.waited).toBeLessThan(MAX_WAIT_MS)
  })

  it('a replica that stays behind: the primary, once the bounded wait is over, having asked the replica again meanwhile', async () => {
    const servers = new Servers()
    const routing = new ReadRouting(servers, servers.primaryNow)
    servers.commit(Infinity)
    routing.noteChange()
    const [read] = await routed(route(routing, servers))
    expect(read.replica).toBe(false)
    expect(read.waited).toBe(MAX_WAIT_MS)
    expect(servers.probes).toBeGreaterThan(1)
    expect(servers.probes).toBeLessThanOrEqual(MAX_WAIT_MS / PROBE_EVERY_MS + 1)
  })

  it('a read must see the changes heard before it began, not those heard while it waits', async () => {
    const servers = new Servers()
    const routing = new ReadRouting(servers, servers.primaryNow)
    const first = servers.commit(5)
    routing.noteChange()
    const before = route(routing, servers)
    await vi.advanceTimersByTimeAsync(2)
    servers.commit(Infinity)
    routing.noteChange()
    const after = route(routing, servers)
    await routed(before, after)
    expect(before).toMatchObject({ replica: true })
    expect(before.replayed).toBeGreaterThanOrEqual(first)
    expect(after).toMatchObject({ replica: false, waited: MAX_WAIT_MS })
  })

  it('a lookup of the primary\'s position sent before a notice came does not stand for it', async () => {
    const servers = new Servers()
    const routing = new ReadRouting(servers, servers.primaryNow)
    servers.commit(0)
    routing.noteChange() // its lookup is sent now…
    servers.commit(Infinity) // …and a commit lands before it answers, its notice heard at once
    routing.noteChange()
    const [read] = await routed(route(routing, servers))
    expect(read.replica).toBe(false)
    expect(servers.lookups).toBe(2)
  })

  it('a reader\'s own mark (a write through another API process, no notice here) is honoured', async () => {
    const servers = new Servers()
    const routing = new ReadRouting(servers, servers.primaryNow)
    const mine = servers.commit(20)
    const [read, other] = await routed(route(routing, servers, mine), route(routing, servers))
    expect(read.replica).toBe(true)
    expect(read.replayed).toBeGreaterThanOrEqual(mine)
    expect(other.replica).toBe(true) // who wrote nothing needs nothing replayed
    const stuck = servers.commit(Infinity)
    const [late] = await routed(route(routing, servers, stuck))
    expect(late).toMatchObject({ replica: false, waited: MAX_WAIT_MS })
  })

  it('a replica marked down is not waited for: the primary at once, without asking it', async () => {
    const servers = new Servers()
    const routing = new ReadRouting(servers, servers.primaryNow)
    servers.replicaDown = true
    servers.commit(Infinity)
    routing.noteChange()
    const [first] = await routed(route(routing, servers))
    expect(first.replica).toBe(false)
    expect(first.waited).toBeLessThan(MAX_WAIT_MS) // its probe failed: no more waiting
    const probes = servers.probes
    const [next] = await routed(route(routing, servers))
    expect(next).toMatchObject({ replica: false, waited: 0 })
    expect(servers.probes).toBe(probes)
  })

  it('a read waiting when the replica is marked down (a read on it failed) goes to the primary then', async () => {
    const servers = new Servers()
    const routing = new ReadRouting(servers, servers.primaryNow)
    servers.commit(Infinity)
    routing.noteChange()
    const read = route(routing, servers)
    await vi.advanceTimersByTimeAsync(10)
    expect(read.replica).toBeUndefined()
    routing.markDown(new Error('read ECONNRESET'))
    await vi.advanceTimersByTimeAsync(0)
    expect(read).toMatchObject({ replica: false, waited: 10 })
  })

  it('the primary\'s position cannot be read: reads go to the primary at once, and back to the replica once it answers', async () => {
    const servers = new Servers()
    const routing = new ReadRouting(servers, servers.primaryNow)
    servers.primaryDown = true
    servers.commit(0)
    routing.noteChange()
    const [failed] = await routed(route(routing, servers))
    expect(failed.replica).toBe(false)
    const [meanwhile] = await routed(route(routing, servers))
    expect(meanwhile).toMatchObject({ replica: false, waited: 0 })
    servers.primaryDown = false
    await vi.advanceTimersByTimeAsync(1000 + 10) // tried again after 1 s, and answered
    const [again] = await routed(route(routing, servers))
    expect(again.replica).toBe(true)
  })

  it('a replica that stopped being a standby (promoted) is taken for down', async () => {
    const servers = new Servers()
    const routing = new ReadRouting(servers, servers.primaryNow)
    servers.replica = async () => null
    const [read] = await routed(route(routing, servers, servers.commit(0)))
    expect(read.replica).toBe(false)
    const [next] = await routed(route(routing, servers))
    expect(next).toMatchObject({ replica: false, waited: 0 })
  })

  it('a storm night (a change heard every 15 ms, replayed 3 ms later): every read on the replica, each seeing what it heard of', async () => {
    const servers = new Servers()
    const routing = new ReadRouting(servers, servers.primaryNow)
    const reads: { routed: Routed; heard: bigint }[] = []
    let heard = servers.primaryNow
    for (let ms = 0; ms < 1500; ms++) {
      if (ms % 15 === 0) {
        heard = servers.commit(3)
        routing.noteChange()
      }
      if (ms % 7 === 0) reads.push({ routed: route(routing, servers), heard })
      await vi.advanceTimersByTimeAsync(1)
    }
    await routed(...reads.map((r) => r.routed))
    expect(reads.length).toBeGreaterThan(200)
    for (const r of reads) {
      expect(r.routed.replica).toBe(true)
      expect(r.routed.replayed).toBeGreaterThanOrEqual(r.heard)
    }
    // The replica is asked by one probe at a time while reads wait, not by each of them.
    expect(servers.probes).toBeLessThan(reads.length)
  })
})
