import { execFile, spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { projectRoot } from '../../core/config.ts'
import { lonToTileX, latToTileY } from '../../tiles/tile-math.ts'
import { freePort, freshPostgis } from '../helpers/fresh-postgis.ts'

const run = promisify(execFile)
const pkg = JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>
  dependencies: Record<string, string>
}

/**
 * `npm run build` and the production start, as a server gets them: the server built into a temporary folder whose
 * node_modules holds only the packages under "dependencies" (what `npm ci --omit=dev` installs: an import of a
 * development package fails to resolve), run by plain `node` — no tsx, no Vite — on a fresh PostGIS database.
 */
const db = await freshPostgis('prod build')

describe.skipIf(!db)('the production build', () => {
  let dir: string
  let out: string
  let child: ChildProcess | undefined
  let logs = ''
  let base = ''

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridwatch-prod-'))
    out = path.join(dir, 'dist', 'server')
    const { build } = await import('vite')
    await build({ configFile: path.join(projectRoot, 'vite.server.config.ts'), logLevel: 'warn', build: { outDir: out } })
    // The production packages only. A symlink resolves to its real place, so their own dependencies are found there.
    for (const name of Object.keys(pkg.dependencies)) {
      const link = path.join(dir, 'node_modules', name)
      fs.mkdirSync(path.dirname(link), { recursive: true })
      fs.symlinkSync(path.join(projectRoot, 'node_modules', name), link, 'dir')
    }
  })

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r))
      child.kill('SIGKILL')
      await exited
    }
    await db?.drop()
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
  })

  /** The environment of a systemd unit: what it sets, nothing of this test's process (no NODE_OPTIONS loading tsx). */
  const env = (extra: Record<string, string>) => ({
    PATH: process.env.PATH!, DATABASE_URL: db!.url, LOG_LEVEL: 'warn', GRIDWATCH_SEED: 'test',
    ...(process.env.GRIDWATCH_SHARED_DATA ? { GRIDWATCH_SHARED_DATA: process.env.GRIDWATCH_SHARED_DATA } : {}),
    ...extra,
  })

  it('is what npm run build and npm run start:prod run', () => {
    expect(pkg.scripts.build).toContain('vite build --config vite.server.config.ts')
    expect(pkg.scripts['start:prod']).toMatch(/^node( --[a-z-]+)* dist\/server\/main\.mjs$/)
    expect(fs.existsSync(path.join(out, 'main.mjs'))).toBe(true)
    expect(fs.existsSync(path.join(out, 'user.mjs'))).toBe(true)
  })

  it('starts on an empty database (migrations, first data), makes the first admin, logs in and serves a tile', async () => {
    const port = await freePort()
    child = spawn(process.execPath, ['--enable-source-maps', path.join(out, 'main.mjs')], {
      cwd: dir, env: env({ PORT: String(port) }), stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout!.on('data', (d: Buffer) => (logs += d))
    child.stderr!.on('data', (d: Buffer) => (logs += d))
    base = `http://127.0.0.1:${port}`
    // Ready once migrations ran and the test data is in (its county and a tenth of its households).
    const deadline = Date.now() + 100_000
    for (;;) {
      // A module missing from "dependencies" ends the process at once: say so, with its words.
      if (child.exitCode !== null) throw new Error(`the built server exited (${child.exitCode}): ${logs}`)
      if ((await fetch(`${base}/api/ready`).catch(() => null))?.status === 200) break
      if (Date.now() > deadline) throw new Error(`the built server was not ready in 100 s: ${logs}`)
      await new Promise((r) => setTimeout(r, 300))
    }

    const health = await (await fetch(`${base}/api/health`)).json()
    expect(health).toMatchObject({ ok: true, database: 'postgis' })

    // The first admin, with the built account command (deploy/README.md).
    const password = 'Deploy-test-2026'
    const add = await run(process.execPath, [path.join(out, 'user.mjs'), 'add', '--username', 'firstadmin', '--name', '管理员', '--role', 'admin', '--unit', '530600000000', '--password', password], {
      cwd: dir, env: env({}), timeout: 60_000,
    })
    expect(add.stdout).toContain('firstadmin')

    const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'firstadmin', password }) })
    expect(login.status, await login.clone().text()).toBe(200)
    const cookies = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')

    // A county's own tile, at zoom 10 on the middle of the data.
    const tj = await (await fetch(`${base}/tiles/admin.json`, { headers: { Cookie: cookies } })).json() as { bounds: number[] }
    const [w, s, e, n] = tj.bounds
    const z = 10
    const tile = await fetch(`${base}/tiles/admin/${z}/${Math.floor(lonToTileX((w + e) / 2, z))}/${Math.floor(latToTileY((s + n) / 2, z))}.mvt`, { headers: { Cookie: cookies } })
    expect(tile.status).toBe(200)
    expect((await tile.arrayBuffer()).byteLength).toBeGreaterThan(100)
    // Without a session, no tile.
    expect((await fetch(`${base}/tiles/admin/${z}/0/0.mvt`)).status).toBe(401)
  })

  it('stops cleanly on SIGTERM, as systemd stops it', async () => {
    expect(child?.exitCode, logs).toBe(null)
    const code = await new Promise<number | null>((resolve) => {
      child!.once('exit', (c) => resolve(c))
      child!.kill('SIGTERM')
    })
    expect(code, logs).toBe(0)
  })
})
