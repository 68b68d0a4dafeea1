// Entry point of an API process on an existing database (DATABASE_URL), logging as production does (not
// quiet, JSON lines on a pipe), for tests/db/tokens.test.ts: a second process that must hear a revoke at
// once, and whose every line is read for the token's secret.
import { startServer } from '../../api/server.ts'
import { log } from '../../core/log.ts'
import { runUntilStopped } from '../../scripts/run-until-stopped.ts'

await runUntilStopped(async () => {
  const s = await startServer({ port: 0, seedScale: false, onListening: (url) => log.info(`listening ${url}`) })
  log.info('ready')
  return () => s.close()
})
