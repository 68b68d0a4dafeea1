import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'

/**
 * A second API process on the same database, as a load balancer would run
 * it: a real OS process (its own pool, listener and tile cache), not a second
 * server object in the test's process.
 */
export async function startApiProcess(databaseUrl: string, root = path.resolve(import.meta.dirname, '../..')): Promise<{ url: string; stop(): Promise<void> }> {
  // `root`: another checkout of gridwatch (a benchmark's "before"), run with its own code.
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'tests/helpers/serve-main.ts')], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`second API process did not start: ${out}`)), 60_000)
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /listening (http:\/\/\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1])
      }
    })
    child.once('exit', (code) => reject(new Error(`second API process exited (${code}): ${out}`)))
  })
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}
