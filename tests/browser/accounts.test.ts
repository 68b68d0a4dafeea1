import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { cliActor, createAccount } from '../../api/auth/accounts.ts'
import type { Role } from '../../core/policy.ts'
import { startServer, type RunningServer } from '../../api/server.ts'
import { roleWords } from '../../core/words.ts'
import { ensureWebBuild, webDist } from '../../scripts/web-build.ts'
import { en } from '../../web/src/i18n/en.ts'
import { zh } from '../../web/src/i18n/zh.ts'
import { THROTTLE } from '../../api/auth/throttle-rules.ts'
import { fetchFrom, freshAddress } from '../helpers/from-address.ts'
import { chromiumPath, collectErrors, launch, screenshot, waitForMap } from '../helpers/browser.ts'
import { TEST_PASSWORD } from '../helpers/session.ts'

const exe = chromiumPath()

/** Logging in through the page, what each role is offered, and a visit recorded through the UI. */
describe.skipIf(!exe)('accounts in Chromium', () => {
  let server: RunningServer
  let browser: Browser
  let township: string
  let household: { id: number; householder: string }
  let n = 0
  // The login throttles' clock stands still here: a wait shown on screen does not run out while the page loads.
  const clock = Date.now()

  const account = async (role: Role, unitCode: string) => {
    const username = `b${role.replace('_', '')}${Date.now() % 100000}${n++}`
    await createAccount(server.db.sql, { username, displayName: `浏览器${roleWords[role].zh}`, role, unitCode, password: TEST_PASSWORD }, cliActor('test'))
    return username
  }

  async function logIn(page: Page, username: string, password = TEST_PASSWORD) {
    await page.getByTestId('login-form').waitFor()
    await page.fill('input[name=username]', username)
    await page.fill('input[name=password]', password)
    await page.click('button[type=submit]')
  }

  beforeAll(async () => {
    await ensureWebBuild({ quiet: true })
    server = await startServer({ port: 0, databaseUrl: inject('embeddedUrl'), seedScale: false, quiet: true, webDist, clock: () => new Date(clock) })
    browser = await launch(exe!)
    const [h] = await server.db.sql`
      SELECT h.id, h.householder, t.code AS township FROM households h JOIN grids g ON g.id = h.grid_id
      JOIN admin_units v ON v.id = g.village_id JOIN admin_units t ON t.id = v.parent_id ORDER BY h.id LIMIT 1`
    household = { id: h.id as number, householder: h.householder as string }
    township = h.township as string
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  it('asks for a login, refuses a wrong password with the server’s message, then opens the map; logout returns to the login', async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } })
    const errors = collectErrors(page)
    await page.goto(server.url + '/')
    await page.getByTestId('login-form').waitFor()
    await screenshot(page, 'login-1366x768.png')
    const username = await account('commander', township.slice(0, 6) + '000000')
    await logIn(page, username, 'wrong-password-1')
    await page.getByTestId('login-error').waitFor()
    expect(await page.getByTestId('login-error').innerText()).toBe('用户名或密码错误')
    await logIn(page, username)
    await waitForMap(page)
    expect(await page.getByTestId('account-name').innerText()).toBe('浏览器县级指挥')
    await page.getByTestId('logout').click()
    await page.getByTestId('login-form').waitFor()
    // The cookie is gone with the session: the data is closed again.
    expect(await page.evaluate(async () => (await fetch('/api/units/530600000000')).status)).toBe(401)
    // The browser reports the refused login (401) and the closed data as failed loads; nothing else.
    expect(errors.filter((e) => !/status of 401/.test(e))).toEqual([])
    await page.close()
  })

  it('lets township staff record a visit on their household and shows it in the history', async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } })
    const errors = collectErrors(page)
    await page.goto(`${server.url}/?record=household:${household.id}`)
    const username = await account('township', township)
    await logIn(page, username)
    await page.getByTestId('record-title').waitFor()
    expect(await page.getByTestId('record-title').innerText()).toBe(household.householder)
    const visits = async () => (await server.db.sql`SELECT count(*)::int AS n FROM visits WHERE household_id = ${household.id}`)[0].n as number
    const before = await visits()
    await page.getByTestId('action-visit').click()
    await page.fill('.record-actions textarea', '雨前入户，房屋无裂缝')
    await page.getByTestId('action-visit-save').click()
    await expect.poll(visits, { timeout: 10_000 }).toBe(before + 1)
    const [v] = await server.db.sql`SELECT note FROM visits WHERE household_id = ${household.id} ORDER BY id DESC LIMIT 1`
    expect(v.note).toBe('雨前入户，房屋无裂缝')
    await page.waitForFunction(() => document.querySelector('[data-testid=record-visit]')?.textContent?.includes('0 小时前'))
    await page.getByTestId('history-toggle').click()
    await page.getByTestId('history').waitFor()
    // The person's name, not their login name.
    expect(await page.getByTestId('history').innerText()).toContain('浏览器乡镇干部')
    await screenshot(page, 'household-visit-1366x768.png')
    expect(errors).toEqual([])
    await page.close()
  })

  it('shows a planner the household masked and offers no change', async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } })
    await page.goto(`${server.url}/?record=household:${household.id}`)
    await logIn(page, await account('planner', '530600000000'))
    await page.getByTestId('record-masked').waitFor()
    expect(await page.getByTestId('record-title').innerText()).not.toBe(household.householder)
    expect(await page.getByTestId('action-visit').count()).toBe(0)
    expect(await page.getByTestId('action-edit').count()).toBe(0)
    expect(await page.getByTestId('history-toggle').count()).toBe(0)
    await page.close()
  })

  it('gives an admin the account list; a new account must set its password first', async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } })
    const errors = collectErrors(page)
    await page.goto(server.url + '/')
    await logIn(page, await account('admin', '530600000000'))
    await page.getByRole('button', { name: zh.accounts.open }).click()
    const panel = page.getByTestId('accounts-panel')
    await panel.waitFor()
    const fresh = `new${Date.now() % 100000}`
    await panel.getByPlaceholder(zh.accounts.username).fill(fresh)
    await panel.getByPlaceholder(zh.accounts.displayName).fill('新网格员')
    await panel.locator('select').selectOption('planner')
    await panel.getByPlaceholder(zh.accounts.unit).fill('530600000000')
    await panel.getByPlaceholder(zh.accounts.password).fill('First-password-1')
    await panel.getByRole('button', { name: zh.accounts.create }).last().click()
    await panel.getByText(fresh, { exact: true }).waitFor()
    await screenshot(page, 'accounts-1366x768.png')
    expect(errors).toEqual([])
    await page.close()

    const second = await browser.newPage({ viewport: { width: 1366, height: 768 } })
    await second.goto(server.url + '/')
    await logIn(second, fresh, 'First-password-1')
    await second.getByTestId('password-form').waitFor()
    const inputs = second.locator('[data-testid=password-form] input')
    await inputs.nth(0).fill('First-password-1')
    await inputs.nth(1).fill('Second-password-2')
    await inputs.nth(2).fill('Second-password-2')
    await second.click('[data-testid=password-form] button[type=submit]')
    await waitForMap(second)
    await second.close()
  })

  it('shows an admin who is being slowed down at login, until when, and clears it', async () => {
    // Someone guesses a planner's password from one address until the server makes them wait.
    const victim = await account('planner', '530600000000')
    const from = freshAddress()
    const attempt = (password: string) => fetchFrom(from)(`${server.url}/api/auth/login`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: victim, password }),
    })
    for (let i = 0; i < THROTTLE.place.free; i++) expect((await attempt('wrong-password-1')).status).toBe(401)
    expect((await attempt(TEST_PASSWORD)).status).toBe(429)

    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } })
    const errors = collectErrors(page)
    await page.goto(server.url + '/')
    await logIn(page, await account('admin', '530600000000'))
    await page.getByRole('button', { name: zh.accounts.open }).click()
    const section = page.getByTestId('throttles')
    const row = section.locator('tr', { hasText: victim }).filter({ hasText: from })
    await row.waitFor()
    const text = await row.innerText()
    expect(text).toContain(zh.throttles.scopes.account_address)
    expect(text).toContain(String(THROTTLE.place.free))
    // Until when it waits, in Beijing time: the server's clock plus the first wait.
    const until = new Date(clock + THROTTLE.place.baseSeconds * 1000).toLocaleTimeString('en-GB', { timeZone: 'Asia/Shanghai', hour12: false })
    expect(text).toContain(until)
    expect(text).not.toContain(zh.throttles.now)
    // No raw codes on screen.
    expect(await section.innerText()).not.toMatch(/account_address|account_device|too_many|null|undefined/)
    await screenshot(page, 'accounts-throttles-1366x768.png')

    // In English (the panel is a modal: closed, switched, opened again).
    await page.getByTestId('accounts-panel').getByRole('button', { name: zh.close, exact: true }).click()
    await page.getByTestId('lang-switch').click()
    await page.getByRole('button', { name: en.accounts.open }).click()
    await section.getByText(en.throttles.title).waitFor()
    expect(await row.innerText()).toContain(en.throttles.scopes.account_address)
    await row.getByRole('button', { name: en.throttles.clear }).click()
    await row.waitFor({ state: 'detached' })
    expect((await server.db.sql`SELECT count(*)::int AS n FROM login_throttles WHERE username = ${victim} AND place = ${from}`)[0].n).toBe(0)
    expect((await attempt(TEST_PASSWORD)).status).toBe(200)
    expect(errors).toEqual([])
    await page.close()
  })
})
