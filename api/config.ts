import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { basemapFromEnv } from './basemap.ts'

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
}
