import { AsyncLocalStorage } from 'node:async_hooks'
import { pino } from 'pino'
import { config } from './config.ts'

const levels = { debug: 10, info: 20, warn: 30, error: 40 } as const
type Level = keyof typeof levels

export type LogFormat = 'json' | 'text'

/**
 * GRIDWATCH_LOG_FORMAT=json|text chooses; unset, a person on a terminal reads text and everything
 * else (systemd's journal, a file, a pipe) gets JSON lines a machine can search.
 */
export function logFormatOf(setting: string | undefined, tty: boolean): LogFormat {
  const v = setting?.trim().toLowerCase()
  if (v === 'json' || v === 'text') return v
  return tty ? 'text' : 'json'
}

export const logFormat: LogFormat = logFormatOf(config.logFormat, Boolean(process.stdout.isTTY))

/** Fields every line logged inside carries (a request's id); api/logging/access-log.ts runs each request in one. */
const context = new AsyncLocalStorage<Record<string, unknown>>()
export const withLogFields = <T>(fields: Record<string, unknown>, fn: () => T): T => context.run(fields, fn)

/**
 * JSON lines on stdout (through process.stdout, so what the process writes stays in one stream, in order).
 * Keys that could hold a secret are blanked wherever a caller's `extra` puts them — a second net: nothing
 * should hand a password or a cookie to the log in the first place.
 */
const json = pino(
  {
    level: config.logLevel,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: () => context.getStore() ?? {},
    redact: {
      paths: ['password', 'cookie', 'authorization', '*.password', '*.cookie', '*.authorization', '*.headers.cookie', '*.headers.authorization'],
      censor: '[hidden]',
    },
  },
  process.stdout,
)

/** What a caller's `extra` becomes on a JSON line: an error with its stack under `err`, anything else under `extra`. */
const fieldsOf = (extra: unknown) => (extra === undefined ? {} : extra instanceof Error ? { err: extra } : { extra })

function emit(level: Level, msg: string, extra?: unknown) {
  if (logFormat === 'json') return json[level](fieldsOf(extra), msg)
  if (levels[level] < levels[config.logLevel]) return
  const reqId = context.getStore()?.reqId
  const line = `[gridwatch] ${msg}${reqId ? ` #${String(reqId)}` : ''}`
  if (level === 'error' || level === 'warn') console.error(line, extra ?? '')
  else console.log(line, ...(extra === undefined ? [] : [extra]))
}

export const log = {
  debug: (m: string, e?: unknown) => emit('debug', m, e),
  info: (m: string, e?: unknown) => emit('info', m, e),
  warn: (m: string, e?: unknown) => emit('warn', m, e),
  error: (m: string, e?: unknown) => emit('error', m, e),
}

export interface AccessLine {
  method: string
  path: string
  /** The route pattern that answered (/api/households/:id), when the app knows it. */
  route?: string
  status: number
  ms: number
  user?: { id: number; username: string }
  ip?: string
  /** The client went away before the answer was complete. */
  aborted?: boolean
}

/**
 * One line per request. As JSON always (info); as text only with LOG_LEVEL=debug, so a map's
 * hundred tile requests do not bury `npm start`'s own lines on a terminal. A 5xx also has its error line.
 */
export function logAccess(a: AccessLine) {
  if (logFormat === 'json') return json.info({ access: true, ...a }, 'request')
  if (levels[config.logLevel] > levels.debug) return
  console.log(`[gridwatch] ${a.method} ${a.path} ${a.status} ${a.ms} ms${a.user ? ` ${a.user.username}` : ''}${a.aborted ? ' (aborted)' : ''} #${String(context.getStore()?.reqId ?? '')}`)
}

/**
 * One progress line that rewrites itself on a terminal and prints plain lines
 * elsewhere (CI logs; JSON lines when the log is JSON), so a long start is never silent.
 */
export function progress(label: string) {
  const started = Date.now()
  const tty = process.stdout.isTTY && logFormat === 'text'
  const seconds = () => Number(((Date.now() - started) / 1000).toFixed(1))
  const text = (t: string) => `[gridwatch] ${label}: ${t} (${seconds().toFixed(1)} s)`
  let last = ''
  return {
    update(t: string) {
      if (logFormat === 'json') {
        if (t !== last) json.info({ progress: t, s: seconds() }, label)
      } else if (tty) process.stdout.write(`\r\x1b[K${text(t)}`)
      else if (t !== last) console.log(text(t))
      last = t
    },
    done(t = 'done') {
      if (logFormat === 'json') json.info({ progress: t, s: seconds(), done: true }, label)
      else if (tty) process.stdout.write(`\r\x1b[K${text(t)}\n`)
      else console.log(text(t))
    },
  }
}
