import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

/** An error a person can act on: a 4xx with the message in Chinese and English. */
export class HttpError extends Error {
  constructor(
    public status: ContentfulStatusCode,
    public code: string,
    public zh: string,
    public en: string,
  ) {
    super(en)
  }
}

export function errorBody(code: string, zh: string, en: string) {
  return { error: { code, zh, en } }
}

export function sendError(c: Context, e: HttpError) {
  return c.json(errorBody(e.code, e.zh, e.en), e.status)
}

export const notFound = (what: { zh: string; en: string }, id: string) =>
  new HttpError(404, 'not_found', `找不到${what.zh}：${id}`, `no ${what.en} ${id}`)

/** A positive whole-number id from the path, or a 400 naming what was wrong. */
export function parseId(raw: string, what: { zh: string; en: string }): number {
  if (!/^[1-9][0-9]{0,9}$/.test(raw) || Number(raw) > 2147483647) {
    throw new HttpError(400, 'bad_id', `${what.zh}编号须为正整数，收到 "${raw}"`, `${what.en} id must be a positive whole number, got "${raw}"`)
  }
  return Number(raw)
}
