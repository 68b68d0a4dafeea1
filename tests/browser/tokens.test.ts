/**
 * The access tokens section of the page (issue #22): a person makes a token, sees it once with the QGIS tile
 * URL built from the page's own address, the token reads a tile, and revoking it in the page stops it.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { cliActor, createAccount } from '../../api/auth/accounts.ts'
import { startServer, type RunningServer } from '../../api/server.ts'
import { ensureWebBuild, webDist } from '../../scripts/web-build.ts'
import { zh } from '../../web/src/i18n/zh.ts'
import { chromiumPath, collectErrors, launch, screenshot, waitForMap } from '../helpers/browser.ts'
import { TEST_PASSWORD } from '../helpers/session.ts'

const exe = chromiumPath()

describe.skipIf(!exe)('access tokens in Chromium', () => {
  let server: RunningServer
  let browser: Browser

  beforeAll(async () => {
    await ensureWebBuild({ quiet: true })
    server = await startServer({ port: 0, databaseUrl: inject('embeddedUrl'), seedScale: false, quiet: true, webDist })
    browser = await launch(exe!)
  })
  afterAll(async () => {
    if (server) await server.db.sql`DELETE FROM access_tokens`.catch(() => {})
    await browser?.close()
    await server?.close()
  })

  it('makes a token shown once with a QGIS URL of the page\'s own address, lists it, and revokes it', async () => {
    const username = `btoken${Date.now() % 100000}`
    await createAccount(server.db.sql, { username, displayName: '浏览器规划人员', role: 'planner', unitCode: '530600000000', password: TEST_PASSWORD }, cliActor('test'))
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } })
    const errors = collectErrors(page)
    await page.goto(server.url + '/')
    await page.getByTestId('login-form').waitFor()
    await page.fill('input[name=username]', username)
    await page.fill('input[name=password]', TEST_PASSWORD)
    await page.click('button[type=submit]')
    await waitForMap(page)

    await page.getByTestId('tokens-open').click()
    const panel = page.getByTestId('tokens-panel')
    await panel.waitFor()
    // The list comes after the panel opens.
    await expect.poll(() => panel.innerText()).toContain(zh.tokens.none)
    await panel.getByLabel(zh.tokens.name).fill('办公室 QGIS')
    await panel.getByTestId('token-create').click()
    await page.getByTestId('token-secret').waitFor()
    const secret = await page.getByTestId('token-value').inputValue()
    expect(secret).toMatch(/^gw_[A-Za-z0-9_-]{43}$/)
    const tileUrl = await page.getByTestId('token-tile-url').inputValue()
    const origin = await page.evaluate(() => location.origin)
    expect(tileUrl).toBe(`${origin}/tiles/grids/{z}/{x}/{y}.mvt?access_token=${secret}`)
    expect(await panel.innerText()).toContain(zh.tokens.once)
    await expect.poll(() => panel.getByTestId('token-list').innerText()).toContain('办公室 QGIS')

    // The URL works as QGIS would use it.
    const tile = tileUrl.replace(origin, server.url).replace('{z}/{x}/{y}', '8/202/110')
    expect([200, 204]).toContain((await fetch(tile)).status)

    await panel.getByRole('button', { name: zh.tokens.revoke }).click()
    await expect.poll(() => panel.innerText()).toContain(zh.tokens.revoked)
    await expect.poll(() => panel.innerText()).toContain(zh.tokens.none)
    expect((await fetch(tile)).status).toBe(401)
    expect(errors).toEqual([])
    await page.close()
  })

  it('fits the top bar of an admin (every button) at 1366 px, in English too', async () => {
    const username = `btokenadm${Date.now() % 100000}`
    await createAccount(server.db.sql, { username, displayName: '浏览器管理员', role: 'admin', unitCode: '530600000000', password: TEST_PASSWORD }, cliActor('test'))
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } })
    await page.goto(server.url + '/')
    await page.getByTestId('login-form').waitFor()
    await page.fill('input[name=username]', username)
    await page.fill('input[name=password]', TEST_PASSWORD)
    await page.click('button[type=submit]')
    await waitForMap(page)
    for (const lang of ['zh', 'en']) {
      if (lang === 'en') await page.getByTestId('lang-switch').click()
      const right = await page.getByTestId('account').locator('button').evaluateAll((bs) => Math.max(...bs.map((b) => b.getBoundingClientRect().right)))
      expect(right, lang).toBeLessThanOrEqual(1366)
      await screenshot(page, `topbar-tokens-${lang}-1366.png`)
    }
    await page.close()
  })
})
