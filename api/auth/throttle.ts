/**
 * The bookkeeping of login throttles (rules in throttle-rules.ts), in the database so that every API
 * process counts the same guesses. An attempt is taken before the password is checked and counted as
 * a failure at once; a success then takes it back. So a burst of guesses sent together cannot all be
 * checked before the first failure is written: the row lock lines them up and the wait starts in time.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { Sql } from '../../db/connect.ts'
import { transaction } from '../../db/transaction.ts'
import { auditEvent, writeTx, type Actor } from '../../db/write.ts'
import {
  afterFailure, countNow, KNOWN_PLACE_DAYS, ruleOf, secondsUntil, THROTTLE, tooManyAttempts,
  type Count, type Scope,
} from './throttle-rules.ts'

/** A browser's identity for login throttling: set at a successful login, sent back to /api/auth only. */
export const DEVICE_COOKIE = 'gw_device'
const DEVICE_TOKEN = /^[A-Za-z0-9_-]{43}$/
export const newDeviceToken = () => randomBytes(32).toString('base64url')
/** The token when it is one we could have made; anything else is no device. */
export const deviceToken = (raw: string | undefined) => (raw && DEVICE_TOKEN.test(raw) ? raw : undefined)
const hashDevice = (token: string) => createHash('sha256').update(token).digest('hex')

export interface Attempt {
  /** The name as typed (lower case), whether or not the account exists. */
  username: string
  address: string
  /** The browser's device cookie, when it sent one. */
  device?: string
}

interface Key {
  scope: Scope
  username: string
  place: string
}

/** An attempt taken: counted as a failure until `succeeded` takes it back. */
export interface Ticket {
  attempt: Attempt
  taken: { id: number; scope: Scope; failures: number; before: Count }[]
}

/** A throttle as the admin screen and the audit log show it: a device by its existence, never its hash. */
export interface ThrottleView {
  id: number
  scope: Scope
  username: string | null
  address: string | null
  failures: number
  /** Until when an attempt waits; null when one may be made now. */
  blockedUntil: Date | null
  lastFailureAt: Date
  /** When the count is forgotten, if nothing fails before. */
  forgottenAt: Date
}

// One order for every transaction's row locks (the place, then the address, then the account), so two
// attempts that share rows never wait on each other in a circle.
const rank: Record<Scope, number> = { account_address: 0, account_device: 0, address: 1, account: 2 }
const byLockOrder = (a: Key, b: Key) => rank[a.scope] - rank[b.scope] || a.scope.localeCompare(b.scope)
const longestMemory = Math.max(...Object.values(THROTTLE).map((r) => r.forgetSeconds))

type Row = { id: string | number; scope: Scope; username: string; place: string; failures: number; last_failure_at: Date; blocked_until: Date | null }

function view(r: Row, now: Date): ThrottleView | undefined {
  const rule = ruleOf(r.scope)
  const count = countNow(rule, { failures: r.failures, blockedUntil: r.blocked_until, lastFailureAt: r.last_failure_at }, now)
  if (!count.failures) return undefined
  return {
    id: Number(r.id),
    scope: r.scope,
    username: r.username || null,
    address: r.scope === 'account_address' || r.scope === 'address' ? r.place : null,
    failures: count.failures,
    blockedUntil: count.blockedUntil && count.blockedUntil > now ? count.blockedUntil : null,
    lastFailureAt: r.last_failure_at,
    forgottenAt: new Date(r.last_failure_at.getTime() + rule.forgetSeconds * 1000),
  }
}

export class LoginThrottle {
  private prunedAt = 0

  /** `now`: the clock (tests set theirs). */
  constructor(
    private sql: Sql,
    readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Which counts hold this attempt. From a browser that has logged into the account (device cookie):
   * that browser's count alone. Otherwise the (account, address) count, and unless the address has
   * logged into the account before, the address's and the account's counts too: a stranger's guesses
   * fill those, and the owner at a known place is not held by them.
   */
  private async keys(a: Attempt, now: Date): Promise<Key[]> {
    const device = a.device ? hashDevice(a.device) : ''
    const since = new Date(now.getTime() - KNOWN_PLACE_DAYS * 86_400_000)
    const known = await this.sql`
      SELECT p.kind FROM login_places p JOIN users u ON u.id = p.user_id
      WHERE u.username = ${a.username} AND p.last_login_at > ${since}
        AND ((p.kind = 'address' AND p.place = ${a.address}) OR (p.kind = 'device' AND p.place = ${device}))`
    const keys: Key[] = known.some((k) => k.kind === 'device')
      ? [{ scope: 'account_device', username: a.username, place: device }]
      : [{ scope: 'account_address', username: a.username, place: a.address }]
    if (!known.length) keys.push({ scope: 'address', username: '', place: a.address }, { scope: 'account', username: a.username, place: '' })
    return keys.sort(byLockOrder)
  }

  /** Takes one attempt: a TooManyAttempts (429) when one of its counts is waiting, else a ticket. */
  async take(a: Attempt, what: 'login' | 'password'): Promise<Ticket> {
    const now = this.now()
    const keys = await this.keys(a, now)
    const taken = await transaction(this.sql, async (tx) => {
      // Creates the missing rows and locks them all, in key order.
      const rows = (await tx`
        INSERT INTO login_throttles ${tx(keys.map((k) => ({ ...k, last_failure_at: now })))}
        ON CONFLICT (scope, username, place) DO UPDATE SET failures = login_throttles.failures
        RETURNING id, scope, username, place, failures, last_failure_at, blocked_until`) as unknown as Row[]
      const counts = rows.map((r) => {
        const rule = ruleOf(r.scope)
        return { r, rule, count: countNow(rule, { failures: r.failures, blockedUntil: r.blocked_until, lastFailureAt: r.last_failure_at }, now) }
      })
      const wait = Math.max(0, ...counts.map((c) => secondsUntil(c.count.blockedUntil, now)))
      // Thrown inside the transaction: the rows made for this attempt go with it.
      if (wait) throw tooManyAttempts(wait, now, what)
      const out: Ticket['taken'] = []
      for (const { r, rule, count } of counts) {
        const next = afterFailure(rule, count, now)
        await tx`UPDATE login_throttles SET failures = ${next.failures}, blocked_until = ${next.blockedUntil}, last_failure_at = ${now}
                 WHERE id = ${r.id}`
        out.push({ id: Number(r.id), scope: r.scope, failures: next.failures, before: count })
      }
      return out
    })
    if (now.getTime() - this.prunedAt > 60_000) {
      this.prunedAt = now.getTime()
      await this.sql`DELETE FROM login_throttles WHERE last_failure_at < ${new Date(now.getTime() - longestMemory * 1000)}`
    }
    return { attempt: a, taken }
  }

  /**
   * The password was right: this place's count is cleared, the address's and the account's give back
   * the failure the attempt was counted as (and its wait, when no other attempt came in between). With
   * `userId` the address and the device become known places of the account.
   */
  async succeeded(t: Ticket, userId: number | null) {
    const now = this.now()
    await transaction(this.sql, async (tx) => {
      for (const k of t.taken) {
        if (k.scope === 'account_address' || k.scope === 'account_device') await tx`DELETE FROM login_throttles WHERE id = ${k.id}`
        else {
          await tx`UPDATE login_throttles SET failures = greatest(failures - 1, 0),
                     blocked_until = CASE WHEN failures = ${k.failures} THEN ${k.before.blockedUntil} ELSE blocked_until END
                   WHERE id = ${k.id}`
        }
      }
      if (userId === null) return
      const places = [{ user_id: userId, kind: 'address', place: t.attempt.address, last_login_at: now }]
      if (t.attempt.device) places.push({ user_id: userId, kind: 'device', place: hashDevice(t.attempt.device), last_login_at: now })
      await tx`INSERT INTO login_places ${tx(places)}
               ON CONFLICT (user_id, kind, place) DO UPDATE SET last_login_at = EXCLUDED.last_login_at`
      await tx`DELETE FROM login_places WHERE user_id = ${userId} AND last_login_at < ${new Date(now.getTime() - KNOWN_PLACE_DAYS * 86_400_000)}`
    })
  }

  /** The throttles in force: a wait now, or as many failures as make the next one wait. The longest waits first. */
  async list(limit = 500): Promise<ThrottleView[]> {
    const now = this.now()
    // Per scope: the failures from which the next one waits, and the oldest last failure still remembered.
    const of = (scope: Scope) => {
      const rule = ruleOf(scope)
      return { free: rule.free, since: new Date(now.getTime() - rule.forgetSeconds * 1000) }
    }
    const [place, address, account] = [of('account_address'), of('address'), of('account')]
    const rows = (await this.sql`
      SELECT id, scope, username, place, failures, last_failure_at, blocked_until FROM login_throttles
      WHERE last_failure_at > CASE scope WHEN 'address' THEN ${address.since}::timestamptz
                                         WHEN 'account' THEN ${account.since}::timestamptz ELSE ${place.since}::timestamptz END
        AND (blocked_until > ${now} OR failures >= CASE scope WHEN 'address' THEN ${address.free}::int
                                                              WHEN 'account' THEN ${account.free}::int ELSE ${place.free}::int END)
      ORDER BY blocked_until DESC NULLS LAST, last_failure_at DESC
      LIMIT ${limit}`) as unknown as Row[]
    return rows.map((r) => view(r, now)).filter((v): v is ThrottleView => !!v)
  }

  /** Clears one throttle (audited); false when there is none by that id. */
  async clear(by: Actor, id: number): Promise<boolean> {
    const now = this.now()
    return writeTx(this.sql, by, async (tx) => {
      const [r] = (await tx`DELETE FROM login_throttles WHERE id = ${id}
                            RETURNING id, scope, username, place, failures, last_failure_at, blocked_until`) as unknown as Row[]
      if (!r) return false
      await auditEvent(tx, { action: 'throttle_cleared', table: 'login_throttles', rowId: String(id), before: view(r, now) ?? { id, scope: r.scope, username: r.username || null } })
      return true
    })
  }

  /** Clears every throttle of one account name (audited as one event); how many there were. */
  async clearAccount(by: Actor, username: string): Promise<number> {
    const now = this.now()
    return writeTx(this.sql, by, async (tx) => {
      const rows = (await tx`DELETE FROM login_throttles WHERE username = ${username}
                             RETURNING id, scope, username, place, failures, last_failure_at, blocked_until`) as unknown as Row[]
      if (rows.length) {
        const throttles = rows.map((r) => view(r, now)).filter(Boolean)
        await auditEvent(tx, { action: 'throttle_cleared', table: 'login_throttles', rowId: null, before: { username, throttles } })
      }
      return rows.length
    })
  }
}
