/**
 * Print maps rendered by the server's Chromium and checked as files: the PNG
 * is A4 at 300 dpi (3508 × 2480) with a drawn map area and a legend; the PDF
 * page is A3 (in points) and its text has the title, legend, date and source
 * (pdftotext, poppler-utils). Bad requests are 400 before any render.
 */
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { PNG } from 'pngjs'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { ensureWebBuild, webDist } from '../../scripts/web-build.ts'
import { artifactsDir, chromiumPath } from '../helpers/browser.ts'
import { loginAs, type Client } from '../helpers/session.ts'

const exe = chromiumPath()
const havePoppler = (() => {
  try {
    execFileSync('pdfinfo', ['-v'], { stdio: 'ignore' })
    return true
  } catch {
    if (process.env.CI) throw new Error('CI must check PDFs: install poppler-utils')
    return false
  }
})()

describe.skipIf(!exe)('print maps', () => {
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
    for (let i = 0; i < 240 && p.stage !== 'done' && p.stage !== 'failed'; i++) {
      await new Promise((res) => setTimeout(res, 500))
      p = await (await planner.get(`/api/print/${job.id}`)).json()
      if (stages.at(-1) !== p.stage) stages.push(p.stage)
      expect(p.percent).toBeGreaterThanOrEqual(0)
    }
    expect(p.stage, p.error).toBe('done')
    const f = await planner.get(`/api/print/${job.id}/file`)
    expect(f.status).toBe(200)
    return { bytes: Buffer.from(await f.arrayBuffer()), type: f.headers.get('content-type'), stages }
  }

  beforeAll(async () => {
    await ensureWebBuild({ quiet: true })
    s = await startServer({ port: 0, databaseUrl: inject('embeddedUrl'), seedScale: false, quiet: true, webDist })
    planner = await loginAs(s, 'planner', '530600000000')
    dir = await mkdtemp(path.join(os.tmpdir(), 'gridwatch-print-'))
    const [c] = await s.db.sql`SELECT code, name FROM admin_units WHERE level = 'county' ORDER BY code LIMIT 1`
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
    /** Distinct colours and the share of non-white pixels in a box given as fractions of the page. */
    const look = (x0: number, y0: number, x1: number, y1: number) => {
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
    // The map area (left, middle of the page): drawn, many colours, not white.
    const map = look(0.1, 0.2, 0.7, 0.8)
    expect(map.ink).toBeGreaterThan(0.5)
    expect(map.colours).toBeGreaterThan(20)
    // The legend column (right): text and swatches on white.
    const legend = look(0.85, 0.1, 0.98, 0.5)
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
    for (const want of ['测试出图', '图例', '红色户', '避险点', '制图日期', '数据来源']) expect(text, want).toContain(want)
    // The map is an image in the page.
    expect(execFileSync('pdfimages', ['-list', file]).toString().split('\n').length).toBeGreaterThan(3)
  })

  it('refuses bad requests before rendering, and roles that may not export', async () => {
    for (const body of [{ unit: county.code, format: 'tiff' }, { unit: 'abc', format: 'png' }, { unit: county.code, format: 'png', size: 'a5' },
      { unit: county.code, format: 'png', bbox: [105, 28, 104, 27] }, { unit: county.code, format: 'png', analysis: { name: 'worker_load', params: { limit: 0 } } },
      { unit: county.code, format: 'png', analysis: { name: 'nope', params: {} } }]) {
      const r = await planner.send('POST', '/api/print', body)
      expect(r.status, JSON.stringify(body)).toBe(400)
    }
    expect((await planner.get('/api/print/0123456789abcdef01234567')).status).toBe(404)
    const viewer = await loginAs(s, 'viewer', '530600000000')
    expect((await viewer.send('POST', '/api/print', { unit: county.code, format: 'png' })).status).toBe(403)
  })
})
