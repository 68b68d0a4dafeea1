/**
 * Who and where the client is, without believing what a client may forge.
 * The Host header and X-Forwarded-* are plain text any caller can set: a URL
 * built from them and cached (TileJSON is `public`) points every later reader
 * at the caller's server. So our public origin comes from configuration
 * (GRIDWATCH_PUBLIC_URL), or from X-Forwarded-Proto/Host only when the peer
 * that sent them is a proxy we were told to trust (GRIDWATCH_TRUST_PROXY);
 * otherwise we answer with paths relative to wherever the client reached us.
 */
import { getConnInfo } from '@hono/node-server/conninfo'
import type { Context } from 'hono'
import { config } from '../core/config.ts'

export type TrustProxy = { kind: 'none' } | { kind: 'all' } | { kind: 'list'; addresses: Set<string> }

export interface ProxySettings {
  /** The origin people use to reach us (scheme://host[:port]), or null when not configured. */
  publicOrigin: string | null
  trust: TrustProxy
}

/** GRIDWATCH_PUBLIC_URL → its origin; a path, query or credentials in it are refused, so a typo fails at start. */
export function parsePublicUrl(raw: string | undefined): string | null {
  if (!raw?.trim()) return null
  let u: URL
  try {
    u = new URL(raw.trim())
  } catch {
    throw new Error(`GRIDWATCH_PUBLIC_URL 不是有效的地址 / is not a valid URL: "${raw}"`)
  }
  if (!/^https?:$/.test(u.protocol) || u.username || u.password || u.search || u.hash || (u.pathname !== '/' && u.pathname !== '')) {
    throw new Error(`GRIDWATCH_PUBLIC_URL 须为 http(s)://主机[:端口]，不带路径 / must be http(s)://host[:port] with no path: "${raw}"`)
  }
  return u.origin
}

/** GRIDWATCH_TRUST_PROXY: unset/0/false → trust no one; 1/true → any peer; else peer addresses (`loopback` = 127.0.0.0/8 and ::1). */
export function parseTrustProxy(raw: string | undefined): TrustProxy {
  const v = (raw ?? '').trim().toLowerCase()
  if (!v || v === '0' || v === 'false' || v === 'no') return { kind: 'none' }
  if (v === '1' || v === 'true' || v === 'yes') return { kind: 'all' }
  return { kind: 'list', addresses: new Set(v.split(/[\s,]+/).filter(Boolean).map(normaliseAddress)) }
}

/** The proxy settings of the environment; throws (at start) on a malformed GRIDWATCH_PUBLIC_URL. */
export const proxySettingsFromEnv = (): ProxySettings => ({ publicOrigin: parsePublicUrl(config.publicUrl), trust: parseTrustProxy(config.trustProxy) })

export const normaliseAddress = (a: string) => a.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '')
const isLoopback = (a: string) => a === '::1' || /^127\.\d+\.\d+\.\d+$/.test(a)

export function peerAddress(c: Context): string | null {
  try {
    const a = getConnInfo(c).remote.address
    return a ? normaliseAddress(a) : null
  } catch {
    return null
  }
}

export function peerIsTrustedProxy(trust: TrustProxy, peer: string | null): boolean {
  if (trust.kind === 'all') return true
  if (trust.kind === 'none' || !peer) return false
  return trust.addresses.has(peer) || (trust.addresses.has('loopback') && isLoopback(peer))
}

/** The value our own proxy added: the last of a comma-separated header (earlier ones came from the client). */
function lastForwarded(c: Context, name: string): string | undefined {
  const raw = c.req.header(name)
  if (!raw) return undefined
  const parts = raw.split(',').map((s) => s.trim()).filter(Boolean)
  return parts[parts.length - 1]
}

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/

/** The forwarded origin when a trusted proxy sent a well-formed one. */
function forwardedOrigin(c: Context, s: ProxySettings): string | null {
  if (!peerIsTrustedProxy(s.trust, peerAddress(c))) return null
  const host = lastForwarded(c, 'X-Forwarded-Host')
  if (!host || !HOST.test(host)) return null
  const proto = lastForwarded(c, 'X-Forwarded-Proto')?.toLowerCase() ?? 'http'
  if (proto !== 'http' && proto !== 'https') return null
  return `${proto}://${host.toLowerCase()}`
}

/** Our origin as people reach it, or null: then answer with paths relative to the request (never the Host header). */
export function publicOrigin(c: Context, s: ProxySettings): string | null {
  return s.publicOrigin ?? forwardedOrigin(c, s)
}

/**
 * The address the connection actually reached (the socket's own address
 * and port, e.g. http://192.168.1.5:8080): known to the server, not said by
 * the client. For answers that need absolute links when no public origin is
 * configured (OGC API: GDAL does not resolve root-relative links).
 */
export function socketOrigin(c: Context): string | null {
  const socket = (c.env as { incoming?: { socket?: { localAddress?: string; localPort?: number } } } | undefined)?.incoming?.socket
  if (!socket?.localAddress || !socket.localPort) return null
  const a = normaliseAddress(socket.localAddress)
  return `http://${a.includes(':') ? `[${a}]` : a}:${socket.localPort}`
}

/** Whether the client talks to us over HTTPS (the Secure flag of our cookie). */
export function clientUsesHttps(c: Context, s: ProxySettings): boolean {
  if (s.publicOrigin) return s.publicOrigin.startsWith('https:')
  if (new URL(c.req.url).protocol === 'https:') return true
  return peerIsTrustedProxy(s.trust, peerAddress(c)) && lastForwarded(c, 'X-Forwarded-Proto')?.toLowerCase() === 'https'
}

/** The client's address: the peer, or the address our trusted proxy saw (last of X-Forwarded-For). */
export function clientAddressOf(c: Context, s: ProxySettings): string {
  const peer = peerAddress(c)
  if (peerIsTrustedProxy(s.trust, peer)) {
    const f = lastForwarded(c, 'X-Forwarded-For')
    if (f && /^[0-9A-Fa-f:.]{2,45}$/.test(f)) return normaliseAddress(f)
  }
  return peer ?? 'unknown'
}

/**
 * The host a browser's Origin must name for a write to be ours: the public
 * origin's, else the forwarded host of a trusted proxy, else the Host the
 * request was sent to (comparing Origin with Host needs no trust: a browser
 * sends both, and a forged Host only fools the forger).
 */
export function expectedHost(c: Context, s: ProxySettings): string | undefined {
  const origin = publicOrigin(c, s)
  return origin ? new URL(origin).host : c.req.header('Host')
}
