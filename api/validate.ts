import type { Context } from 'hono'
import type { z } from 'zod'
import { HttpError } from './errors.ts'

/** The JSON body checked against `schema`, or a 400/415 that says which fields are wrong. */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  if (!/^application\/json\b/i.test(c.req.header('Content-Type') ?? '')) {
    throw new HttpError(415, 'json_required', '请求体须为 JSON（Content-Type: application/json）', 'the body must be JSON (Content-Type: application/json)')
  }
  let raw: unknown
  try {
    raw = await c.req.json()
  } catch {
    throw new HttpError(400, 'bad_json', '请求体不是有效的 JSON', 'the body is not valid JSON')
  }
  const r = schema.safeParse(raw)
  if (!r.success) {
    const where = r.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')
    throw new HttpError(400, 'bad_input', `输入有误：${where}`, `invalid input: ${where}`)
  }
  return r.data
}

/** The query string checked against `schema`, or a 400 that says which parameters are wrong. */
export function readQuery<S extends z.ZodType>(schema: S, raw: Record<string, string>): z.infer<S> {
  const r = schema.safeParse(raw)
  if (!r.success) {
    const where = r.error.issues.map((i) => `${i.path.join('.') || '(query)'}: ${i.message}`).join('; ')
    throw new HttpError(400, 'bad_query', `查询参数有误：${where}`, `invalid query: ${where}`)
  }
  return r.data
}
