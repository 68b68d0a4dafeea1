import { execFile, execFileSync } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Whether GDAL's ogrinfo is on this machine (gdal-bin). */
export function haveOgrinfo(): boolean {
  try {
    execFileSync('ogrinfo', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/**
 * The suites that read our output back with GDAL: skipped on a developer's
 * machine without gdal-bin (with a warning), but in CI a missing ogrinfo fails
 * the run — a suite that silently skips proves nothing (.ci/run installs it).
 */
export function gdalAvailable(suite: string): boolean {
  if (haveOgrinfo()) return true
  if (process.env.CI) throw new Error(`${suite}: ogrinfo (gdal-bin) is missing; CI must have it (.ci/run installs it)`)
  console.warn(`${suite}: ogrinfo (gdal-bin) is missing: skipped`)
  return false
}

/** ogrinfo's output (stdout and stderr together: GDAL reports HTTP errors on stderr). */
export async function ogrinfo(args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await run('ogrinfo', args, { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 })
  return r.stdout + r.stderr
}

/** "Feature Count: N" of one layer (ogrinfo -so). */
export function featureCount(out: string): number {
  const m = /Feature Count: (\d+)/.exec(out)
  if (!m) throw new Error(`no feature count in ogrinfo output:\n${out.slice(0, 2000)}`)
  return Number(m[1])
}

/** The attributes of each feature ogrinfo printed (`  name (Type) = value`). */
export function features(out: string): Record<string, string>[] {
  const list: Record<string, string>[] = []
  for (const line of out.split('\n')) {
    if (/^OGRFeature\(/.test(line)) list.push({})
    const m = /^ {2}(\S+) \([^)]*\) = (.*)$/.exec(line)
    if (m && list.length) list[list.length - 1][m[1]] = m[2]
  }
  return list
}
