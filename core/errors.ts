/**
 * The statuses an error answer carries: each is one Hono can send with a body
 * (api/error-answer.ts), so no framework type is needed down here.
 */
export type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 406 | 409 | 410 | 413 | 415 | 422 | 429 | 500 | 502 | 503

/** An error a person can act on: a 4xx with the message in Chinese and English. */
export class HttpError extends Error {
  constructor(
    public status: ErrorStatus,
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

export const notFound = (what: { zh: string; en: string }, id: string) =>
  new HttpError(404, 'not_found', `找不到${what.zh}：${id}`, `no ${what.en} ${id}`)

/** A positive whole-number id from the path, or a 400 naming what was wrong. */
export function parseId(raw: string, what: { zh: string; en: string }): number {
  if (!/^[1-9][0-9]{0,9}$/.test(raw) || Number(raw) > 2147483647) {
    throw new HttpError(400, 'bad_id', `${what.zh}编号须为正整数，收到 "${raw}"`, `${what.en} id must be a positive whole number, got "${raw}"`)
  }
  return Number(raw)
}
