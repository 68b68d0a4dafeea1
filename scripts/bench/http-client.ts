/**
 * The benchmark's HTTP client, run as a child process so that it has its own
 * core and event loop: a client sharing the server's event loop would be
 * measured as server time. node:http with keep-alive, not fetch, because
 * undici's per-request cost in the client would dominate small tiles.
 */
import http from 'node:http'

export type ClientRequest =
  | { type: 'one'; url: string }
  | { type: 'load'; urls: string[]; total: number; concurrency: number }
export type ClientReply =
  | { type: 'one'; ms: number; status: number; bytes: number }
  | { type: 'load'; seconds: number; done: number; failed: number }

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 })
// The session cookie of the benchmark's account (scripts/bench/session.ts).
const cookie = process.env.BENCH_COOKIE ?? ''

/**
 * One GET, timed from its last attempt: a kept-alive socket that the server
 * closed just as it was reused (idle past its keep-alive timeout) is retried
 * once on a new one, as Node's documentation advises for `reusedSocket`.
 */
function get(url: string, retried = false): Promise<{ status: number; bytes: number; ms: number }> {
  const t0 = performance.now()
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers: { 'accept-encoding': 'gzip', cookie } }, (res) => {
      let bytes = 0
      res.on('data', (chunk: Buffer) => (bytes += chunk.length))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, ms: performance.now() - t0 }))
      res.on('error', reject)
    })
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (!retried && req.reusedSocket && err.code === 'ECONNRESET') get(url, true).then(resolve, reject)
      else reject(err)
    })
  })
}

process.on('message', async (msg: ClientRequest) => {
  if (msg.type === 'one') {
    process.send!({ type: 'one', ...(await get(msg.url)) } satisfies ClientReply)
    return
  }
  let next = 0
  let failed = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: msg.concurrency }, async () => {
      while (next < msg.total) {
        const r = await get(msg.urls[next++ % msg.urls.length])
        if (r.status !== 200) failed++
      }
    }),
  )
  process.send!({ type: 'load', seconds: (performance.now() - t0) / 1000, done: msg.total, failed } satisfies ClientReply)
})
