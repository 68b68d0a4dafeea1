import { describe, expect, it } from 'vitest'
import { afterFailure, countNow, delaySeconds, THROTTLE, tooManyAttempts } from '../../api/auth/throttle-rules.ts'

const rule = { free: 3, baseSeconds: 15, capSeconds: 900, forgetSeconds: 3600 }
const t0 = new Date('2026-07-01T00:00:00Z') // 08:00 in Beijing

describe('login throttle rules', () => {
  it('lets the first failures go, then doubles the wait per failure up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 50].map((n) => delaySeconds(rule, n))).toEqual([0, 0, 15, 30, 60, 120, 240, 480, 900, 900, 900])
    expect(delaySeconds(rule, 0)).toBe(0)
    // A huge count does not overflow into a wait of Infinity or NaN.
    expect(delaySeconds(rule, 5000)).toBe(900)
  })

  it('blocks after a failure only from the free count on', () => {
    expect(afterFailure(rule, { failures: 1, blockedUntil: null }, t0)).toEqual({ failures: 2, blockedUntil: null })
    expect(afterFailure(rule, { failures: 2, blockedUntil: null }, t0)).toEqual({ failures: 3, blockedUntil: new Date(t0.getTime() + 15_000) })
  })

  it('forgets a count when the last failure is older than the rule keeps it', () => {
    const row = { failures: 7, blockedUntil: new Date(t0.getTime() + 60_000), lastFailureAt: t0 }
    expect(countNow(rule, row, new Date(t0.getTime() + 1000))).toEqual({ failures: 7, blockedUntil: row.blockedUntil })
    expect(countNow(rule, row, new Date(t0.getTime() + 3600_000 + 1))).toEqual({ failures: 0, blockedUntil: null })
  })

  it('says when to try again in Chinese and English, with the Beijing time', () => {
    const e = tooManyAttempts(15, t0, 'login')
    expect(e.status).toBe(429)
    expect(e.code).toBe('too_many_attempts')
    expect(e.zh).toBe('登录尝试过多，请 15 秒后再试（北京时间 08:00:15 之后）')
    expect(e.en).toBe('too many login attempts; retry in 15 s (after 08:00:15 Beijing time)')
    expect(tooManyAttempts(90, t0, 'login').zh).toContain('2 分钟')
    expect(tooManyAttempts(900, t0, 'password').zh).toBe('当前密码错误次数过多，请 15 分钟后再试（北京时间 08:15:00 之后）')
    expect(tooManyAttempts(900, t0, 'password').en).toBe('too many wrong current passwords; retry in 15 min (after 08:15:00 Beijing time)')
  })

  it('keeps the account-wide rule much looser than the per-place one, and every wait a few minutes at most', () => {
    expect(THROTTLE.account.free).toBeGreaterThanOrEqual(5 * THROTTLE.place.free)
    for (const r of Object.values(THROTTLE)) expect(r.capSeconds).toBeLessThanOrEqual(15 * 60)
  })
})
