// Entry point of the second API process (tests/helpers/serve-process.ts).
import { startServer } from '../../api/server.ts'

const s = await startServer({ port: 0, seedScale: false, quiet: true })
console.log(`listening ${s.url}`)
process.once('SIGTERM', () => void s.close().then(() => process.exit(0)))
