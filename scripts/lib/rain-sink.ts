/**
 * Where the rain scripts (rain:replay, rain:import) send rain: straight into
 * DATABASE_URL through the ingest functions, or, without it, as an HTTP
 * client of the running server. The embedded database belongs to the process
 * that serves it (pglite-socket runs one backend; a second process's
 * transaction would interleave with the server's), so there the server does
 * the writing, through the same routes as any client. Either way a body goes
 * through rowsFromBody and the same ingest code, so errors read the same.
 */
import { config } from '../../core/config.ts'
import { connect } from '../../db/connect.ts'
import { HttpError, type ErrorStatus } from '../../core/errors.ts'
import { ingestForecasts, ingestReadings, ingestStations, ingestWarnings, scriptActor } from '../../api/rain/ingest.ts'
import { rowsFromBody, type RainKind } from '../../api/rain/rows.ts'

/** parseArgs options every rain script takes for the HTTP way. */
export const sinkOptions = {
  url: { type: 'string' },
  user: { type: 'string', default: process.env.GRIDWATCH_USER ?? 'commander' },
  password: { type: 'string', default: process.env.GRIDWATCH_PASSWORD },
} as const

export interface RainBody { type: 'json' | 'csv'; text: string }

export interface RainSink {
  /** "DATABASE_URL" or the server's address, for the console. */
  target: string
  /** Ingests one body; a refusal is an HttpError with the server's zh/en message. */
  send(kind: RainKind, body: RainBody): Promise<Record<string, unknown>>
  close(): Promise<void>
}

const ingest = { stations: ingestStations, readings: ingestReadings, forecasts: ingestForecasts, warnings: ingestWarnings }

/** Direct with DATABASE_URL (unless --url says otherwise), else over HTTP to --url or this machine's server. */
export function openRainSink(opts: { url?: string; user: string; password?: string }, script: string): Promise<RainSink> {
  return config.databaseUrl && !opts.url
    ? directSink(script)
    : httpSink(opts.url ?? `http://localhost:${config.port}`, opts.user, opts.password)
}

async function directSink(script: string): Promise<RainSink> {
  const db = await connect({ quiet: true })
  const actor = scriptActor(`cli:${script}`)
  return {
    target: 'DATABASE_URL',
    send: async (kind, body) => (await ingest[kind](db.sql, actor, rowsFromBody(body.text, body.type, kind))) as unknown as Record<string, unknown>,
    close: () => db.close(),
  }
}

async function httpSink(base: string, user: string, password?: string): Promise<RainSink> {
  password ??= (await import('../../api/auth/demo-accounts.ts')).DEMO_PASSWORD
  const login = await fetch(`${base}/api/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: user, password }),
  }).catch((e: Error) => {
    throw new Error(`连不上 ${base}，请先 npm start（或设置 DATABASE_URL）/ cannot reach ${base}; start the server first (npm start) or set DATABASE_URL: ${e.message}`)
  })
  if (login.status !== 200) throw await refusal(login, `登录 ${user} 失败`, `login as ${user} failed`)
  const cookie = (login.headers.get('Set-Cookie') ?? '').split(';')[0]
  const { csrfToken } = (await login.json()) as { csrfToken: string }
  return {
    target: base,
    async send(kind, body) {
      const r = await fetch(`${base}/api/rain/${kind}`, {
        method: 'POST',
        headers: { 'Content-Type': body.type === 'csv' ? 'text/csv' : 'application/json', Cookie: cookie, 'X-CSRF-Token': csrfToken },
        body: body.text,
      })
      if (r.status !== 200) throw await refusal(r, `/api/rain/${kind}`, `/api/rain/${kind}`)
      return (await r.json()) as Record<string, unknown>
    },
    close: async () => {},
  }
}

/** The server's error as an HttpError (its zh/en message when it sent one). */
async function refusal(r: Response, zhWhat: string, enWhat: string): Promise<HttpError> {
  const text = await r.text()
  try {
    const { error } = JSON.parse(text) as { error: { code: string; zh: string; en: string } }
    return new HttpError(r.status as ErrorStatus, error.code, `${zhWhat}（${r.status}）：${error.zh}`, `${enWhat} (${r.status}): ${error.en}`)
  } catch {
    return new HttpError(r.status as ErrorStatus, 'http_error', `${zhWhat}（${r.status}）：${text.slice(0, 200)}`, `${enWhat} (${r.status}): ${text.slice(0, 200)}`)
  }
}
