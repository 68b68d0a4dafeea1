/**
 * What the port answers while the server is still coming up (PostGIS being
 * unpacked, demo data generated): the process is alive (/api/health), not
 * ready (/api/ready: 503 with the stage), and a person opening the page sees
 * what it is doing instead of a refused connection.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { errorBody } from '../../core/errors.ts'

export interface StartState {
  /** What is happening now, in both languages. */
  zh: string
  en: string
  startedAt: number
}

const escape = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)

export function startingListener(state: StartState, securityHeaders: Record<string, string>) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]
    const seconds = Math.round((Date.now() - state.startedAt) / 1000)
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { ...securityHeaders, 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...(status === 503 ? { 'Retry-After': '5' } : {}) })
      res.end(JSON.stringify(body))
    }
    if (path === '/api/health') return json(200, { ok: true, stage: 'starting', seconds })
    if (path === '/api/ready') return json(503, { ready: false, stage: 'starting', zh: state.zh, en: state.en, seconds })
    if (path.startsWith('/api/') || path.startsWith('/tiles/') || path.startsWith('/ogc')) {
      return json(503, errorBody('starting', `服务正在启动：${state.zh}`, `the server is starting: ${state.en}`))
    }
    res.writeHead(503, { ...securityHeaders, 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', 'Retry-After': '5' })
    res.end(`<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta http-equiv="refresh" content="3">
<title>gridwatch 正在启动</title><style>body{background:#0b1220;color:#e2e8f0;font:16px system-ui,sans-serif;display:grid;place-items:center;height:100vh;margin:0}
p{margin:.4em 0}.en{color:#94a3b8}</style></head><body><main><p>gridwatch 正在启动……（${seconds} 秒）</p><p>${escape(state.zh)}</p>
<p class="en">gridwatch is starting… (${seconds} s): ${escape(state.en)}</p></main></body></html>`)
  }
}
