/**
 * deploy/nginx/gridwatch.conf as shipped, with what only a real machine has replaced, for a test or a benchmark that
 * runs the very file in front of its own API processes (tests/deploy/nginx.test.ts, scripts/bench-peak.ts): the
 * upstream's ports, the listening ports (TLS on a high port with a self-signed certificate, plus a plain HTTP listener
 * on the same server block for the client's requests), the certificate paths, the web bundle's folder, the tile cache
 * and the access log. `upstreamHeader` adds `X-Test-Upstream: $upstream_addr` (which process answered) to the live
 * feed's answers, and with `'all'` to every proxied answer of the API too.
 */
import fs from 'node:fs'
import path from 'node:path'
import { projectRoot } from '../../core/config.ts'

export const SITE = path.join(projectRoot, 'deploy', 'nginx', 'gridwatch.conf')

export interface SitePorts {
  apiPorts: number[]
  tls: number
  plain: number
  redirect: number
  cert: string
  key: string
  webDist: string
  tileCache: string
  accessLog: string
  upstreamHeader?: 'events' | 'all'
}

/** `pattern` replaced in `text`, which must contain it: a site file changed under its users fails here, not later. */
function must(text: string, pattern: RegExp, replacement: string): string {
  if (!pattern.test(text)) throw new Error(`deploy/nginx/gridwatch.conf no longer has ${pattern}: update scripts/lib/nginx-site.ts`)
  return text.replace(pattern, replacement)
}

export function siteFor(o: SitePorts): string {
  let s = fs.readFileSync(SITE, 'utf8')
  const server = /^(\s*)server 127\.0\.0\.1:\d+( [^;]*)?;\n/m.exec(s)
  if (!server) throw new Error('deploy/nginx/gridwatch.conf: no "server 127.0.0.1:PORT" line in the upstream')
  s = s.replace(/^\s*server 127\.0\.0\.1:\d+( [^;]*)?;\n/gm, '')
  s = must(s, /^(\s*)keepalive 32;/m, `${o.apiPorts.map((p) => `${server[1]}server 127.0.0.1:${p}${server[2] ?? ''};`).join('\n')}\n$1keepalive 32;`)
  s = s.replace(/^\s*listen \[::\]:\d+[^;]*;\n/gm, '')
  s = must(s, /listen 80;/, `listen 127.0.0.1:${o.redirect};`)
  s = must(s, /listen 443 ssl http2;/, `listen 127.0.0.1:${o.tls} ssl http2;\n    listen 127.0.0.1:${o.plain};`)
  s = must(s, /ssl_certificate\s+\S+;/, `ssl_certificate ${o.cert};`)
  s = must(s, /ssl_certificate_key\s+\S+;/, `ssl_certificate_key ${o.key};`)
  s = must(s, /root \/opt\/gridwatch\/web\/dist;/, `root ${o.webDist};`)
  s = must(s, /proxy_cache_path \/var\/cache\/nginx\/gridwatch-tiles /, `proxy_cache_path ${o.tileCache} `)
  s = must(s, /access_log \/var\/log\/nginx\/gridwatch\.access\.log gridwatch;/, `access_log ${o.accessLog} gridwatch;`)
  const mark = '        add_header X-Test-Upstream $upstream_addr always;\n'
  if (o.upstreamHeader) s = must(s, /(location = \/api\/events \{\n)/, `$1${mark}`)
  if (o.upstreamHeader === 'all') s = must(s, /(location \/ \{\n)/, `$1${mark}`)
  return s
}
