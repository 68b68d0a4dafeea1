// Entry point of an API process as production runs it, logging (not quiet), with its embedded database
// in GRIDWATCH_DATA_DIR, for tests/db/logs.test.ts. One route is added that fails unexpectedly, as a bug
// would, so the test can read the error line of a 500.
import { startServer } from '../../api/server.ts'
import { log } from '../../core/log.ts'
import { runUntilStopped } from '../../scripts/run-until-stopped.ts'

await runUntilStopped(async () => {
  const s = await startServer({
    port: 0, databaseUrl: null, dataDir: process.env.GRIDWATCH_DATA_DIR, seedScale: 'test',
    onListening: (url) => log.info(`listening ${url}`),
  })
  // Before the first request reaches Hono, so its router is not built yet.
  s.app.get('/test-only/fail', () => {
    throw new Error('a bug, for the log test')
  })
  log.info('ready')
  return () => s.close()
})
