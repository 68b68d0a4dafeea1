import net from 'node:net'
import postgres from 'postgres'

/**
 * A database of its own on the PostGIS at TEST_POSTGIS_URL, for a suite that starts API processes from nothing
 * (migrations at their first start included). Null without TEST_POSTGIS_URL on a developer's machine (the suite is
 * skipped with a warning); in CI that fails the run, as a missing PostGIS does in tests/helpers/databases.ts.
 */
export async function freshPostgis(suite: string): Promise<{ url: string; drop(): Promise<void> } | null> {
  const admin = process.env.TEST_POSTGIS_URL
  if (!admin) {
    if (process.env.CI) throw new Error(`${suite}: CI must run it on a real PostGIS: set TEST_POSTGIS_URL (.ci/run does)`)
    console.warn(`${suite}: no TEST_POSTGIS_URL: skipped`)
    return null
  }
  const name = `gridwatch_${suite.replace(/[^a-z0-9]+/gi, '_').toLowerCase()}_${process.pid}`
  const root = postgres(admin, { onnotice: () => {}, max: 1 })
  try {
    await root.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await root.unsafe(`CREATE DATABASE ${name}`)
  } finally {
    await root.end()
  }
  const u = new URL(admin)
  u.pathname = `/${name}`
  const url = u.toString()
  // The extension too, as deploy/README.md has the administrator do: the server's role need not be a superuser.
  const db = postgres(url, { onnotice: () => {}, max: 1 })
  await db`CREATE EXTENSION IF NOT EXISTS postgis`.finally(() => db.end())
  return {
    url,
    async drop() {
      const r = postgres(admin, { onnotice: () => {}, max: 1 })
      await r.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {})
      await r.end()
    },
  }
}

/** A TCP port free on this machine now (for a process that must be told its port, not pick one). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo
      s.close(() => resolve(port))
    })
  })
}
