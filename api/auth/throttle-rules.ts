/**
 * How password guessing is slowed (issue #16): never a lock that a stranger can keep shut, but a wait
 * that grows with each failure, counted per key — one account from one place, one address over all
 * names, one account over all places. Pure rules; api/auth/throttle.ts keeps the counts in the database.
 */
import { HttpError } from '../../core/errors.ts'

export interface ThrottleRule {
  /** Failures before the first wait: the failure numbered `free` is the first one that is made to wait. */
  free: number
  /** The first wait; each further failure doubles it… */
  baseSeconds: number
  /** …up to this. */
  capSeconds: number
  /** A count is forgotten this long after its last failure. */
  forgetSeconds: number
}

export const THROTTLE = {
  /** One account from one address, or from one browser it has logged in from (its device cookie): the owner's typos, or one guesser. */
  place: { free: 3, baseSeconds: 15, capSeconds: 15 * 60, forgetSeconds: 24 * 3600 },
  /** One address over all names: one machine trying many accounts. A place known to the account is not held by it. */
  address: { free: 10, baseSeconds: 15, capSeconds: 15 * 60, forgetSeconds: 3600 },
  /** One account over all addresses: a guess spread over many machines. A place known to the account is not held by it. */
  account: { free: 20, baseSeconds: 15, capSeconds: 15 * 60, forgetSeconds: 24 * 3600 },
} satisfies Record<string, ThrottleRule>

/** What a throttle row counts. `account_device`: a browser's device cookie that has logged into the account before. */
export const scopes = ['account_address', 'account_device', 'address', 'account'] as const
export type Scope = (typeof scopes)[number]

export const ruleOf = (scope: Scope): ThrottleRule =>
  scope === 'address' ? THROTTLE.address : scope === 'account' ? THROTTLE.account : THROTTLE.place

/** How long a known place stays known after its last successful login. */
export const KNOWN_PLACE_DAYS = 180

/** The wait after the `failures`-th failure: none before `free`, then doubling per failure up to the cap. */
export function delaySeconds(rule: ThrottleRule, failures: number): number {
  if (failures < rule.free) return 0
  const doublings = Math.min(failures - rule.free, 30)
  return Math.min(rule.baseSeconds * 2 ** doublings, rule.capSeconds)
}

export interface Count {
  failures: number
  blockedUntil: Date | null
}

/** A row's count as it stands at `now`: nothing once its last failure is older than the rule keeps it. */
export function countNow(rule: ThrottleRule, row: Count & { lastFailureAt: Date }, now: Date): Count {
  if (now.getTime() - row.lastFailureAt.getTime() > rule.forgetSeconds * 1000) return { failures: 0, blockedUntil: null }
  return { failures: row.failures, blockedUntil: row.blockedUntil }
}

/** The count after one more failure at `now`. */
export function afterFailure(rule: ThrottleRule, count: Count, now: Date): Count {
  const failures = count.failures + 1
  const wait = delaySeconds(rule, failures)
  return { failures, blockedUntil: wait ? new Date(now.getTime() + wait * 1000) : null }
}

/** Whole seconds from `now` until `until`, 0 when it has passed. */
export const secondsUntil = (until: Date | null, now: Date) => (until ? Math.max(0, Math.ceil((until.getTime() - now.getTime()) / 1000)) : 0)

const beijingClock = (d: Date) =>
  d.toLocaleTimeString('en-GB', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false })

/** A 429 that knows its Retry-After. */
export class TooManyAttempts extends HttpError {
  constructor(readonly retryAfter: number, zh: string, en: string) {
    super(429, 'too_many_attempts', zh, en)
  }
}

/** 429 saying when to try again: in so many seconds or minutes, and from what time (Beijing). */
export function tooManyAttempts(seconds: number, now: Date, what: 'login' | 'password'): TooManyAttempts {
  const minutes = Math.ceil(seconds / 60)
  const wait = seconds < 60 ? { zh: `${seconds} 秒`, en: `${seconds} s` } : { zh: `${minutes} 分钟`, en: `${minutes} min` }
  const at = beijingClock(new Date(now.getTime() + seconds * 1000))
  const head = what === 'login'
    ? { zh: '登录尝试过多', en: 'too many login attempts' }
    : { zh: '当前密码错误次数过多', en: 'too many wrong current passwords' }
  return new TooManyAttempts(seconds, `${head.zh}，请 ${wait.zh}后再试（北京时间 ${at} 之后）`, `${head.en}; retry in ${wait.en} (after ${at} Beijing time)`)
}
