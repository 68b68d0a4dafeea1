import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { spawnSync } from 'node:child_process'
import postgres from 'postgres'
import { afterAll, describe, expect, it } from 'vitest'
import { lockDataDir, startEmbedded, type EmbeddedServer } from '../../db/embedded.ts'

/**
 * One data folder, one embedded database: a second start on a folder in use
 * is refused before it touches the files (two PGlite instances on one folder
 * left it unreadable), and a lock left by a process that is gone is taken over.
 * The lock says "another gridwatch process" for a second start in the same process too: that corrupts the folder alike.
 */
describe('the embedded database folder', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridwatch-lock-'))
  let first: EmbeddedServer | undefined
  afterAll(async () => {
    await first?.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('is refused to a second start while the first runs, which keeps working', async () => {
    first = await startEmbedded(dir, { quiet: true })
    await expect(startEmbedded(dir, { quiet: true })).rejects.toThrow(/in use by another gridwatch process \(pid \d+\)/)
    const sql = postgres(`postgres://postgres@127.0.0.1:${first.port}/postgres`, { max: 1, onnotice: () => {} })
    expect((await sql`SELECT 1 AS one`)[0].one).toBe(1)
    await sql.end()
  }, 120_000)

  it('takes over a lock whose process is gone, and gives it back', () => {
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'gridwatch-lock-'))
    fs.writeFileSync(path.join(other, 'gridwatch.lock'), gone)
    const release = lockDataDir(other)
    expect(fs.readFileSync(path.join(other, 'gridwatch.lock'), 'utf8')).toBe(String(process.pid))
    expect(() => lockDataDir(other)).toThrow(/in use by another gridwatch process/) // a second instance in this same process too
    release()
    expect(fs.existsSync(path.join(other, 'gridwatch.lock'))).toBe(false)
    fs.rmSync(other, { recursive: true, force: true })
  })
})
