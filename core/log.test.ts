import { afterEach, describe, expect, it, vi } from 'vitest'
import { logFormatOf } from './log.ts'

describe('logFormatOf', () => {
  it('text on a terminal, JSON lines elsewhere, unless GRIDWATCH_LOG_FORMAT says', () => {
    expect(logFormatOf(undefined, true)).toBe('text')
    expect(logFormatOf(undefined, false)).toBe('json')
    expect(logFormatOf('', false)).toBe('json')
    expect(logFormatOf('json', true)).toBe('json')
    expect(logFormatOf(' JSON ', true)).toBe('json')
    expect(logFormatOf('text', false)).toBe('text')
    expect(logFormatOf('yaml', true)).toBe('text')
  })
})

describe('JSON lines', () => {
  afterEach(() => {
    vi.restoreAllMocks()
    vi.unstubAllEnvs()
  })

  /** The lines core/log.ts writes while `fn` runs, with GRIDWATCH_LOG_FORMAT=json. */
  async function linesOf(fn: (mod: typeof import('./log.ts')) => void) {
    vi.stubEnv('GRIDWATCH_LOG_FORMAT', 'json')
    vi.stubEnv('LOG_LEVEL', 'info')
    vi.resetModules()
    const mod = await import('./log.ts')
    const out: string[] = []
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true))
    fn(mod)
    vi.restoreAllMocks()
    return out.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
  }

  it('an error keeps its stack, and the fields of the request it ran in', async () => {
    const [line] = await linesOf(({ log, withLogFields }) => withLogFields({ reqId: 'req-1234abcd' }, () => log.error('GET /x failed', new Error('boom'))))
    expect(line).toMatchObject({ level: 'error', msg: 'GET /x failed', reqId: 'req-1234abcd', err: { type: 'Error', message: 'boom' } })
    expect((line.err as { stack: string }).stack).toMatch(/boom\n\s+at /)
  })

  it('blanks a password or a cookie handed to it, and drops debug lines at LOG_LEVEL=info', async () => {
    const lines = await linesOf(({ log }) => {
      log.warn('careless caller', { password: 'Hunter-2-secret', cookie: 'gw_session=abc', user: 'admin' })
      log.debug('not at info')
    })
    expect(lines).toHaveLength(1)
    expect(lines[0].extra).toEqual({ password: '[hidden]', cookie: '[hidden]', user: 'admin' })
    expect(JSON.stringify(lines)).not.toContain('Hunter-2-secret')
  })
})
