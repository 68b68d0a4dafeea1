import http from 'node:http'

/**
 * fetch from a chosen loopback address (127.x.y.z): the server sees a different client address, so a
 * test can be a stranger, an owner or a whole distributed guess without sharing 127.0.0.1's counts.
 */
export function fetchFrom(localAddress: string): (url: string, init?: RequestInit) => Promise<Response> {
  return (url, init = {}) =>
    new Promise((resolve, reject) => {
      const headers = Object.fromEntries(new Headers(init.headers).entries())
      const body = init.body == null ? undefined : Buffer.from(String(init.body))
      // Node sends a DELETE's body neither chunked nor with a length unless told.
      if (body) headers['content-length'] = String(body.length)
      const req = http.request(url, { method: init.method ?? 'GET', headers, localAddress }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (d: Buffer) => chunks.push(d))
        res.on('end', () => {
          const out = new Headers()
          for (const [k, v] of Object.entries(res.headers)) for (const one of [v ?? []].flat()) out.append(k, one)
          resolve(new Response(res.statusCode === 204 ? null : Buffer.concat(chunks), { status: res.statusCode!, headers: out }))
        })
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end(body)
    })
}

const byte = () => 1 + Math.floor(Math.random() * 254)
/** A random loopback address other than 127.0.0.1: one no other test uses, in practice. */
export const freshAddress = () => `127.${byte()}.${byte()}.${byte()}`
