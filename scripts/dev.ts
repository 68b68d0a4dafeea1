/**
 * npm run dev: the API (embedded database unless DATABASE_URL) on PORT, and
 * Vite's dev server with hot reload in front of it, proxying /api and /tiles.
 */
import path from 'node:path'
import { config, projectRoot } from '../core/config.ts'
import { log } from '../core/log.ts'
import { startServer } from '../api/server.ts'
import { runUntilStopped } from './run-until-stopped.ts'

await runUntilStopped(async () => {
  const api = await startServer({ port: config.port })
  const { createServer } = await import('vite')
  const vite = await createServer({ configFile: path.join(projectRoot, 'vite.config.ts'), server: { port: Number(process.env.VITE_PORT ?? 5173), strictPort: false } })
  await vite.listen()
  log.info(`API: ${api.url} (database: ${api.db.kind}); 开发页面 / dev page: ${vite.resolvedUrls?.local[0] ?? 'http://localhost:5173'}`)
  return async () => {
    await vite.close()
    await api.close()
  }
})
