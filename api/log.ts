import { config } from './config.ts'

const levels = { debug: 10, info: 20, warn: 30, error: 40 } as const
type Level = keyof typeof levels

function emit(level: Level, msg: string, extra?: unknown) {
  if (levels[level] < levels[config.logLevel]) return
  const line = `[gridwatch] ${msg}`
  if (level === 'error' || level === 'warn') console.error(line, extra ?? '')
  else console.log(line, ...(extra === undefined ? [] : [extra]))
}

export const log = {
  debug: (m: string, e?: unknown) => emit('debug', m, e),
  info: (m: string, e?: unknown) => emit('info', m, e),
  warn: (m: string, e?: unknown) => emit('warn', m, e),
  error: (m: string, e?: unknown) => emit('error', m, e),
}

/**
 * One progress line that rewrites itself on a terminal and prints plain lines
 * elsewhere (CI logs), so a long start is never silent.
 */
export function progress(label: string) {
  const started = Date.now()
  const tty = process.stdout.isTTY
  let last = ''
  return {
    update(text: string) {
      const line = `[gridwatch] ${label}: ${text} (${((Date.now() - started) / 1000).toFixed(1)} s)`
      if (tty) process.stdout.write(`\r\x1b[K${line}`)
      else if (text !== last) console.log(line)
      last = text
    },
    done(text = 'done') {
      const line = `[gridwatch] ${label}: ${text} (${((Date.now() - started) / 1000).toFixed(1)} s)`
      if (tty) process.stdout.write(`\r\x1b[K${line}\n`)
      else console.log(line)
    },
  }
}
