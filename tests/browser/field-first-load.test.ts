import fs from 'node:fs'
import path from 'node:path'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { inlineScriptHashes } from '../../api/security-headers.ts'
import { startServer, type RunningServer } from '../../api/server.ts'
import { ensureWebBuild, webDist } from '../../scripts/web-build.ts'
import { chromiumPath, collectErrors, launch } from '../helpers/browser.ts'
import { loginAs, type Client } from '../helpers/session.ts'

const exe = chromiumPath()

/**
 * The field app's first load on a slow line (issue #19): its scripts and
 * styles come inside the page, compressed, and the page asks who is logged in
 * and for the grid while the rest of it is still coming — the app takes those
 * answers instead of asking again. Order of requests, not timings (bench:field
 * measures the time).
 */
describe.skipIf(!exe)('the field app\'s first load', () => {
  let server: RunningServer
  let browser: Browser
  let worker: Client
  let grid: string
  let html: string

  beforeAll(async () => {
    await ensureWebBuild({ quiet: true })
    server = await startServer({ port: 0, databaseUrl: inject('embeddedUrl'), seedScale: false, quiet: true, webDist })
    const [g] = await server.db.sql`
      SELECT g.code FROM grids g WHERE g.kind = 'basic' AND (SELECT count(*) FROM households h WHERE h.grid_id = g.id) >= 2 ORDER BY g.code LIMIT 1`
    grid = g.code as string
    worker = await loginAs(server, 'grid_worker', grid)
    browser = await launch(exe!)
    html = fs.readFileSync(path.join(webDist, 'm', 'index.html'), 'utf8')
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  it('sends its scripts and styles inside the page, brotli- or gzip-compressed, the same bytes once decoded', async () => {
    // On a slow line a script the page names costs a round trip (2 s) after the page's own: none is named.
    expect(html).not.toMatch(/<script[^>]*\bsrc=/)
    expect(html).not.toMatch(/<link[^>]*rel="(?:stylesheet|modulepreload)"/)
    expect(html).toMatch(/<script type="module"[^>]*>[\s\S]{100000,}<\/script>/)
    const raw = fs.readFileSync(path.join(webDist, 'm', 'index.html'))
    for (const p of ['/m/', '/m/index.html', '/m/today']) {
      const ask = (encoding: string, h: Record<string, string> = {}) => fetch(`${server.url}${p}`, { headers: { 'Accept-Encoding': encoding, ...h } })
      // fetch decodes what it is sent: the decoded body must be the file itself.
      const br = await ask('gzip, deflate, br, zstd')
      expect(br.headers.get('content-encoding'), p).toBe('br')
      expect(br.headers.get('vary')?.toLowerCase()).toContain('accept-encoding')
      expect(br.headers.get('content-type')).toMatch(/text\/html/)
      // Never kept by the browser's cache unasked: a new version must reach the phone at its next signal.
      expect(br.headers.get('cache-control')).toBe('no-cache')
      expect(Buffer.from(await br.arrayBuffer()).equals(raw), p).toBe(true)
      // Asked again with its ETag (the service worker's refresh), an unchanged page is a 304 of no bytes.
      const tag = br.headers.get('etag')
      expect(tag).toBeTruthy()
      const again = await ask('gzip, deflate, br, zstd', { 'If-None-Match': tag! })
      expect(again.status).toBe(304)
      expect((await again.arrayBuffer()).byteLength).toBe(0)
      const gz = await ask('gzip')
      expect(gz.headers.get('content-encoding'), p).toBe('gzip')
      expect(Buffer.from(await gz.arrayBuffer()).equals(raw), p).toBe(true)
      // A client that takes no compression gets the file as it is.
      const plain = await ask('identity')
      expect(plain.headers.get('content-encoding')).toBeNull()
      expect(Buffer.from(await plain.arrayBuffer()).equals(raw)).toBe(true)
    }
    const onDisk = fs.readFileSync(path.join(webDist, 'm', 'index.html.br'))
    expect(onDisk.length).toBeLessThan(raw.length / 3)
    expect(brotliDecompressSync(onDisk).equals(raw)).toBe(true)
    expect(gunzipSync(fs.readFileSync(path.join(webDist, 'm', 'index.html.gz'))).equals(raw)).toBe(true)
  })

  it('allows exactly the page\'s own inline script by its hash, nothing inline besides', async () => {
    const res = await fetch(`${server.url}/m/`)
    const csp = res.headers.get('content-security-policy') ?? ''
    const scriptSrc = csp.split(';').map((d) => d.trim()).find((d) => d.startsWith('script-src')) ?? ''
    // The early questions and the app itself.
    const hashes = inlineScriptHashes(await res.text())
    expect(hashes).toHaveLength(2)
    expect(scriptSrc.split(/\s+/).sort()).toEqual(['script-src', "'self'", ...hashes].sort())
    expect(scriptSrc).not.toContain('unsafe-inline')
    // The hash is of the exact text: one character changed is another script, not allowed.
    expect(inlineScriptHashes(html.replace('/api/auth/me', '/api/auth/mf'))).not.toEqual(hashes)
    // Scripts with a src are the 'self' ones, never hashed.
    expect(inlineScriptHashes('<script type="module" src="/assets/x.js"></script><script>1</script>')).toHaveLength(1)
  })

  it('asks for the session and the grid while the page is still coming, in parallel, and does not ask again', async () => {
    const ctx = await browser.newContext({ viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true })
    try {
      const [name, value] = worker.cookie.split('=')
      await ctx.addCookies([{ name, value, url: server.url }])
      const page = await ctx.newPage()
      const errors = collectErrors(page)
      const started: string[] = []
      page.on('request', (r) => { const u = new URL(r.url()); started.push(u.pathname + u.search) })
      await page.goto(`${server.url}/m/`)
      await page.locator('[data-testid^=household-]').first().waitFor({ timeout: 30_000 })
      // Both asked first, beside each other, the grid not waiting for the session's answer.
      expect(started.filter((s) => s.startsWith('/api/')).slice(0, 2).sort()).toEqual(['/api/auth/me', '/api/field/today'])
      // The app took both answers: the session is not asked a second time before the households are listed.
      expect(started.filter((s) => s === '/api/auth/me')).toHaveLength(1)
      // Once started, nothing is left to be taken later (a read after a sync must be a fresh one).
      await page.waitForFunction(() => !('__fieldEarly' in window), null, { timeout: 10_000 })
      expect(errors).toEqual([])
    } finally {
      await ctx.close()
    }
  })

  it('with no session, the page\'s early questions end on the login form', async () => {
    const ctx = await browser.newContext({ viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true })
    try {
      const page = await ctx.newPage()
      const statuses = new Map<string, number>()
      page.on('response', (r) => { const u = new URL(r.url()); if (u.pathname.startsWith('/api/')) statuses.set(u.pathname, r.status()) })
      await page.goto(`${server.url}/m/`)
      await page.locator('input[name=username]').waitFor()
      expect(statuses.get('/api/field/today')).toBe(401)
      expect(await page.locator('[data-testid^=household-]').count()).toBe(0)
    } finally {
      await ctx.close()
    }
  })
})
