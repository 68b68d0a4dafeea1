/**
 * Print maps: our own web app's /print page (web/src/print/PrintPage.tsx)
 * opened in Debian's Chromium through playwright-core, then printed to PDF at
 * the paper size or captured as a PNG at 300 dpi. The browser goes to this
 * server's own loopback address, never to a name from the request (a forged
 * Host would have had it load, and screenshot, any address with the user's
 * cookie), under a read-only session made for the job (so the sheet shows
 * what the user may see), and can reach no other origin but the configured
 * basemap's (origins.ts). A render is a job with stages and a place in the queue
 * (api/limits/work.ts), so a client can show progress; finished files wait
 * 10 minutes.
 */
import { withDpi } from './png-dpi.ts'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import { chromium } from 'playwright-core'
import { SESSION_COOKIE, type SessionStore } from '../auth/sessions.ts'
import type { Place } from '../limits/work-limiter.ts'
import { log } from '../../core/log.ts'
import { walledArgs } from './origins.ts'

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
  place: Place
}

export interface PrintSetup {
  /** http://127.0.0.1:<port>: this server as the render's browser reaches it; undefined until it listens. */
  origin(): string | undefined
  /** Origins besides it the page may load from: the configured basemap's (origins.ts). */
  alsoAllowed: string[]
  sessions: SessionStore
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

const KEEP_MS = 10 * 60_000
/** A job's session outlives no render: the page's wait (2 minutes) and Chromium's start and printing fit well within it. */
const SESSION_MS = 5 * 60_000

/** The print jobs of one app; each render waits for its place (one at a time: a Chromium with a 300 dpi WebGL canvas is hundreds of MB). */
export class PrintJobs {
  private jobs = new Map<string, Job>()

  constructor(private setup: PrintSetup) {}

  get = (id: string) => this.jobs.get(id)

  /** Whether renders can run here at all: the server listens (the browser's origin). */
  ready = () => this.setup.origin() !== undefined

  /** A job for the user in the place given; it renders when the place's turn comes and gives it back when done, however it ends. */
  start(place: Place, userId: number, req: PrintRequest): Job {
    for (const [id, j] of this.jobs) if ((j.stage === 'done' || j.stage === 'failed') && Date.now() - j.at > KEEP_MS) this.jobs.delete(id)
    const job: Job = { id: randomBytes(12).toString('hex'), userId, stage: 'queued', at: Date.now(), place }
    this.jobs.set(job.id, job)
    place.ready
      .then(() => render(this.setup, userId, req, job))
      .catch((e: Error) => {
        job.stage = 'failed'
        job.error = e.message
        log.warn(`print ${job.id} failed: ${e.message}`)
      })
      .finally(() => {
        job.at = Date.now()
        place.release()
      })
    return job
  }
}

export const progressOf = (j: Job) => ({
  id: j.id, stage: j.stage, percent: percent[j.stage], position: j.stage === 'queued' ? j.place.position() || null : null,
  error: j.error ?? null, legend: j.legend ?? null, bounds: j.bounds ?? null,
})

/** The render's Chromium: WebGL without a GPU, no calls home, and no origin but `origins` (the first: this server). */
export const renderBrowserArgs = (origins: string[]) => [
  '--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', ...walledArgs(origins),
]

async function render(setup: PrintSetup, userId: number, req: PrintRequest, job: Job) {
  const exe = chromiumPath()
  if (!exe) throw new Error('no Chromium on the server (apt-get install chromium, or set CHROMIUM_PATH)')
  const origin = setup.origin()
  if (!origin) throw new Error('the server is not listening yet')
  job.stage = 'starting'
  const { css, px } = pagePixels(req.size, req.orientation)
  const browser = await chromium.launch({ executablePath: exe, headless: true, args: renderBrowserArgs([origin, ...setup.alsoAllowed]) })
  let session: { token: string; end(): void } | undefined
  try {
    // A PNG is the page at 300 dpi: the CSS page scaled by 300/96. A PDF is vector text around the map image.
    const scale = req.format === 'png' ? px[0] / css[0] : 2
    const ctx = await browser.newContext({ viewport: { width: css[0], height: css[1] }, deviceScaleFactor: scale })
    session = await setup.sessions.startJob(userId, SESSION_MS)
    await ctx.addCookies([{ name: SESSION_COOKIE, value: session.token, url: origin, httpOnly: true, sameSite: 'Lax' }])
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
      : withDpi(await page.screenshot({ type: 'png', clip: { x: 0, y: 0, width: css[0], height: css[1] } }), DPI)
    job.file = file
    job.type = req.format === 'pdf' ? 'application/pdf' : 'image/png'
    job.name = `map-${req.unit}-${req.size}.${req.format}`
    job.stage = 'done'
  } finally {
    session?.end()
    await browser.close()
  }
}

declare global {
  interface Window { __printReady?: boolean; __printError?: string; __printLegend?: string[]; __printBounds?: number[] }
}
