/**
 * Control characters are refused at the edge: a NUL byte reached PostgreSQL
 * (which cannot store it in text) and answered 500; an escape sequence in a
 * name would reach every screen and log that shows it. Text fields may hold
 * line breaks and tabs (a note, a measure); names in paths and queries may not.
 */
import type { MiddlewareHandler } from 'hono'
import { HttpError } from '../../core/errors.ts'

/** C0 controls and DEL, except tab, line feed and carriage return. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const IN_TEXT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/
/** In a path or query parameter not even those. */
// eslint-disable-next-line no-control-regex -- as above
const IN_NAME = /[\u0000-\u001F\u007F]/

export interface Found {
  /** Where: `username`, `items.3.note`, `(body)`. */
  field: string
  /** The character, as U+XXXX. */
  char: string
}

const describe = (s: string, re: RegExp) => 'U+' + s.match(re)![0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')

/** The first string (or object key) in a parsed JSON value holding a control character. */
export function findControlCharacter(value: unknown, path: string[] = []): Found | null {
  if (typeof value === 'string') return IN_TEXT.test(value) ? { field: path.join('.') || '(body)', char: describe(value, IN_TEXT) } : null
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const f = findControlCharacter(value[i], [...path, String(i)])
      if (f) return f
    }
    return null
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (IN_TEXT.test(k)) return { field: [...path, k].join('.'), char: describe(k, IN_TEXT) }
      const f = findControlCharacter(v, [...path, k])
      if (f) return f
    }
  }
  return null
}

/** A control character in text (a CSV upload): its line, or null. */
export function findInText(text: string): Found | null {
  const m = IN_TEXT.exec(text)
  if (!m) return null
  const line = text.slice(0, m.index).split('\n').length
  return { field: `line ${line}`, char: describe(m[0], IN_TEXT) }
}

/** A path segment or query parameter holding any control character, or null. */
export function findInNames(path: string, query: Record<string, string[]>): Found | null {
  if (IN_NAME.test(path)) return { field: '(path)', char: describe(path, IN_NAME) }
  for (const [k, vs] of Object.entries(query)) {
    if (IN_NAME.test(k)) return { field: k, char: describe(k, IN_NAME) }
    for (const v of vs) if (IN_NAME.test(v)) return { field: k, char: describe(v, IN_NAME) }
  }
  return null
}

export const controlCharacterError = (f: Found) =>
  new HttpError(400, 'control_character', `“${f.field}”含有不允许的控制字符（${f.char}）`, `“${f.field}” holds a control character (${f.char}), which is not allowed`)

const JSON_TYPE = /^application\/json\b/i
const TEXT_TYPE = /^text\//i

/** Path, query and body (JSON walked field by field, text line by line) of every request. */
export function refuseControlCharacters(): MiddlewareHandler {
  return async (c, next) => {
    let path = c.req.path
    try {
      path = decodeURIComponent(new URL(c.req.url).pathname)
    } catch {
      // A malformed escape is the router's to refuse (it answers 404/400).
    }
    const named = findInNames(path, c.req.queries())
    if (named) throw controlCharacterError(named)
    const type = c.req.header('Content-Type') ?? ''
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && (JSON_TYPE.test(type) || TEXT_TYPE.test(type))) {
      // Read once here; Hono keeps the text, so the route's own c.req.json()/text() reads the same.
      const text = await c.req.text()
      let found: Found | null
      if (JSON_TYPE.test(type)) {
        let parsed: unknown
        try {
          parsed = JSON.parse(text)
        } catch {
          // Not JSON: the route answers bad_json in its own words.
          return next()
        }
        found = findControlCharacter(parsed)
      } else {
        found = findInText(text)
      }
      if (found) throw controlCharacterError(found)
    }
    await next()
  }
}
