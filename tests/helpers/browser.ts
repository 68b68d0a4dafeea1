import fs from 'node:fs'
import path from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { projectRoot } from '../../core/config.ts'

export const artifactsDir = path.join(projectRoot, 'tests', 'artifacts')

/** Debian's Chromium (CHROMIUM_PATH overrides). Null when absent, which fails the run in CI. */
export function chromiumPath(): string | null {
  const p = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
  if (fs.existsSync(p)) return p
  if (process.env.CI) throw new Error(`CI must run the browser suite: no Chromium at ${p} (.ci/run installs Debian's chromium)`)
  console.warn(`no Chromium at ${p}: browser suite skipped (apt-get install chromium, or set CHROMIUM_PATH)`)
  return null
}

export function launch(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    // SwiftShader gives WebGL without a GPU; the network flags stop Chromium calling home on a closed network.
    args: [
      '--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
    ],
  })
}

/** Console errors and uncaught exceptions of a page, collected from the moment it opens. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`)
  })
  page.on('pageerror', (e) => errors.push(`page: ${e.stack ?? e.message}`))
  return errors
}

export async function waitForMap(page: Page, timeout = 60_000) {
  await page.waitForFunction(() => window.__gridwatch?.firstDrawMs !== undefined, null, { timeout })
}

export async function waitForIdle(page: Page, timeout = 60_000) {
  await page.waitForFunction(
    () => new Promise((resolve) => {
      const map = window.__gridwatch?.map
      if (!map) return resolve(false)
      if (map.loaded() && map.areTilesLoaded() && !map.isMoving()) return resolve(true)
      map.once('idle', () => resolve(true))
      setTimeout(() => resolve(false), 2000)
    }),
    null,
    { timeout },
  )
}

export async function screenshot(page: Page, name: string) {
  fs.mkdirSync(artifactsDir, { recursive: true })
  await page.screenshot({ path: path.join(artifactsDir, name) })
}

/** A page of its own (own context, so own cookies) logged in as `cookie` ("name=value"), opened at `url`, collecting errors. */
export async function openPage(browser: Browser, cookie: string, url: string, viewport = { width: 1600, height: 900 }) {
  const ctx = await browser.newContext({ viewport })
  const [name, value] = cookie.split('=')
  await ctx.addCookies([{ name, value, url: new URL(url).origin }])
  const page = await ctx.newPage()
  page.once('close', () => void ctx.close().catch(() => {}))
  const errors = collectErrors(page)
  await page.goto(url)
  return { page, errors }
}
