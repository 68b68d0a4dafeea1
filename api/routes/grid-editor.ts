import { Hono, type Context } from 'hono'
import { authorize } from '../auth/guard.ts'
import type { Sql } from '../../db/connect.ts'
import { transaction } from '../../db/transaction.ts'
import { writeTx } from '../../db/write.ts'
import { HttpError, errorBody } from '../../core/errors.ts'
import { readJson } from '../validate.ts'
import { coverVersions, findVillage, householdsByGrid, loadCover, type Cover } from '../grid-editor/cover.ts'
import { gridImportBody, ImportInvalid, importGrids } from '../grid-editor/boundary-import.ts'
import { previewBody, restoreBody, saveBody } from '../grid-editor/input.ts'
import { describe, preview, type Preview } from '../grid-editor/preview.ts'
import { expectVersion, storedCover, writeCover } from '../grid-editor/save.ts'

/** A 4xx that carries more than a message (the 409's two versions, the 422's problems). */
function withDetails(c: Context, e: unknown) {
  if (e instanceof ImportInvalid) return c.json({ ...errorBody(e.code, e.zh, e.en), errors: e.errors }, e.status)
  if (e instanceof HttpError && 'details' in e) return c.json({ ...errorBody(e.code, e.zh, e.en), ...(e.details as object) }, e.status)
  throw e
}

const coverBody = (cover: Cover, counts?: Map<string, number>) => ({
  village: cover.village,
  version: cover.version,
  grids: cover.grids.map((g) => ({ ...g, households: counts?.get(g.key) ?? 0 })),
})

/** The preview as sent to the client: every household's assignment is for the save, not for the wire. */
const previewJson = (p: Preview) => {
  const { assignments, ...rest } = p
  return { ...rest, households: assignments.length }
}

/**
 * The grid editor (issue #7): a village's cover of grids and micro-grids,
 * previews of a change, saves with optimistic concurrency per village,
 * versions and restore. Editing needs `grid.edit` inside the user's area.
 */
export function gridEditorRoutes(sql: Sql) {
  const app = new Hono()

  app.get('/api/villages/:code/cover', async (c) => {
    const village = await findVillage(sql, c.req.param('code'))
    const cover = await loadCover(sql, village)
    return c.json(coverBody(cover, await householdsByGrid(sql, village)))
  })

  app.post('/api/villages/:code/cover/preview', async (c) => {
    const body = await readJson(c, previewBody)
    const code = c.req.param('code')
    authorize(c, 'grid.edit', code)
    const village = await findVillage(sql, code)
    // Read-only, but in one transaction so that the cover read and the
    // computation see one state (gw_settle_cover's scratch tables die with it).
    const p = await transaction(sql, async (tx) => {
      const cover = await loadCover(tx, village)
      return { version: cover.version, ...previewJson(await preview(tx, cover, body.change)) }
    })
    return c.json(p)
  })

  app.post('/api/villages/:code/cover', async (c) => {
    const body = await readJson(c, saveBody)
    const code = c.req.param('code')
    authorize(c, 'grid.edit', code)
    try {
      const r = await writeTx(sql, c.get('user')!, async (tx) => {
        const village = await findVillage(tx, code, true)
        await expectVersion(tx, village, body.version)
        const cover = await loadCover(tx, village)
        const p = await preview(tx, cover, body.change)
        const saved = await writeCover(tx, cover, p, body.change)
        return { ...saved, ...previewJson(p) }
      })
      return c.json(r)
    } catch (e) {
      return withDetails(c, e)
    }
  })

  app.get('/api/villages/:code/cover/versions', async (c) => {
    const village = await findVillage(sql, c.req.param('code'))
    return c.json({ village: { code: village.code, name: village.name }, versions: await coverVersions(sql, village) })
  })

  app.get('/api/villages/:code/cover/versions/:n', async (c) => {
    const village = await findVillage(sql, c.req.param('code'))
    const n = versionNumber(c.req.param('n'))
    const grids = await transaction(sql, (tx) => storedCover(tx, village, n))
    if (!grids) throw noVersion(n)
    return c.json({ version: n, grids })
  })

  app.post('/api/villages/:code/cover/versions/:n/restore', async (c) => {
    const body = await readJson(c, restoreBody)
    const code = c.req.param('code')
    const n = versionNumber(c.req.param('n'))
    authorize(c, 'grid.edit', code)
    try {
      const r = await writeTx(sql, c.get('user')!, async (tx) => {
        const village = await findVillage(tx, code, true)
        await expectVersion(tx, village, body.version)
        const grids = await storedCover(tx, village, n)
        if (!grids) throw noVersion(n)
        const cover = await loadCover(tx, village)
        const p = await describe(tx, cover, grids)
        const saved = await writeCover(tx, cover, p, { op: 'restore', version: n }, { exact: true })
        return { ...saved, ...previewJson(p) }
      })
      return c.json(r)
    } catch (e) {
      return withDetails(c, e)
    }
  })

  // A village's or township's grids from a GeoJSON file or zipped Shapefile: a dry run answers the
  // preview of each village, a save writes a version each (see api/grid-editor/boundary-import.ts).
  app.post('/api/import/grids', async (c) => {
    const body = await readJson(c, gridImportBody)
    const user = authorize(c, 'grid.edit', body.unit)
    try {
      const run = (tx: Parameters<Parameters<typeof writeTx>[2]>[0]) => importGrids(tx, user, body)
      return c.json(body.dryRun ? await transaction(sql, run) : await writeTx(sql, user, run))
    } catch (e) {
      return withDetails(c, e)
    }
  })
  return app
}

function versionNumber(raw: string): number {
  if (!/^(0|[1-9][0-9]{0,8})$/.test(raw)) {
    throw new HttpError(400, 'bad_version', `版本号须为非负整数，收到 "${raw}"`, `a version number is a whole number ≥ 0, got "${raw}"`)
  }
  return Number(raw)
}

const noVersion = (n: number) => new HttpError(404, 'no_version', `本村没有第 ${n} 版网格`, `this village has no cover version ${n}`)
