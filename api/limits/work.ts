/**
 * The server's limits on expensive work (api/README.md states them) and the
 * 429 a request past them gets. One set of limiters per app: print renders
 * hold a Chromium with a 300 dpi canvas each, analysis jobs and exports hold
 * database connections (the embedded database has one).
 */
import type { Context } from 'hono'
import { HttpError } from '../../core/errors.ts'
import { isRefusal, WorkLimiter, type Place, type WorkLimits } from './work-limiter.ts'

interface Work extends WorkLimits {
  zh: string
  en: string
  /** What Retry-After says: about how long one piece of this work takes. */
  retryAfterS: number
}

export const work = {
  print: { concurrent: 1, perUser: 2, total: 10, zh: '出图任务', en: 'print jobs', retryAfterS: 60 },
  analysis: { concurrent: 2, perUser: 2, total: 10, zh: '分析任务', en: 'analysis jobs', retryAfterS: 15 },
  exports: { concurrent: 4, perUser: 2, total: 4, zh: '导出', en: 'exports', retryAfterS: 15 },
} satisfies Record<string, Work>

export type WorkKind = keyof typeof work
export type WorkLimiters = Record<WorkKind, WorkLimiter>

export const workLimiters = (): WorkLimiters => ({
  print: new WorkLimiter(work.print),
  analysis: new WorkLimiter(work.analysis),
  exports: new WorkLimiter(work.exports),
})

/** A place for `kind` of work for the user, or a 429 with Retry-After naming the limit reached. */
export function takePlace(c: Context, limiters: WorkLimiters, kind: WorkKind, userId: number): Place {
  const place = limiters[kind].enter(userId)
  if (!isRefusal(place)) return place
  const w = work[kind]
  const under = w.total > w.concurrent ? { zh: '在排队或进行中', en: 'queued or under way' } : { zh: '在进行中', en: 'under way' }
  c.header('Retry-After', String(w.retryAfterS))
  if (place.refused === 'user') {
    throw new HttpError(429, 'too_many_jobs', `您已有 ${place.limit} 个${w.zh}${under.zh}（每人最多 ${place.limit} 个），请等其中一个完成后再试`,
      `you already have ${place.limit} ${w.en} ${under.en} (at most ${place.limit} each); wait for one to finish`)
  }
  throw new HttpError(429, 'server_busy', `服务器繁忙：已有 ${place.limit} 个${w.zh}${under.zh}，请 ${w.retryAfterS} 秒后再试`,
    `the server is busy: ${place.limit} ${w.en} are already ${under.en}; try again in ${w.retryAfterS} s`)
}
