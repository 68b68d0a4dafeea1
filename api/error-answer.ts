import type { Context } from 'hono'
import { errorBody, type HttpError } from '../core/errors.ts'

/** The answer to an HttpError: its status, and its message in both languages. */
export function sendError(c: Context, e: HttpError) {
  return c.json(errorBody(e.code, e.zh, e.en), e.status)
}
