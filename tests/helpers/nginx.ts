import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** Debian's nginx (NGINX_PATH overrides). Null when absent on a developer's machine; in CI that fails the run. */
export function nginxPath(suite: string): string | null {
  const p = process.env.NGINX_PATH ?? '/usr/sbin/nginx'
  if (fs.existsSync(p)) return p
  if (process.env.CI) throw new Error(`${suite}: CI must run it with nginx: none at ${p} (.ci/run installs Debian's nginx)`)
  console.warn(`${suite}: no nginx at ${p}: skipped (apt-get install nginx, or set NGINX_PATH)`)
  return null
}

/** A self-signed certificate for 127.0.0.1 (openssl), for a TLS listener in a test. */
export function selfSignedCertificate(dir: string): { cert: string; key: string } {
  const cert = path.join(dir, 'cert.pem')
  const key = path.join(dir, 'key.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' })
  return { cert, key }
}

/**
 * nginx in the foreground (no daemon) with `site` (server and upstream blocks, as in sites-enabled) inside a
 * minimal main configuration whose every file — pid, logs, temporary bodies — is in `dir`. `nginx -t` first, so a
 * configuration error reads as nginx says it.
 */
export async function startNginx(
  exe: string, dir: string, site: string, waitForPort: number,
  /** A benchmark's many clients: nginx's worker processes and connections each (a live-feed stream takes two). */
  opts: { workers?: number; connections?: number } = {},
): Promise<{ stop(): Promise<void>; errors(): string; pid(): number | undefined }> {
  const conf = path.join(dir, 'nginx.conf')
  const temp = (name: string) => `${name}_temp_path ${path.join(dir, `${name}-temp`)};`
  fs.writeFileSync(conf, `
# Workers as this user: nginx's default (nobody) could not read this test's private folder.
${os.userInfo().uid === 0 ? 'user root;' : ''}
daemon off;
worker_processes ${opts.workers ?? 1};
pid ${path.join(dir, 'nginx.pid')};
error_log ${path.join(dir, 'error.log')} warn;
events { worker_connections ${opts.connections ?? 512}; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log ${path.join(dir, 'access.log')};
  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join('\n  ')}
${site}
}
`)
  const errorLog = path.join(dir, 'error.log')
  const errors = () => (fs.existsSync(errorLog) ? fs.readFileSync(errorLog, 'utf8') : '')
  execFileSync(exe, ['-t', '-q', '-p', dir, '-e', errorLog, '-c', conf], { stdio: 'pipe' })
  const child: ChildProcess = spawn(exe, ['-p', dir, '-e', errorLog, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr += d))
  const deadline = Date.now() + 15_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${stderr}${errors()}`)
    if (await fetch(`http://127.0.0.1:${waitForPort}/`).then(() => true, () => false)) break
    if (Date.now() > deadline) throw new Error(`nginx did not listen on ${waitForPort}: ${stderr}${errors()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    errors,
    pid: () => child.pid,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        // TERM: nginx's fast shutdown (open live-feed streams are cut).
        child.kill('SIGTERM')
      }),
  }
}
