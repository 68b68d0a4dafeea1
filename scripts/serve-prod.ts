/**
 * The production entry: one API process, compiled by `npm run build` to dist/server/main.mjs and run by plain
 * `node` (systemd's gridwatch@.service, `npm run start:prod`). Unlike `npm start` it never builds the web app —
 * it serves web/dist as `npm run build` left it — and needs no development package (tsx, Vite).
 * Everything it reads comes from the environment (core/config.ts): DATABASE_URL, PORT, GRIDWATCH_*.
 */
import fs from 'node:fs'
import path from 'node:path'
import { config, projectRoot } from '../core/config.ts'
import { log } from '../core/log.ts'
import { startServer } from '../api/server.ts'
import { scales } from '../data/seed/scales.ts'
import { runUntilStopped } from './run-until-stopped.ts'

/** GRIDWATCH_SEED: what an empty database is filled with at the first start (as `npm start`: demo), or `none`. */
function seedScale(raw: string | undefined): keyof typeof scales | false {
  if (raw === undefined || raw === '') return 'demo'
  if (raw === 'none') return false
  if (raw in scales) return raw
  throw new Error(`GRIDWATCH_SEED 须为 ${Object.keys(scales).join('、')} 或 none，收到 "${raw}" / GRIDWATCH_SEED must be ${Object.keys(scales).join(', ')} or none, got "${raw}"`)
}

await runUntilStopped(async () => {
  if (!config.databaseUrl) throw new Error('生产环境须设置 DATABASE_URL / production needs DATABASE_URL (a PostGIS); the embedded database is for `npm start`')
  const webDist = path.join(projectRoot, 'web', 'dist')
  if (!fs.existsSync(path.join(webDist, 'index.html'))) log.warn(`没有前端构建 ${webDist}，只提供 API 与瓦片（先运行 npm run build）/ no web build at ${webDist}: serving the API and tiles only (run npm run build first)`)
  const server = await startServer({ webDist, seedScale: seedScale(config.seed) })
  log.info(`gridwatch 已启动 / listening on port ${server.port} (database: ${server.db.kind}, tiles: ${server.tiles.encoder}, pid ${process.pid})`)
  return () => server.close()
})
