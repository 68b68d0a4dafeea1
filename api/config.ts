import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { basemapFromEnv } from './basemap.ts'
import { parsePublicUrl, parseTrustProxy, type ProxySettings } from './proxy.ts'

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** Everything the process reads from its environment, in one place. */
export const config = {
  port: Number(process.env.PORT ?? 8080),
  databaseUrl: process.env.DATABASE_URL || undefined,
  dataDir: process.env.GRIDWATCH_DATA_DIR ?? path.join(projectRoot, '.gridwatch-data'),
  logLevel: (process.env.LOG_LEVEL ?? 'info') as 'debug' | 'info' | 'warn' | 'error',
  basemap: basemapFromEnv(process.env),
  /** Origins (besides our own) that may frame the command wall, /screen. */
  frameAncestors: (process.env.GRIDWATCH_FRAME_ANCESTORS ?? '').split(/[\s,]+/).filter(Boolean),
  sharedDataDir: process.env.GRIDWATCH_SHARED_DATA ?? path.resolve(projectRoot, '..', 'shared', 'data'),
  /** Raw GRIDWATCH_PUBLIC_URL; parsed (and refused when malformed) by startServer. */
  publicUrl: process.env.GRIDWATCH_PUBLIC_URL,
  trustProxy: parseTrustProxy(process.env.GRIDWATCH_TRUST_PROXY),
  /** How long a stop waits for running requests (an export mid-file) before cutting them. */
  stopGraceMs: Number(process.env.GRIDWATCH_STOP_GRACE_MS ?? 20_000),
}

/** The proxy settings of the environment; throws (at start) on a malformed GRIDWATCH_PUBLIC_URL. */
export const proxySettingsFromEnv = (): ProxySettings => ({ publicOrigin: parsePublicUrl(config.publicUrl), trust: config.trustProxy })
