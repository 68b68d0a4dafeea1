/**
 * Print maps: our own web app's /print page (web/src/print/PrintPage.tsx)
 * opened in Debian's Chromium through playwright-core, under the requesting
 * user's session (so the sheet shows what they may see), then printed to PDF
 * at the paper size or captured as a PNG at 300 dpi. A render is a job with
 * stages, so a client can show progress; finished files wait 10 minutes.
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import { chromium } from 'playwright-core'
import { log } from '../log.ts'

export interface PrintRequest {
  unit: string
  format: 'png' | 'pdf'
  size: 'a4' | 'a3'
  orientation: 'landscape' | 'portrait'
  title?: string
  bbox?: [number, number, number, number]
  /** Layer groups shown (web/src/map/style.ts layerGroups); absent: the map's defaults. */
  layers?: string[]
  lang: 'zh' | 'en'
  analysis?: { name: string; params: Record<string, string | number | boolean> }
}

export type Stage = 'queued' | 'starting' | 'loading' | 'rendering' | 'done' | 'failed'
const percent: Record<Stage, number> = { queued: 0, starting: 10, loading: 30, rendering: 80, done: 100, failed: 100 }

export interface Job {
  id: string; userId: number; stage: Stage; error?: string; file?: Buffer; type?: string; name?: string; at: number
  /** What the sheet drew: its legend's entries and the map's box (west, south, east, north). */
  legend?: string[]; bounds?: number[]
}

const paperMm = { a4: [297, 210], a3: [420, 297] } as const
const DPI = 300
/** CSS pixels are 1/96 inch: the page in CSS px, and the scale that makes it 300 dpi. */
const CSS_DPI = 96

export function pagePixels(size: 'a4' | 'a3', orientation: 'landscape' | 'portrait') {
  const [w, h] = orientation === 'portrait' ? [paperMm[size][1], paperMm[size][0]] : paperMm[size]
  return { mm: [w, h], css: [Math.round((w / 25.4) * CSS_DPI), Math.round((h / 25.4) * CSS_DPI)], px: [Math.round((w / 25.4) * DPI), Math.round((h / 25.4) * DPI)] }
}

export function chromiumPath(): string | null {
  const p = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
  return fs.existsSync(p) ? p : null
}

const jobs = new Map<string, Job>()
const KEEP_MS = 10 * 60_000
/** One render at a time: each holds a Chromium with a 300 dpi WebGL canvas (hundreds of MB). */
let queue: Promise<unknown> = Promise.resolve()

export const getJob = (id: string) => jobs.get(id)

export function startPrint(origin: string, sessionToken: string, userId: number, req: PrintRequest): Job {
  for (const [id, j] of jobs) if (Date.now() - j.at > KEEP_MS) jobs.delete(id)
  const job: Job = { id: randomBytes(12).toString('hex'), userId, stage: 'queued', at: Date.now() }
  jobs.set(job.id, job)
  queue = queue.then(() => render(origin, sessionToken, req, job)).catch((e: Error) => {
    job.stage = 'failed'
    job.error = e.message
    log.warn(`print ${job.id} failed: ${e.message}`)
  })
  return job
}

export const progressOf = (j: Job) => ({ id: j.id, stage: j.stage, percent: percent[j.stage], error: j.error ?? null, legend: j.legend ?? null, bounds: j.bounds ?? null })

async function render(origin: string, sessionToken: string, req: PrintRequest, job: Job) {
  const exe = chromiumPath()
  if (!exe) throw new Error('no Chromium on the server (apt-get install chromium, or set CHROMIUM_PATH)')
  job.stage = 'starting'
  const { css, px } = pagePixels(req.size, req.orientation)
  const browser = await chromium.launch({
    executablePath: exe, headless: true,
    args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
  try {
    // A PNG is the page at 300 dpi: the CSS page scaled by 300/96. A PDF is vector text around the map image.
    const scale = req.format === 'png' ? px[0] / css[0] : 2
    const ctx = await browser.newContext({ viewport: { width: css[0], height: css[1] }, deviceScaleFactor: scale })
    await ctx.addCookies([{ name: 'gw_session', value: sessionToken, url: origin, httpOnly: true, sameSite: 'Lax' }])
    const page = await ctx.newPage()
    const q = new URLSearchParams({ unit: req.unit, size: req.size, orient: req.orientation })
    if (req.title) q.set('title', req.title)
    if (req.bbox) q.set('bbox', req.bbox.join(','))
    if (req.layers) q.set('layers', req.layers.join(','))
    q.set('lang', req.lang)
    if (req.analysis) {
      q.set('analysis', req.analysis.name)
      for (const [k, v] of Object.entries(req.analysis.params)) q.set(`p.${k}`, String(v))
    }
    job.stage = 'loading'
    await page.goto(`${origin}/print?${q}`)
    await page.waitForFunction(() => window.__printReady === true || window.__printError !== undefined, null, { timeout: 120_000 })
    const err = await page.evaluate(() => window.__printError)
    if (err) throw new Error(`print page: ${err}`)
    Object.assign(job, await page.evaluate(() => ({ legend: window.__printLegend, bounds: window.__printBounds })))
    job.stage = 'rendering'
    // Screen styles in the PDF too: the app's print rules (the /cards page's A4 with margins) are not this sheet's.
    if (req.format === 'pdf') await page.emulateMedia({ media: 'screen' })
    const file = req.format === 'pdf'
      ? await page.pdf({ margin: { top: '0', right: '0', bottom: '0', left: '0' }, width: `${pagePixels(req.size, req.orientation).mm[0]}mm`, height: `${pagePixels(req.size, req.orientation).mm[1]}mm`, printBackground: true, pageRanges: '1' })
      : await page.screenshot({ type: 'png', clip: { x: 0, y: 0, width: css[0], height: css[1] } })
    job.file = file
    job.type = req.format === 'pdf' ? 'application/pdf' : 'image/png'
    job.name = `map-${req.unit}-${req.size}.${req.format}`
    job.stage = 'done'
  } finally {
    await browser.close()
  }
}

declare global {
  interface Window { __printReady?: boolean; __printError?: string; __printLegend?: string[]; __printBounds?: number[] }
}
