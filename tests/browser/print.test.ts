/**
 * Print maps rendered by the server's Chromium and checked as files: the PNG
 * is A4 at 300 dpi (3508 × 2480) with a drawn map area and a legend; the PDF
 * page is A3 (in points) and its text has the title, legend, date and source
 * (pdftotext, poppler-utils). A view the test sets (box and layer groups, as
 * the planning panel sends the map's current view) is what is printed, and
 * the legend lists what is drawn in it, no more and no less. Bad requests are
 * 400 before any render.
 */
import { execFileSync } from 'node:child_process'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { chromium } from 'playwright-core'
import { PNG } from 'pngjs'
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import { renderBrowserArgs } from '../../api/print/render.ts'
import { printLayerGroups } from '../../api/routes/print.ts'
import { dpiOf } from '../../api/print/png-dpi.ts'
import { startServer, type RunningServer } from '../../api/server.ts'
import { dangerColor, reportColor, riskColor, shelterColor } from '../../web/src/map/colors.ts'
import { layerGroups } from '../../web/src/map/style.ts'
import { ensureWebBuild, webDist } from '../../scripts/web-build.ts'
import { artifactsDir, chromiumPath } from '../helpers/browser.ts'
import { login, loginAs, TEST_PASSWORD, type Client } from '../helpers/session.ts'

const exe = chromiumPath()

/** Distinct colours and the share of non-white pixels in a box given as fractions of the page. */
function look(png: PNG, x0: number, y0: number, x1: number, y1: number) {
  const colours = new Set<number>()
  let ink = 0
  let n = 0
  for (let y = Math.floor(y0 * png.height); y < y1 * png.height; y += 4) {
    for (let x = Math.floor(x0 * png.width); x < x1 * png.width; x += 4) {
      const i = (y * png.width + x) * 4
      const [r, g, b] = [png.data[i], png.data[i + 1], png.data[i + 2]]
      colours.add((r >> 3) << 10 | (g >> 3) << 5 | (b >> 3))
      if (r + g + b < 740) ink++
      n++
    }
  }
  return { colours: colours.size, ink: ink / n }
}

/** Pixels of a colour (within a few levels: antialiasing, colour profiles) in a box given as fractions of the page. */
function pixelsOf(png: PNG, hex: string, [x0, y0, x1, y1]: number[]) {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16))
  let n = 0
  for (let y = Math.floor(y0 * png.height); y < y1 * png.height; y++) {
    for (let x = Math.floor(x0 * png.width); x < x1 * png.width; x++) {
      const i = (y * png.width + x) * 4
      if (Math.abs(png.data[i] - r) + Math.abs(png.data[i + 1] - g) + Math.abs(png.data[i + 2] - b) < 12) n++
    }
  }
  return n
}
const havePoppler = (() => {
  try {
    execFileSync('pdfinfo', ['-v'], { stdio: 'ignore' })
    return true
  } catch {
    if (process.env.CI) throw new Error('CI must check PDFs: install poppler-utils')
    return false
  }
})()

// A render waits behind the one before it (one Chromium at a time) and takes a minute on a busy machine.
describe.skipIf(!exe)('print maps', { timeout: 300_000 }, () => {
  let s: RunningServer
  let planner: Client
  let dir: string
  let county: { code: string; name: string }

  async function print(body: Record<string, unknown>) {
    const r = await planner.send('POST', '/api/print', body)
    const job = await r.json()
    expect(r.status, JSON.stringify(job)).toBe(202)
    const stages: string[] = [job.stage]
    let p = job
    for (let i = 0; i < 480 && p.stage !== 'done' && p.stage !== 'failed'; i++) {
      await new Promise((res) => setTimeout(res, 500))
      p = await (await planner.get(`/api/print/${job.id}`)).json()
      if (stages.at(-1) !== p.stage) stages.push(p.stage)
      expect(p.percent).toBeGreaterThanOrEqual(0)
    }
    expect(p.stage, p.error).toBe('done')
    const f = await planner.get(`/api/print/${job.id}/file`)
    expect(f.status).toBe(200)
    return { bytes: Buffer.from(await f.arrayBuffer()), type: f.headers.get('content-type'), stages, legend: p.legend as string[], bounds: p.bounds as number[] }
  }

  beforeAll(async () => {
    await ensureWebBuild({ quiet: true })
    s = await startServer({ port: 0, databaseUrl: inject('embeddedUrl'), seedScale: false, quiet: true, webDist })
    planner = await loginAs(s, 'planner', '530600000000')
    dir = await mkdtemp(path.join(os.tmpdir(), 'gridwatch-print-'))
    // The sheets are kept to look at; a fresh checkout has no artifacts folder yet.
    await mkdir(artifactsDir, { recursive: true })
    // A county with households (the test data fills one): a map of an empty county proves little.
    const [c] = await s.db.sql`SELECT code, name FROM admin_units u WHERE level = 'county'
      AND EXISTS (SELECT 1 FROM grids g WHERE starts_with(g.code, substr(u.code, 1, 6))) ORDER BY code LIMIT 1`
    county = c as typeof county
  })
  afterAll(async () => {
    await s?.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('A4 PNG at 300 dpi: 3508 × 2480, the map drawn, the legend there', async () => {
    const { bytes, type, stages } = await print({ unit: county.code, format: 'png', size: 'a4', analysis: { name: 'shelter_distance', params: { distance: 500 } } })
    expect(type).toBe('image/png')
    expect(stages.at(-1)).toBe('done')
    const png = PNG.sync.read(bytes)
    expect(Math.abs(png.width - 3508)).toBeLessThanOrEqual(3)
    expect(Math.abs(png.height - 2480)).toBeLessThanOrEqual(3)
    await writeFile(path.join(artifactsDir, 'print-a4.png'), bytes)
    // The map area (left, middle of the page): drawn, many colours, not white.
    const map = look(png, 0.1, 0.2, 0.7, 0.8)
    expect(map.ink).toBeGreaterThan(0.5)
    expect(map.colours).toBeGreaterThan(20)
    // The legend column (right): text and swatches on white.
    const legend = look(png, 0.85, 0.1, 0.98, 0.5)
    expect(legend.ink).toBeGreaterThan(0.01)
    expect(legend.ink).toBeLessThan(0.6)
    // The analysis layer is in the legend's red.
    let red = 0
    for (let i = 0; i < png.data.length; i += 4 * 7) if (png.data[i] > 240 && png.data[i + 1] < 40 && png.data[i + 2] > 50 && png.data[i + 2] < 90) red++
    expect(red).toBeGreaterThan(0)
  })

  it.skipIf(!havePoppler)('A3 PDF: page size in points, title, legend, date and source as text', async () => {
    const { bytes, type } = await print({ unit: county.code, format: 'pdf', size: 'a3', title: '测试出图' })
    expect(type).toBe('application/pdf')
    const file = path.join(dir, 'a3.pdf')
    await writeFile(file, bytes)
    const info = execFileSync('pdfinfo', [file]).toString()
    // A3 landscape: 420 × 297 mm = 1190.55 × 841.89 pt.
    const [, w, h] = /Page size:\s+([\d.]+) x ([\d.]+) pts/.exec(info)!
    expect(Math.abs(Number(w) - 1190.55)).toBeLessThan(1.5)
    expect(Math.abs(Number(h) - 841.89)).toBeLessThan(1.5)
    expect(info).toMatch(/Pages:\s+1\n/)
    execFileSync('pdftoppm', ['-r', '30', '-png', '-singlefile', file, path.join(artifactsDir, 'print-a3-pdf')])
    const text = execFileSync('pdftotext', [file, '-']).toString()
    // A whole county: households as aggregate circles, not single dots.
    for (const want of ['测试出图', '图例', '汇总圆', '避险点', '制图日期', '数据来源']) expect(text, want).toContain(want)
    expect(text).not.toContain('红色户（')
    // The map is an image in the page.
    expect(execFileSync('pdfimages', ['-list', file]).toString().split('\n').length).toBeGreaterThan(3)
  })

  /** An active hazard site with a shelter near it and households round both: a view a planner zooms to. */
  async function hazardView() {
    const [v] = await s.db.sql`
      SELECT h.danger_level, ST_X(h.geom) AS hx, ST_Y(h.geom) AS hy, ST_X(sh.geom) AS sx, ST_Y(sh.geom) AS sy
      FROM hazard_sites h JOIN LATERAL (SELECT geom FROM shelters ORDER BY shelters.geom <-> h.geom LIMIT 1) sh ON true
      WHERE h.status = 'active' AND ST_DWithin(h.geom, sh.geom, 0.012)
        AND (SELECT count(*) FROM households x WHERE ST_DWithin(x.geom, h.geom, 0.01)) > 20
      ORDER BY h.code LIMIT 1`
    expect(v, 'a hazard site with a shelter near it in the test data').toBeDefined()
    const pad = 0.006
    const bbox = [Math.min(v.hx, v.sx) - pad, Math.min(v.hy, v.sy) - pad, Math.max(v.hx, v.sx) + pad, Math.max(v.hy, v.sy) + pad]
    return { bbox, dangerLevel: v.danger_level as string }
  }
  /** Risk levels of the households inside a box. */
  const risksIn = async (b: number[]) => (await s.db.sql`
    SELECT DISTINCT risk_level FROM households WHERE geom && ST_MakeEnvelope(${b[0]}, ${b[1]}, ${b[2]}, ${b[3]}, 4326)`).map((r) => r.risk_level as string).sort()
  /** The printed box holds the asked one and fits it on one side (the other follows the paper's shape). */
  function expectFits(bounds: number[], bbox: number[]) {
    expect(bounds[0]).toBeLessThanOrEqual(bbox[0] + 1e-6)
    expect(bounds[1]).toBeLessThanOrEqual(bbox[1] + 1e-6)
    expect(bounds[2]).toBeGreaterThanOrEqual(bbox[2] - 1e-6)
    expect(bounds[3]).toBeGreaterThanOrEqual(bbox[3] - 1e-6)
    const wider = (bounds[2] - bounds[0]) / (bbox[2] - bbox[0])
    const taller = (bounds[3] - bounds[1]) / (bbox[3] - bbox[1])
    expect(Math.min(wider, taller)).toBeLessThan(1.03)
  }

  it('the print API takes every layer group the map has', () => {
    expect([...printLayerGroups].sort()).toEqual(Object.keys(layerGroups).sort())
  })

  it('prints the open problem reports the map shows, with their urgency in the legend', async () => {
    const [g] = await s.db.sql`SELECT g.code, substr(g.code, 1, 12) AS village, ST_X(ST_PointOnSurface(g.geom)) AS x, ST_Y(ST_PointOnSurface(g.geom)) AS y
                               FROM grids g WHERE g.kind = 'basic'
                                 -- a grid with no other report near it: other suites and the demo file reports too
                                 AND NOT EXISTS (SELECT 1 FROM reports o WHERE ST_DWithin(o.geom, g.geom, 0.03))
                               ORDER BY g.code LIMIT 1`
    const [r] = await s.db.sql`
      INSERT INTO reports (type, urgency, geom, grid_code, level, unit_code, reported_by_name, reported_at, received_at, level_since)
      VALUES ('road_cut', 'critical', ST_SetSRID(ST_MakePoint(${g.x}, ${g.y}), 4326), ${g.code}, 'township', ${g.village}, '测试', now(), now(), now())
      RETURNING id`
    try {
      const pad = 0.01
      const { bytes, legend } = await print({ unit: '530600000000', format: 'png', size: 'a4', orientation: 'landscape',
        bbox: [g.x - pad, g.y - pad, g.x + pad, g.y + pad], layers: ['reports'], title: '问题上报' })
      expect(legend).toContain('report-critical')
      expect(legend.filter((k) => /^(household|grid|hazard|shelter)/.test(k))).toEqual([])
      // Suites beside this one file reports into the same database: an urgency is
      // listed only when an open report of it lies in the box (read after the print).
      const others = (await s.db.sql`SELECT DISTINCT 'report-' || urgency AS k FROM reports
        WHERE id <> ${r.id} AND state <> 'closed' AND geom && ST_MakeEnvelope(${g.x - pad}, ${g.y - pad}, ${g.x + pad}, ${g.y + pad}, 4326)`).map((o) => o.k as string)
      expect(legend.filter((k) => /^report-(urgent|normal)$/.test(k) && !others.includes(k))).toEqual([])
      const png = PNG.sync.read(bytes)
      await writeFile(path.join(artifactsDir, 'print-a4-reports.png'), bytes)
      // The dot in the middle of the map, and its swatch in the legend column.
      expect(pixelsOf(png, reportColor.critical, [0.3, 0.3, 0.6, 0.7])).toBeGreaterThan(20)
      expect(pixelsOf(png, reportColor.critical, [0.78, 0.03, 0.99, 0.6])).toBeGreaterThan(20)
    } finally {
      await s.db.sql`DELETE FROM reports WHERE id = ${r.id}`
    }
  })

  it('prints the view it is given: A3 PNG at 300 dpi, the asked box, a legend of only the layers drawn', async () => {
    const { bbox, dangerLevel } = await hazardView()
    const { bytes, legend, bounds } = await print({ unit: '530600000000', format: 'png', size: 'a3', orientation: 'portrait', bbox, layers: ['hazards', 'shelters'], title: '视图出图' })
    const png = PNG.sync.read(bytes)
    // A3 portrait at 300 dpi: 297 × 420 mm = 3508 × 4961 px (the page is whole CSS pixels: within 0.2%).
    expect(Math.abs(png.width - 3508)).toBeLessThanOrEqual(3)
    expect(Math.abs(png.height - 4961)).toBeLessThanOrEqual(10)
    // And says so: a GIS or layout tool opens it at its printed size.
    expect(dpiOf(bytes)).toBe(300)
    await writeFile(path.join(artifactsDir, 'print-a3-view.png'), bytes)
    expectFits(bounds, bbox)
    expect(legend).toContain('shelter')
    expect(legend).toContain(`hazard-${dangerLevel}`)
    expect(legend.filter((k) => /^(household|grid|analysis|route|evac)/.test(k))).toEqual([])
    // On the sheet: the legend column (right) has the shelter's and the site's swatches and no household colour.
    const legendBox = [0.78, 0.03, 0.99, 0.6]
    expect(pixelsOf(png, shelterColor, legendBox)).toBeGreaterThan(100)
    expect(pixelsOf(png, dangerColor[dangerLevel], legendBox)).toBeGreaterThan(50)
    expect(pixelsOf(png, riskColor.red, legendBox) + pixelsOf(png, riskColor.green, legendBox)).toBe(0)
    expect(look(png, 0.05, 0.1, 0.7, 0.9).ink).toBeGreaterThan(0.5)
  })

  it.skipIf(!havePoppler)('prints the same view with households and grids: the legend names each risk level drawn (pdftotext)', async () => {
    const { bbox } = await hazardView()
    const { bytes, legend, bounds } = await print({ unit: '530600000000', format: 'pdf', size: 'a4', bbox, layers: ['households', 'grids', 'labels'] })
    expectFits(bounds, bbox)
    const households = legend.filter((k) => k.startsWith('household-')).map((k) => k.slice('household-'.length)).sort()
    // Every level inside the asked box is drawn; none is listed that has no household in the printed box (edges: a dot's radius).
    const inside = await risksIn(bbox)
    const e = 0.0005
    const printed = await risksIn([bounds[0] - e, bounds[1] - e, bounds[2] + e, bounds[3] + e])
    expect(inside.length).toBeGreaterThan(0)
    for (const r of inside) expect(households).toContain(r)
    for (const r of households) expect(printed).toContain(r)
    expect(legend.some((k) => k.startsWith('grid-'))).toBe(true)
    expect(legend.filter((k) => /^(shelter|hazard)/.test(k))).toEqual([])
    const file = path.join(dir, 'view.pdf')
    await writeFile(file, bytes)
    const text = execFileSync('pdftotext', [file, '-']).toString()
    const label = { red: '红色户（', yellow: '黄色户（', green: '绿色户（' } as Record<string, string>
    for (const r of households) expect(text).toContain(label[r])
    for (const r of ['red', 'yellow', 'green'].filter((x) => !households.includes(x))) expect(text).not.toContain(label[r])
    expect(text).not.toContain('避险点')
    expect(text).not.toContain('隐患点')
  })

  it('never loads from the Host a request names: the render reads the server’s own loopback address under a session of its own, gone after the job', async () => {
    // Another server on this machine, standing in for whatever a forged Host could name: it must never hear from the render.
    const heard: { url?: string; cookie?: string }[] = []
    const other = http.createServer((req, res) => {
      heard.push({ url: req.url, cookie: req.headers.cookie })
      res.end('<html><script>window.__printReady = true</script></html>')
    })
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r))
    const forged = `127.0.0.1:${(other.address() as AddressInfo).port}`
    const owner = await loginAs(s, 'planner', '530600000000')
    const started = vi.spyOn(s.sessions, 'startJob')
    try {
      const body = JSON.stringify({ unit: county.code, format: 'png', size: 'a4', layers: ['grids', 'labels'] })
      // fetch() will not send a Host of our choosing: node:http will.
      const posted = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: s.port, method: 'POST', path: '/api/print', headers: {
          Host: forged, 'X-Forwarded-Host': forged, Cookie: owner.cookie, 'X-CSRF-Token': owner.csrfToken, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body),
        } }, (res) => {
          let text = ''
          res.on('data', (d) => (text += d))
          res.on('end', () => resolve({ status: res.statusCode!, body: text }))
        })
        req.on('error', reject)
        req.end(body)
      })
      expect(posted.status, posted.body).toBe(202)
      const { id } = JSON.parse(posted.body)
      // The caller logs out at once: the render does not ride on their cookie.
      expect((await owner.send('POST', '/api/auth/logout', {})).status).toBe(200)
      const again = await login(s, owner.username, TEST_PASSWORD)
      let p = { stage: 'queued', error: null as string | null }
      for (let i = 0; i < 480 && p.stage !== 'done' && p.stage !== 'failed'; i++) {
        await new Promise((res) => setTimeout(res, 500))
        p = await (await again.get(`/api/print/${id}`)).json()
      }
      expect(heard).toEqual([])
      expect(p.stage, p.error ?? '').toBe('done')
      expect((await again.get(`/api/print/${id}/file`)).headers.get('content-type')).toBe('image/png')
      // One session made for the job, as its owner; dead now that the job is over.
      expect(started).toHaveBeenCalledTimes(1)
      expect(started.mock.calls[0][0]).toBe(owner.userId)
      const { token } = await started.mock.results[0].value
      for (const path of [`/api/units/${county.code}`, '/tiles/households/14/0/0.mvt']) {
        expect((await fetch(s.url + path, { headers: { Cookie: `gw_session=${token}` } })).status, path).toBe(401)
      }
    } finally {
      started.mockRestore()
      await new Promise((r) => other.close(r))
    }
  })

  it('the render’s browser reaches its own origin and nothing else: not another port, name or address', async () => {
    const heard: string[] = []
    const other = http.createServer((req, res) => {
      heard.push(req.url ?? '')
      res.end('<html>another server</html>')
    })
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r))
    const elsewhere = (other.address() as AddressInfo).port
    const own = `http://127.0.0.1:${s.port}`
    const browser = await chromium.launch({ executablePath: exe!, headless: true, args: renderBrowserArgs([own]) })
    try {
      // Going there, which no CSP of ours governs: only the network wall decides.
      const page = await browser.newPage()
      expect((await page.goto(`${own}/api/health`))?.status()).toBe(200)
      for (const url of [`http://127.0.0.1:${elsewhere}/navigate`, `http://localhost:${elsewhere}/navigate`, `http://localhost:${s.port}/api/health`,
        `http://[::1]:${s.port}/api/health`, 'http://169.254.169.254/latest/meta-data/', 'http://example.com/']) {
        await expect(page.goto(url), url).rejects.toThrow(/ERR_PROXY_CONNECTION_FAILED/)
      }
      expect(heard).toEqual([])
    } finally {
      await browser.close()
      await new Promise((r) => other.close(r))
    }
  })

  it('refuses bad requests before rendering, and roles that may not export', async () => {
    for (const body of [{ unit: county.code, format: 'tiff' }, { unit: 'abc', format: 'png' }, { unit: county.code, format: 'png', size: 'a5' },
      { unit: county.code, format: 'png', bbox: [105, 28, 104, 27] }, { unit: county.code, format: 'png', analysis: { name: 'worker_load', params: { limit: 0 } } },
      { unit: county.code, format: 'png', analysis: { name: 'nope', params: {} } }, { unit: county.code, format: 'png', layers: ['nope'] },
      { unit: county.code, format: 'png', layers: 'households' }, { unit: county.code, format: 'png', lang: 'fr' }]) {
      const r = await planner.send('POST', '/api/print', body)
      expect(r.status, JSON.stringify(body)).toBe(400)
    }
    expect((await planner.get('/api/print/0123456789abcdef01234567')).status).toBe(404)
    const viewer = await loginAs(s, 'viewer', '530600000000')
    expect((await viewer.send('POST', '/api/print', { unit: county.code, format: 'png' })).status).toBe(403)
  })
})
