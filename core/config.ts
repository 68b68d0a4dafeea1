import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { basemapFromEnv } from './basemap.ts'

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** Everything the process reads from its environment, in one place. */
export const config = {
  port: Number(process.env.PORT ?? 8080),
  databaseUrl: process.env.DATABASE_URL || undefined,
  /** A streaming replica of DATABASE_URL for heavy reads (tiles, OGC API, exports, analyses, roll-ups): db/replica.ts. */
  databaseReadUrl: process.env.DATABASE_READ_URL || undefined,
  dataDir: process.env.GRIDWATCH_DATA_DIR ?? path.join(projectRoot, '.gridwatch-data'),
  logLevel: (process.env.LOG_LEVEL ?? 'info') as 'debug' | 'info' | 'warn' | 'error',
  /** Raw GRIDWATCH_LOG_FORMAT (json | text); unset: text on a terminal, JSON lines elsewhere (core/log.ts). */
  logFormat: process.env.GRIDWATCH_LOG_FORMAT,
  basemap: basemapFromEnv(process.env),
  /** Origins (besides our own) that may frame the command wall, /screen. */
  frameAncestors: (process.env.GRIDWATCH_FRAME_ANCESTORS ?? '').split(/[\s,]+/).filter(Boolean),
  sharedDataDir: process.env.GRIDWATCH_SHARED_DATA ?? path.resolve(projectRoot, '..', 'shared', 'data'),
  /** Raw GRIDWATCH_CORS_ORIGINS: origins whose pages may read tiles, the OGC API and exports (api/edge/cors.ts). */
  corsOrigins: process.env.GRIDWATCH_CORS_ORIGINS,
  /** Raw GRIDWATCH_PUBLIC_URL; parsed (and refused when malformed) by startServer. */
  publicUrl: process.env.GRIDWATCH_PUBLIC_URL,
  /** Raw GRIDWATCH_TRUST_PROXY; parsed by api/proxy.ts. */
  trustProxy: process.env.GRIDWATCH_TRUST_PROXY,
  /** How long a stop waits for running requests (an export mid-file) before cutting them. */
  stopGraceMs: Number(process.env.GRIDWATCH_STOP_GRACE_MS ?? 20_000),
  /** Raw GRIDWATCH_SEED (production entry, scripts/serve-prod.ts): what fills an empty database; parsed there. */
  seed: process.env.GRIDWATCH_SEED,
}
