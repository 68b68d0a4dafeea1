import type { Context } from 'hono'
import type { z } from 'zod'
import { HttpError } from '../core/errors.ts'
import { fieldFormats, fieldWords } from './words.ts'

type Issue = z.core.$ZodIssue

/** What is wrong with one field, in Chinese: the field in words, the rule in words (zod's own text is English and names codes). */
function issueZh(i: Issue): string {
  const key = String(i.path.at(-1) ?? '')
  const field = fieldWords[key]?.zh ?? (i.path.join('.') || '请求体')
  const size = (n: unknown, origin: string, more: boolean) =>
    origin === 'string' ? `${more ? '至少' : '最多'} ${n} 个字符` : origin === 'array' || origin === 'set' ? `${more ? '至少' : '最多'} ${n} 项` : `${more ? '不能小于' : '不能大于'} ${n}`
  switch (i.code) {
    case 'too_small': return `${field}${size(i.minimum, i.origin, true)}`
    case 'too_big': return `${field}${size(i.maximum, i.origin, false)}`
    case 'invalid_type': return /received undefined/.test(i.message) ? `缺少${field}` : `${field}类型有误`
    case 'invalid_format': return `${field}格式有误${fieldFormats[key] ? `：${fieldFormats[key].zh}` : ''}`
    case 'invalid_value': return `${field}取值无效`
    case 'unrecognized_keys': return `不认识的字段：${i.keys.join('、')}`
    default: return `${field}无效`
  }
}

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
    throw new HttpError(400, 'bad_input', `输入有误：${r.error.issues.map(issueZh).join('；')}`, `invalid input: ${where}`)
  }
  return r.data
}

/** The query string checked against `schema`, or a 400 that says which parameters are wrong. */
export function readQuery<S extends z.ZodType>(schema: S, raw: Record<string, string | string[]>): z.infer<S> {
  const r = schema.safeParse(raw)
  if (!r.success) {
    const where = r.error.issues.map((i) => `${i.path.join('.') || '(query)'}: ${i.message}`).join('; ')
    throw new HttpError(400, 'bad_query', `查询参数有误：${where}`, `invalid query: ${where}`)
  }
  return r.data
}

/** The query string as an object; a parameter given twice becomes a list, which every schema refuses. */
export function queryObject(c: Context): Record<string, string | string[]> {
  const raw: Record<string, string | string[]> = {}
  for (const [k, v] of new URL(c.req.url).searchParams) raw[k] = k in raw ? [raw[k]].flat().concat(v) : v
  return raw
}
