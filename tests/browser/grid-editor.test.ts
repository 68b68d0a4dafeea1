import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { ensureWebBuild, webDist } from '../../scripts/web-build.ts'
import { chromiumPath, launch, openPage, screenshot } from '../helpers/browser.ts'
import { loginAs } from '../helpers/session.ts'

const exe = chromiumPath()
type XY = { x: number; y: number }

/** The grid editor in Chromium: pick a grid, drag a vertex onto a neighbour's vertex (snapping), preview, save. */
describe.skipIf(!exe)('grid editor in Chromium', () => {
  let server: RunningServer
  let browser: Browser
  let village: { id: number; code: string }

  beforeAll(async () => {
    await ensureWebBuild({ quiet: true })
    server = await startServer({ port: 0, databaseUrl: inject('embeddedUrl'), seedScale: false, quiet: true, webDist })
    browser = await launch(exe!)
    // A village nobody else's suite edits: the last with several grids.
    const [v] = await server.db.sql`
      SELECT v.id, v.code FROM admin_units v JOIN grids g ON g.village_id = v.id AND g.kind = 'basic'
      WHERE NOT EXISTS (SELECT 1 FROM grid_cover_versions c WHERE c.village_id = v.id)
      GROUP BY v.id, v.code HAVING count(*) >= 4 ORDER BY v.code DESC LIMIT 1`
    village = { id: v.id as number, code: v.code as string }
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  /** Screen position of a lon/lat on the editor's map. */
  const screen = async (page: Page, p: number[]): Promise<XY> => {
    const box = (await page.getByTestId('editor-map').boundingBox())!
    const xy = await page.evaluate((q) => window.__gridwatch!.map!.project(q as [number, number]), p)
    return { x: box.x + xy.x, y: box.y + xy.y }
  }

  it('drags a vertex with snapping, previews who moves, saves, and the new version is listed', async () => {
    const me = await loginAs(server, 'township', village.code.slice(0, 9) + '000')
    const { page, errors } = await openPage(browser, me.cookie, `${server.url}/editor?village=${village.code}`, { width: 1366, height: 768 })
    await page.waitForFunction(() => (window as unknown as { __gridwatchEditor?: { ready: boolean } }).__gridwatchEditor?.ready)
    const [grid] = await server.db.sql`SELECT code FROM grids WHERE village_id = ${village.id} AND kind = 'basic' ORDER BY code LIMIT 1`
    await page.getByTestId(`grid-${grid.code}`).click()
    await page.getByTestId('tool-reshape').click()
    await page.evaluate(() => new Promise((r) => window.__gridwatch!.map!.once('idle', r)))

    // The vertex to move, and the nearest vertex of another grid that is not one of its own: where it should snap.
    const ring = await page.evaluate(() => {
      const draw = (window as unknown as { __gridwatchEditor: { draw: { getSnapshotFeature(id: string): { geometry: { coordinates: number[][][] } } } } }).__gridwatchEditor.draw
      return draw.getSnapshotFeature('edit').geometry.coordinates[0]
    })
    const own = new Set(ring.map((p) => p.join()))
    const others = await server.db.sql`
      SELECT DISTINCT ST_X(d.geom) AS x, ST_Y(d.geom) AS y FROM grids g, ST_DumpPoints(g.geom) d
      WHERE g.village_id = ${village.id} AND g.kind = 'basic' AND g.code <> ${grid.code}`
    let best = { i: -1, to: [0, 0], d: Infinity }
    for (let i = 0; i < ring.length - 1; i++) {
      for (const o of others) {
        const to = [o.x as number, o.y as number]
        if (own.has(to.join())) continue
        const d = Math.hypot(to[0] - ring[i][0], to[1] - ring[i][1])
        if (d < best.d) best = { i, to, d }
      }
    }
    const from = await screen(page, ring[best.i])
    const target = await screen(page, best.to)
    // Drop 4 px off the neighbour's vertex: snapping must put it exactly there.
    await page.mouse.move(from.x, from.y)
    await page.mouse.down()
    for (let k = 1; k <= 10; k++) await page.mouse.move(from.x + ((target.x + 4 - from.x) * k) / 10, from.y + ((target.y + 4 - from.y) * k) / 10)
    await page.mouse.up()
    const moved = await page.evaluate(() => {
      const draw = (window as unknown as { __gridwatchEditor: { draw: { getSnapshotFeature(id: string): { geometry: { coordinates: number[][][] } } } } }).__gridwatchEditor.draw
      return draw.getSnapshotFeature('edit').geometry.coordinates[0]
    })
    expect(moved.some((p) => Math.abs(p[0] - best.to[0]) < 1e-9 && Math.abs(p[1] - best.to[1]) < 1e-9), 'vertex snapped onto the neighbour').toBe(true)

    // Undo/redo of the drawing is not asserted yet: the editor's undo stack does not see terra-draw's drag (see the report of issue #7).

    await page.getByTestId('preview').click()
    await page.getByTestId('editor-preview').waitFor()
    expect(await page.getByTestId('preview-verdict').innerText()).toBe('修改后网格完整：无空隙、无重叠')
    await screenshot(page, 'grid-editor-1366x768.png')
    await page.getByTestId('save').click()
    await page.getByText('已保存为第 1 版').waitFor()
    await page.getByTestId('editor-history').getByText('版本 1').first().waitFor()

    // Saved on the server: the grid now has the neighbour's vertex, the cover is version 1 by this user.
    const [g] = await server.db.sql`SELECT ST_DWithin(ST_Boundary(geom), ST_SetSRID(ST_Point(${best.to[0]}, ${best.to[1]}), 4326), 1e-8) AS has, ST_Distance(ST_Boundary(geom), ST_SetSRID(ST_Point(${best.to[0]}, ${best.to[1]}), 4326)) AS d FROM grids WHERE code = ${grid.code}`
    expect(g.has, `vertex ${g.d} degrees from the saved boundary`).toBe(true)
    const [v] = await server.db.sql`SELECT version, actor FROM grid_cover_versions WHERE village_id = ${village.id} ORDER BY version DESC LIMIT 1`
    expect(v).toEqual({ version: 1, actor: me.username })
    expect(errors).toEqual([])
  })
})
