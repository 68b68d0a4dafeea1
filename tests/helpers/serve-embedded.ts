// Entry point of an API process with its own in-memory embedded database, stopped
// the way `npm start` is (runUntilStopped: SIGTERM), for tests/db/graceful-stop.test.ts.
import { startServer } from '../../api/server.ts'
import { runUntilStopped } from '../../scripts/run-until-stopped.ts'

await runUntilStopped(async () => {
  const s = await startServer({
    port: 0, databaseUrl: null, dataDir: null, seedScale: 'test', quiet: true,
    stopGraceMs: Number(process.env.STOP_GRACE_MS ?? 20_000),
    onListening: (url) => console.log(`listening ${url}`),
  })
  console.log(`database ${s.db.url}`)
  console.log('ready')
  return () => s.close()
})
