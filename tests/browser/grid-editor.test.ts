import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { restoreSeedCovers } from '../helpers/grid-covers.ts'
import { startServer, type RunningServer } from '../../api/server.ts'
import { ensureWebBuild, webDist } from '../../scripts/web-build.ts'
import { chromiumPath, launch, openPage, screenshot, waitForIdle } from '../helpers/browser.ts'
import { expectInvariants } from '../helpers/cover-invariants.ts'
import { loginAs } from '../helpers/session.ts'
import { zh } from '../../web/src/i18n/zh.ts'

const exe = chromiumPath()
type XY = { x: number; y: number }
type Ring = number[][]
type Editor = { draw: { getSnapshotFeature(id: string): { geometry: { coordinates: number[][][] } } }; state(): { canUndo: boolean; canRedo: boolean } }

/** Degrees: the saved vertex must be this close to its target (terra-draw keeps 9 decimals, the server snaps to 1e-9). */
const EXACT = 1e-8
const near = (p: number[], q: number[], d = EXACT) => Math.hypot(p[0] - q[0], p[1] - q[1]) < d

/**
 * The grid editor in Chromium: pick a grid and drag its vertices. A vertex
 * dropped a few pixels off a neighbour's vertex, or off the village edge,
 * lands exactly on it (and with snapping switched off it does not); undo and
 * redo step through the drags; preview, save, and the saved cover in PostGIS
 * shares the edge with the neighbour, stays inside the village, and has no
 * gap, overlap or sliver.
 */
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
    if (server) await restoreSeedCovers(server.db.sql)
    await browser?.close()
    await server?.close()
  })

  /** Screen position of a lon/lat on the editor's map. */
  const screen = async (page: Page, p: number[]): Promise<XY> => {
    const box = (await page.getByTestId('editor-map').boundingBox())!
    const xy = await page.evaluate((q) => window.__gridwatch!.map!.project(q as [number, number]), p)
    return { x: box.x + xy.x, y: box.y + xy.y }
  }
  const editor = (page: Page) => ({
    ring: () => page.evaluate(() => (window as unknown as { __gridwatchEditor: Editor }).__gridwatchEditor.draw.getSnapshotFeature('edit').geometry.coordinates[0]),
    state: () => page.evaluate(() => (window as unknown as { __gridwatchEditor: Editor }).__gridwatchEditor.state()),
  })
  /** Drags the vertex at `from` (lon/lat) to `to` plus a screen offset, in ten mouse moves. */
  const drag = async (page: Page, from: number[], to: number[], off: XY) => {
    const a = await screen(page, from)
    const b = await screen(page, to)
    await page.mouse.move(a.x, a.y)
    await page.mouse.down()
    for (let k = 1; k <= 10; k++) await page.mouse.move(a.x + ((b.x + off.x - a.x) * k) / 10, a.y + ((b.y + off.y - a.y) * k) / 10)
    await page.mouse.up()
  }

  it('snaps dragged vertices onto a neighbour\'s vertex and the village edge, undoes and redoes the drags, saves a shared edge with no gap or overlap', async () => {
    const sql = server.db.sql
    const me = await loginAs(server, 'township', village.code.slice(0, 9) + '000')
    const { page, errors } = await openPage(browser, me.cookie, `${server.url}/editor?village=${village.code}`, { width: 1366, height: 768 })
    await page.waitForFunction(() => (window as unknown as { __gridwatchEditor?: { ready: boolean } }).__gridwatchEditor?.ready)
    // A grid with an edge on the village boundary (most have one).
    const [grid] = await sql`
      SELECT g.code FROM grids g JOIN admin_units v ON v.id = g.village_id
      WHERE g.village_id = ${village.id} AND g.kind = 'basic'
        AND ST_Length(ST_Intersection(ST_Boundary(g.geom), ST_Boundary(v.geom))) > 0
      ORDER BY g.code LIMIT 1`
    await page.getByTestId(`grid-${grid.code}`).click()
    await page.getByTestId('tool-reshape').click()
    await page.evaluate(() => new Promise((r) => window.__gridwatch!.map!.once('idle', r)))
    const ed = editor(page)
    const original: Ring = await ed.ring()

    // 1. The ring vertex nearest to a vertex of another grid that is not one of its own: where it should snap.
    const others = await sql`
      SELECT DISTINCT ST_X(d.geom) AS x, ST_Y(d.geom) AS y FROM grids g, ST_DumpPoints(g.geom) d
      WHERE g.village_id = ${village.id} AND g.kind = 'basic' AND g.code <> ${grid.code}`
    let best = { i: -1, to: [0, 0], d: Infinity }
    for (let i = 0; i < original.length - 1; i++) {
      for (const o of others) {
        const to = [o.x as number, o.y as number]
        // Vertices the grid shares (its ring has them to 9 decimals, the database to more) are not targets.
        if (original.some((p) => near(p, to))) continue
        const d = Math.hypot(to[0] - original[i][0], to[1] - original[i][1])
        if (d < best.d) best = { i, to, d }
      }
    }
    const off = { x: 4, y: 4 }

    // With snapping off the vertex stays where it is dropped, 4 px off: the check below would fail.
    await page.getByTestId('snapping').uncheck()
    await drag(page, original[best.i], best.to, off)
    const loose: Ring = await ed.ring()
    expect(loose.some((p) => near(p, best.to)), 'no snapping: the vertex is not on the neighbour\'s').toBe(false)
    expect(loose).not.toEqual(original)
    // Undo sees the drag: back to the grid as loaded; redo brings the drag back; undo again for a clean start.
    expect(await ed.state()).toMatchObject({ canUndo: true, canRedo: false })
    await page.getByTestId('undo').click()
    expect(await ed.ring()).toEqual(original)
    expect(await ed.state()).toMatchObject({ canUndo: false, canRedo: true })
    await page.getByTestId('redo').click()
    expect(await ed.ring()).toEqual(loose)
    await page.getByTestId('undo').click()
    expect(await ed.ring()).toEqual(original)

    // With snapping on, the same drop lands exactly on the neighbour's vertex.
    await page.getByTestId('snapping').check()
    await drag(page, original[best.i], best.to, off)
    const snapped: Ring = await ed.ring()
    expect(snapped.some((p) => near(p, best.to)), 'vertex snapped onto the neighbour\'s').toBe(true)

    // 2. An edge of the grid along the village boundary (not touching the vertex just moved): its first
    // vertex dragged to the edge's middle and dropped 4 px outside the village lands on the village edge.
    const [edge] = await sql`
      WITH r AS (SELECT ST_SetSRID(ST_GeomFromGeoJSON(${JSON.stringify({ type: 'LineString', coordinates: snapped })}), 4326) AS l),
      b AS (SELECT ST_Boundary(geom) AS b FROM admin_units WHERE id = ${village.id}),
      segs AS (SELECT ST_MakeLine(ST_PointN(r.l, n), ST_PointN(r.l, n + 1)) AS seg FROM r, generate_series(1, ST_NPoints(r.l) - 1) n)
      SELECT ST_X(ST_StartPoint(seg)) AS vx, ST_Y(ST_StartPoint(seg)) AS vy, ST_X(ST_LineInterpolatePoint(seg, 0.5)) AS x, ST_Y(ST_LineInterpolatePoint(seg, 0.5)) AS y,
             ST_X(ST_StartPoint(seg)) AS ax, ST_Y(ST_StartPoint(seg)) AS ay, ST_X(ST_EndPoint(seg)) AS bx, ST_Y(ST_EndPoint(seg)) AS by
      FROM segs, b
      WHERE ST_DWithin(ST_StartPoint(seg), b.b, ${EXACT}) AND ST_DWithin(ST_EndPoint(seg), b.b, ${EXACT}) AND ST_DWithin(ST_LineInterpolatePoint(seg, 0.5), b.b, ${EXACT})
        AND NOT ST_DWithin(seg, ST_SetSRID(ST_Point(${best.to[0]}, ${best.to[1]}), 4326), ${EXACT})
      ORDER BY ST_Length(seg) DESC LIMIT 1`
    expect(edge, 'the grid has an edge on the village boundary away from the moved vertex').toBeTruthy()
    const vertex = [edge.vx as number, edge.vy as number]
    const mid = [edge.x as number, edge.y as number]
    const [a, b] = [await screen(page, [edge.ax, edge.ay]), await screen(page, [edge.bx, edge.by])]
    const len = Math.hypot(b.x - a.x, b.y - a.y)
    expect(len, 'the village edge is long enough on screen to drop a vertex in its middle').toBeGreaterThan(60)
    // The edge's normal pointing out of the village: 20 px along it from the middle is not in the village.
    const m = await screen(page, mid)
    const n = { x: -(b.y - a.y) / len, y: (b.x - a.x) / len }
    const box = (await page.getByTestId('editor-map').boundingBox())!
    const probe = await page.evaluate((q) => window.__gridwatch!.map!.unproject([q.x, q.y]).toArray(), { x: m.x + n.x * 20 - box.x, y: m.y + n.y * 20 - box.y })
    const [inVillage] = await sql`SELECT ST_Intersects(geom, ST_SetSRID(ST_Point(${probe[0]}, ${probe[1]}), 4326)) AS yes FROM admin_units WHERE id = ${village.id}`
    const out = inVillage.yes ? { x: -n.x * 4, y: -n.y * 4 } : { x: n.x * 4, y: n.y * 4 }
    await drag(page, vertex, mid, out)
    const onEdge: Ring = await ed.ring()
    const movedTo = onEdge.find((p) => !snapped.some((q) => q[0] === p[0] && q[1] === p[1]))
    expect(movedTo, 'the second drag moved a vertex').toBeTruthy()
    const [dropped] = await sql`
      SELECT ST_Distance(ST_SetSRID(ST_Point(${movedTo![0]}, ${movedTo![1]}), 4326), ST_Boundary(geom)) AS d FROM admin_units WHERE id = ${village.id}`
    expect(dropped.d, 'the dragged vertex lies on the village edge').toBeLessThan(EXACT)
    // Undo steps back over the second drag only; redo brings it back.
    await page.getByTestId('undo').click()
    expect(await ed.ring()).toEqual(snapped)
    await page.getByTestId('redo').click()
    expect(await ed.ring()).toEqual(onEdge)

    await page.getByTestId('preview').click()
    await page.getByTestId('editor-preview').waitFor()
    expect(await page.getByTestId('preview-verdict').innerText()).toBe('修改后网格完整：无空隙、无重叠')
    await screenshot(page, 'grid-editor-1366x768.png')
    await page.getByTestId('save').click()
    await page.getByText('已保存为第 1 版').waitFor()
    await page.getByTestId('editor-history').getByText('版本 1').first().waitFor()

    // Saved: the grid has the neighbour's vertex, every grid that had it still has it, and one of them shares
    // an edge with the grid; the grid's new vertex is on the village edge and nothing sticks out.
    const pt = (p: number[]) => sql`ST_SetSRID(ST_Point(${p[0]}, ${p[1]}), 4326)`
    const [g] = await sql`
      SELECT ST_Distance(ST_Boundary(geom), ${pt(best.to)}) AS d,
             -- Inside the village up to the server's precision grid (1e-9°, ~0.1 mm), not 4 px (~40 m) out.
             ST_CoveredBy(geom, (SELECT ST_Buffer(geom, 2e-9) FROM admin_units WHERE id = ${village.id})) AS inside
      FROM grids WHERE code = ${grid.code}`
    expect(g.d, 'saved grid boundary through the neighbour\'s vertex').toBeLessThan(EXACT)
    expect(g.inside, 'saved grid inside the village').toBe(true)
    const neighbours = await sql`
      SELECT n.code, ST_Distance(ST_Boundary(n.geom), ${pt(best.to)}) AS d,
             ST_Length(ST_CollectionExtract(ST_Intersection(ST_Boundary(n.geom), ST_Boundary(e.geom)), 2)) AS shared
      FROM grids n, grids e WHERE e.code = ${grid.code} AND n.village_id = ${village.id} AND n.kind = 'basic' AND n.code <> e.code
        AND ST_DWithin(n.geom, ${pt(best.to)}, 1e-7)`
    expect(neighbours.length).toBeGreaterThan(0)
    for (const nb of neighbours) expect(nb.d, `grid ${nb.code} keeps the vertex`).toBeLessThan(EXACT)
    // The grid whose area the drag took shares the new edge up to that vertex (others may meet it at the vertex only).
    expect(Math.max(...neighbours.map((nb) => nb.shared as number)), 'a neighbour at the vertex shares an edge with the edited grid').toBeGreaterThan(0)
    // The cover: no gap, no overlap, micro-grids inside their grids, every household in one grid (as the
    // database suites check after a save); and no part of a grid is a sliver under 1 m².
    await expectInvariants(sql, village.id)
    const [c] = await sql`SELECT min(ST_Area(d.geom)) AS smallest FROM grids x, ST_Dump(x.geom) d WHERE x.village_id = ${village.id} AND x.kind = 'basic'`
    expect(c.smallest, 'no sliver').toBeGreaterThan(1e-10)
    const [v] = await sql`SELECT version, actor FROM grid_cover_versions WHERE village_id = ${village.id} ORDER BY version DESC LIMIT 1`
    expect(v).toEqual({ version: 1, actor: me.username })
    expect(errors).toEqual([])
  }, 300_000)

  /** The editor on the suite's village as township staff, at a laptop's size, drawn. */
  const openEditor = async () => {
    const me = await loginAs(server, 'township', village.code.slice(0, 9) + '000')
    const opened = await openPage(browser, me.cookie, `${server.url}/editor?village=${village.code}`, { width: 1366, height: 768 })
    await opened.page.waitForFunction(() => (window as unknown as { __gridwatchEditor?: { ready: boolean } }).__gridwatchEditor?.ready)
    await opened.page.getByTestId('editor-version').waitFor()
    await waitForIdle(opened.page)
    return opened
  }
  /** Two grids of the village sharing an edge (they may merge), and one of the first's that does not touch it (it may not). */
  const gridPairs = async () => {
    const pairs = await server.db.sql`
      SELECT a.code AS a, b.code AS b, ST_Length(ST_CollectionExtract(ST_Intersection(ST_Boundary(a.geom), ST_Boundary(b.geom)), 2)) > 0 AS edge,
             ST_Intersects(a.geom, b.geom) AS touch
      FROM grids a JOIN grids b ON a.village_id = b.village_id AND a.kind = 'basic' AND b.kind = 'basic' AND a.code <> b.code
      WHERE a.village_id = ${village.id} ORDER BY a.code, b.code`
    const apart = pairs.find((p) => !p.touch && pairs.some((q) => q.a === p.a && q.edge))
    expect(apart, 'the village has a grid with a neighbour and a grid apart from it').toBeTruthy()
    const merge = pairs.find((q) => q.a === apart!.a && q.edge)!
    return { grid: merge.a as string, neighbour: merge.b as string, apart: apart!.b as string }
  }

  it('draws the command map\'s households, hazard sites and shelters under the grids, on the app\'s dark theme', async () => {
    const { page, errors } = await openEditor()
    // Where people live, from the command map's tiles: the whole village in view, its households drawn (one dot
    // a household from z13, the grids' totals below, as on the command map; the test seed's villages are large).
    const drawnAt = () => page.evaluate(() => {
      const map = window.__gridwatch!.map!
      const layers = ['households', 'household-agg-total'].filter((id) => map.getLayer(id))
      return { zoom: map.getZoom(), ids: (layers.length ? map.queryRenderedFeatures({ layers }) : []).map((f) => `${f.layer.id}:${f.properties.agg}:${f.properties.id}`) }
    })
    const fitted = await drawnAt()
    expect(fitted.ids.length, `households drawn at the village's zoom ${fitted.zoom.toFixed(1)}`).toBeGreaterThan(0)
    const [centre] = await server.db.sql`SELECT ST_X(p) AS x, ST_Y(p) AS y FROM (SELECT ST_PointOnSurface(geom) AS p FROM grids WHERE village_id = ${village.id} AND kind = 'basic' ORDER BY code LIMIT 1) c`
    await page.evaluate((c) => window.__gridwatch!.map!.jumpTo({ center: c as [number, number], zoom: 14.5 }), [centre.x, centre.y])
    await waitForIdle(page)
    const close = await drawnAt()
    const dots = close.ids.filter((id) => id.startsWith('households::')).map((id) => Number(id.split(':')[2]))
    const [drawn] = await server.db.sql`SELECT count(*)::int AS n FROM households h JOIN grids g ON g.id = h.grid_id WHERE g.village_id = ${village.id} AND h.id = ANY(${dots}::int[])`
    expect(drawn.n, 'the village\'s households drawn one dot each at z14.5').toBeGreaterThan(0)
    const onMap = await page.evaluate(() => {
      const map = window.__gridwatch!.map!
      const style = map.getStyle()
      const src = (id: string) => (style.sources[id] as { url?: string } | undefined)?.url ?? null
      return {
        layers: style.layers.map((l) => l.id),
        sources: { households: src('households'), hazards: src('hazards'), shelters: src('shelters') },
        colour: map.getLayer('households') ? map.getPaintProperty('households', 'circle-color') : null,
        icons: ['shelter', 'hazard-大型'].map((n) => map.hasImage(n)),
        background: map.getLayer('bg') ? String(map.getPaintProperty('bg', 'background-color')) : null,
      }
    })
    expect(onMap.sources).toEqual({ households: `${server.url}/tiles/households.json`, hazards: `${server.url}/tiles/hazards.json`, shelters: `${server.url}/tiles/shelters.json` })
    // 红黄绿 as on the command map, and the hazard and shelter symbols with their icons.
    expect(JSON.stringify(onMap.colour)).toContain('"red"')
    for (const id of ['households', 'hazards', 'shelters']) expect(onMap.layers, id).toContain(id)
    expect(onMap.icons).toEqual([true, true])
    // The dots sit above the grids' fill (which would hide them) and under the grids' outlines.
    const at = (id: string) => onMap.layers.indexOf(id)
    expect(at('grids-fill')).toBeLessThan(at('households'))
    expect(at('households')).toBeLessThan(at('grids-line'))

    // The app's dark theme: the page, the panel, the buttons and the map's background dark, their text light.
    const lum = (rgb: string) => {
      const [r, g, b] = rgb.match(/[\d.]+/g)!.slice(0, 3).map(Number).map((c) => c / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4))
      return 0.2126 * r + 0.7152 * g + 0.0722 * b
    }
    const css = await page.evaluate(() => {
      const of = (sel: string) => getComputedStyle(document.querySelector(sel)!)
      return {
        page: of('[data-testid="grid-editor"]').backgroundColor, panel: of('.editor-panel').backgroundColor, text: of('.editor-panel').color,
        button: of('[data-testid="preview"]').backgroundColor, buttonText: of('[data-testid="tool-add"]').color,
      }
    })
    expect(lum(css.page), `page ${css.page}`).toBeLessThan(0.05)
    expect(lum(css.panel), `panel ${css.panel}`).toBeLessThan(0.05)
    expect(lum(css.button), `button ${css.button}`).toBeLessThan(0.1)
    expect(lum(css.text), `text ${css.text}`).toBeGreaterThan(0.6)
    expect(lum(css.buttonText), `button text ${css.buttonText}`).toBeGreaterThan(0.6)
    const hex = onMap.background?.match(/^#(..)(..)(..)$/)
    expect(hex && lum(hex.slice(1).map((h) => parseInt(h, 16)).join(',')), `map background ${onMap.background}`).toBeLessThan(0.05)
    await screenshot(page, 'grid-editor-context-1366x768.png')
    expect(errors).toEqual([])
  }, 300_000)

  it('draws the configured basemap under the grids, as the command map does', async () => {
    // The basemap setting as /api/config tells it (GRIDWATCH_BASEMAP), with tiles on our own origin (no network here).
    const me = await loginAs(server, 'township', village.code.slice(0, 9) + '000')
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 } })
    const [name, value] = me.cookie.split('=')
    await ctx.addCookies([{ name, value, url: server.url }])
    const basemap = { tiles: [`${server.url}/test-basemap/{z}/{x}/{y}.png`], attribution: '测试底图', tileSize: 256 }
    await ctx.route('**/api/config', (r) => r.fulfill({ json: { basemap } }))
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64')
    let served = 0
    await ctx.route('**/test-basemap/**', (r) => { served++; return r.fulfill({ body: png, contentType: 'image/png' }) })
    const page = await ctx.newPage()
    try {
      await page.goto(`${server.url}/editor?village=${village.code}`)
      await page.waitForFunction(() => (window as unknown as { __gridwatchEditor?: { ready: boolean } }).__gridwatchEditor?.ready)
      await waitForIdle(page)
      const style = await page.evaluate(() => {
        const s = window.__gridwatch!.map!.getStyle()
        return { layers: s.layers.map((l) => l.id), source: s.sources.basemap as { tiles?: string[] } | undefined }
      })
      expect(style.source?.tiles).toEqual(basemap.tiles)
      // Right above the background, under everything else.
      expect(style.layers.indexOf('basemap')).toBe(1)
      expect(served, 'basemap tiles fetched').toBeGreaterThan(0)
      await page.locator('.maplibregl-ctrl-attrib').getByText('测试底图').waitFor({ state: 'attached' })
      // It can be switched off, as on the command map.
      await page.getByTestId('layer-basemap').uncheck()
      expect(await page.evaluate(() => window.__gridwatch!.map!.getLayoutProperty('basemap', 'visibility'))).toBe('none')
    } finally {
      await ctx.close()
    }
  }, 300_000)

  it('lists every grid\'s households against the 60–100 guidance in the preview, also when no household moves', async () => {
    const { page, errors } = await openEditor()
    const { grid } = await gridPairs()
    // The grid reshaped as it is: a valid preview that moves no household (the section was empty then).
    await page.getByTestId(`grid-${grid}`).click()
    await page.getByTestId('tool-reshape').click()
    await page.getByTestId('preview').click()
    await page.getByTestId('editor-preview').waitFor()
    expect(await page.getByTestId('preview-verdict').innerText()).toBe('修改后网格完整：无空隙、无重叠')
    const sizes = page.getByTestId('preview-counts')
    expect(await sizes.locator('h3').innerText()).toContain('60–100')
    const basic = await server.db.sql`
      SELECT g.name, count(h.id)::int AS n FROM grids g LEFT JOIN households h ON h.grid_id = g.id
      WHERE g.village_id = ${village.id} AND g.kind = 'basic' GROUP BY g.name ORDER BY g.name`
    const rows = await sizes.locator('tbody tr').allInnerTexts()
    expect(rows.length, 'one row a grid').toBe(basic.length)
    for (const g of basic) {
      const row = rows.find((r) => r.split('\t')[0] === g.name)
      expect(row, `a row for ${g.name}`).toBeTruthy()
      expect(row).toContain(`${g.n} 户`)
      expect(row).toMatch(g.n < 60 ? /偏少/ : g.n > 100 ? /偏多/ : /适中/)
    }
    expect(errors).toEqual([])
  }, 300_000)

  it('keeps Save off until a valid preview of the change, and turns it off when a preview is refused', async () => {
    const { page, errors } = await openEditor()
    const { grid, neighbour, apart } = await gridPairs()
    const save = page.getByTestId('save')
    await page.getByTestId(`grid-${grid}`).click()
    // A merge with the neighbour: previewed valid, Save on.
    await page.getByTestId('merge-with').selectOption(neighbour)
    await page.getByTestId('preview-verdict').getByText('修改后网格完整').waitFor()
    await page.waitForFunction(() => !(document.querySelector('[data-testid="save"]') as HTMLButtonElement).disabled)
    // Then a merge with a grid it does not touch: the server refuses it (400 not_neighbours). Save goes off
    // (it saved the refused merge's request before), the earlier preview goes, the refusal is said.
    const refused = page.waitForResponse((r) => r.url().endsWith('/cover/preview') && r.status() === 400)
    await page.getByTestId('merge-with').selectOption(apart)
    await refused
    await page.getByTestId('editor-message').waitFor()
    expect(await save.isDisabled(), 'Save after a refused preview').toBe(true)
    expect(await page.getByTestId('editor-preview').count(), 'no preview shown for the refused change').toBe(0)
    // A valid preview again: Save on again.
    await page.getByTestId('merge-with').selectOption(neighbour)
    await page.getByTestId('preview-verdict').getByText('修改后网格完整').waitFor()
    await page.waitForFunction(() => !(document.querySelector('[data-testid="save"]') as HTMLButtonElement).disabled)
    // Reshaping starts a new change: not previewed, nothing to save.
    await page.getByTestId('tool-reshape').click()
    expect(await save.isDisabled(), 'Save before the reshape is previewed').toBe(true)
    expect(errors.filter((e) => !/status of 400/.test(e))).toEqual([])
  }, 300_000)

  it('asks for a new dry run of an import when its coordinate system changes', async () => {
    const { page, errors } = await openEditor()
    // The village's grids as they are, as GeoJSON: the dry run says nothing would change, and the import may go.
    const rows = await server.db.sql`SELECT code, name, ST_AsGeoJSON(geom, 10)::json AS geom FROM grids WHERE village_id = ${village.id} AND kind = 'basic' ORDER BY code`
    const file = { type: 'FeatureCollection', features: rows.map((r) => ({ type: 'Feature', properties: { 网格编码: r.code, 网格名称: r.name }, geometry: r.geom })) }
    await page.getByTestId('import-file').setInputFiles({ name: 'grids.geojson', mimeType: 'application/geo+json', buffer: Buffer.from(JSON.stringify(file)) })
    await page.getByTestId('import-dry-run').click()
    await page.getByTestId('import-report').getByText('与现状相同').waitFor()
    expect(await page.getByTestId('import-save').isEnabled(), 'import after its dry run').toBe(true)
    // Read as GCJ-02 the same file is another import (every point moves some hundred metres): not dry-run, not importable.
    await page.getByLabel(zh.editor.crs).selectOption('gcj02')
    expect(await page.getByTestId('import-save').isDisabled(), 'import after the coordinate system changed').toBe(true)
    expect(await page.getByTestId('import-report').count(), 'the dry run of the other system is not shown').toBe(0)
    expect(errors).toEqual([])
  }, 300_000)

  it('opens from a grid\'s record on the command map for those who may edit it, and lands township staff on a village of their own', async () => {
    const sql = server.db.sql
    const township = village.code.slice(0, 9) + '000'
    const me = await loginAs(server, 'township', township)
    // A grid's record on the command map: the link to the editor, on the grid's village with the grid picked.
    const [grid] = await sql`SELECT id, code FROM grids WHERE village_id = ${village.id} AND kind = 'basic' ORDER BY code DESC LIMIT 1`
    const { page, errors } = await openPage(browser, me.cookie, `${server.url}/?record=grid:${grid.id}`, { width: 1366, height: 768 })
    const link = page.getByTestId('open-editor')
    await link.waitFor()
    expect(await link.getAttribute('href')).toBe(`/editor?village=${village.code}&grid=${grid.code}`)
    await link.click()
    await page.waitForURL(/\/editor\?village=/)
    await page.getByTestId(`grid-${grid.code}`).waitFor()
    expect(await page.getByTestId(`grid-${grid.code}`).getAttribute('aria-pressed')).toBe('true')
    await page.getByTestId('tool-reshape').waitFor()
    expect(await page.getByTestId('tool-reshape').isEnabled()).toBe(true)

    // Import from a file: the village's grids as they are, as GeoJSON: the dry run says nothing would change.
    const rows = await sql`SELECT code, name, ST_AsGeoJSON(geom, 10)::json AS geom FROM grids WHERE village_id = ${village.id} AND kind = 'basic' ORDER BY code`
    const file = { type: 'FeatureCollection', features: rows.map((r) => ({ type: 'Feature', properties: { 网格编码: r.code, 网格名称: r.name }, geometry: r.geom })) }
    await page.getByTestId('import-file').setInputFiles({ name: 'grids.geojson', mimeType: 'application/geo+json', buffer: Buffer.from(JSON.stringify(file)) })
    await page.getByTestId('import-dry-run').click()
    await page.getByTestId('import-report').getByText('与现状相同').waitFor()

    // /editor with no village: the first village of the user's township.
    await page.goto(`${server.url}/editor`)
    await page.waitForURL(/\/editor\?village=[0-9]{12}$/)
    const landed = new URL(page.url()).searchParams.get('village')!
    const [first] = await sql`SELECT code FROM admin_units WHERE level = 'village' AND code LIKE ${township.slice(0, 9) + '%'} ORDER BY code LIMIT 1`
    expect(landed).toBe(first.code)
    await page.getByTestId('editor-version').waitFor()
    // The map and the drawing come up there too (they wait for the village).
    await page.waitForFunction(() => (window as unknown as { __gridwatchEditor?: { ready: boolean } }).__gridwatchEditor?.ready)
    expect(errors).toEqual([])

    // A planner (no grid.edit) sees the record without the link.
    const planner = await loginAs(server, 'planner', village.code.slice(0, 6) + '000000')
    const p2 = await openPage(browser, planner.cookie, `${server.url}/?record=grid:${grid.id}`, { width: 1366, height: 768 })
    await p2.page.getByTestId('record-title').waitFor()
    expect(await p2.page.getByTestId('open-editor').count()).toBe(0)
  })
})
