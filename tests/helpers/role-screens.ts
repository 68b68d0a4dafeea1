import type { Page } from 'playwright-core'
import type { Role } from '../../core/policy.ts'
import { zh } from '../../web/src/i18n/zh.ts'

/** The places and records the walk opens: one household in one grid of one village, township and county. */
export interface WalkFixture {
  county: string
  township: string
  village: string
  grid: { id: number; code: string }
  household: number
  hazard: number
  shelter: number
  order: number
  /** A problem report in the grid (at the township level). */
  report: number
}

/** A state of a screen to read: reached from the previous one (a click) or by opening an address. */
export interface Screen {
  name: string
  open(page: Page, base: string): Promise<void>
}

const goto = async (page: Page, url: string) => {
  await page.goto(url)
  await page.getByTestId('app-title').or(page.getByTestId('grid-editor')).or(page.getByTestId('wall')).first().waitFor({ timeout: 60_000 })
}
/** Clicks `testid` when this role is offered it. */
const clickIf = async (page: Page, testid: string) => {
  const el = page.getByTestId(testid).first()
  if (await el.count()) await el.click()
  return (await el.count()) > 0
}

function map(): Screen {
  return { name: 'command map', open: (p, b) => goto(p, `${b}/`) }
}

function household(fx: WalkFixture): Screen[] {
  return [
    {
      name: 'household record',
      open: async (p, b) => {
        await goto(p, `${b}/?record=household:${fx.household}`)
        await p.getByTestId('record-title').waitFor()
        await p.getByTestId('household-transfer').or(p.getByTestId('record-masked')).first().waitFor().catch(() => {})
      },
    },
    {
      name: 'household record: ledger edit and history',
      open: async (p) => {
        await clickIf(p, 'action-edit')
        if (await clickIf(p, 'history-toggle')) await p.locator('[data-testid=history] li').first().waitFor()
      },
    },
  ]
}

function grid(fx: WalkFixture): Screen[] {
  return [
    {
      name: 'grid record',
      open: async (p, b) => {
        await goto(p, `${b}/?record=grid:${fx.grid.id}`)
        await p.getByTestId('record-title').waitFor()
      },
    },
    {
      name: 'grid record: renaming, history',
      open: async (p) => {
        const rename = p.getByRole('button', { name: zh.actions.rename })
        if (await rename.count()) await rename.click()
        if (await clickIf(p, 'history-toggle')) await p.locator('[data-testid=history] li').first().waitFor()
      },
    },
  ]
}

function hazardAndShelter(fx: WalkFixture): Screen[] {
  return [
    {
      name: 'hazard record',
      open: async (p, b) => {
        await goto(p, `${b}/?record=hazard:${fx.hazard}`)
        await p.getByTestId('site-plan').waitFor()
        if (await clickIf(p, 'history-toggle')) await p.locator('[data-testid=history] li').first().waitFor()
      },
    },
    {
      name: 'shelter record',
      open: async (p, b) => {
        await goto(p, `${b}/?record=shelter:${fx.shelter}`)
        await p.getByTestId('record-title').waitFor()
      },
    },
  ]
}

function checks(): Screen {
  return {
    name: '三查 panel with a task open',
    open: async (p, b) => {
      await goto(p, `${b}/`)
      await p.getByTestId('checks-toggle').click()
      await p.getByTestId('task-list').waitFor()
      const first = p.locator('[data-testid=task-list] button.link').first()
      if (await first.count()) {
        await first.click()
        await p.getByTestId('task-items').waitFor()
      }
    },
  }
}

function transfer(fx: WalkFixture): Screen[] {
  return [
    {
      name: 'transfer panel with the order open',
      open: async (p, b) => {
        await goto(p, `${b}/?order=${fx.order}`)
        await p.getByTestId('evac-detail').waitFor()
        await p.getByTestId('evac-households').waitFor()
        const shelters = p.locator('[data-testid=evac-shelters] summary')
        if (await shelters.count()) await shelters.click()
      },
    },
    {
      name: 'transfer panel: new order form',
      open: async (p, b) => {
        await goto(p, `${b}/?unit=${fx.township}&order=${fx.order}`)
        await p.getByTestId('evac-panel').waitFor()
        if (await clickIf(p, 'evac-new')) await p.getByTestId('evac-form').waitFor()
      },
    },
  ]
}

function reports(fx: WalkFixture): Screen[] {
  return [
    {
      name: 'problem reports panel: the list',
      open: async (p, b) => {
        await goto(p, `${b}/?unit=${fx.township}`)
        await p.getByTestId('reports-open').click()
        await p.locator(`[data-testid=report-list] li[data-report="${fx.report}"]`).waitFor()
      },
    },
    {
      name: 'problem reports panel with a report open',
      open: async (p) => {
        await p.locator(`[data-testid=report-list] li[data-report="${fx.report}"] button`).click()
        await p.getByTestId('report-steps').waitFor()
        // A form of the first action offered, where one is.
        const dispatch = p.getByTestId('report-dispatch')
        if (await dispatch.count()) await dispatch.click()
      },
    },
    {
      name: 'problem reports panel: the duty phone form',
      open: async (p) => {
        await p.getByTestId('report-back').click()
        if (await clickIf(p, 'phone-report-open')) await p.getByTestId('phone-report-form').waitFor()
      },
    },
  ]
}

function planning(): Screen {
  return {
    name: 'planning panel with an analysis run',
    open: async (p, b) => {
      await goto(p, `${b}/`)
      await p.getByTestId('planning-open').click()
      await p.getByTestId('planning-panel').waitFor()
      await p.getByTestId('planning-run').click()
      await p.getByTestId('planning-table').waitFor({ timeout: 90_000 })
    },
  }
}

function accounts(fx: WalkFixture): Screen {
  return {
    name: 'accounts screen with a refused account',
    open: async (p, b) => {
      await goto(p, `${b}/`)
      await p.getByRole('button', { name: zh.accounts.open }).click()
      const panel = p.getByTestId('accounts-panel')
      await panel.locator('table').first().waitFor()
      // A township officer placed on a village: refused by the server, in its words.
      await panel.getByPlaceholder(zh.accounts.username).fill(`walk${Date.now() % 100000}`)
      await panel.getByPlaceholder(zh.accounts.displayName).fill('走查干部')
      await panel.locator('select').selectOption('township')
      await panel.getByPlaceholder(zh.accounts.unit).fill(fx.village)
      await panel.getByPlaceholder(zh.accounts.password).fill('Walk-through-2026')
      await panel.locator('form button[type=submit]').click()
      await panel.locator('p.error').waitFor()
    },
  }
}

function editor(fx: WalkFixture): Screen[] {
  return [
    {
      name: 'grid editor with its history',
      open: async (p, b) => {
        await goto(p, `${b}/editor?village=${fx.village}`)
        await p.locator('[data-testid=editor-history] li').first().waitFor()
        await p.getByTestId(`grid-${fx.grid.code}`).click()
      },
    },
  ]
}

function wall(fx: WalkFixture): Screen {
  return {
    name: 'command wall',
    open: async (p, b) => {
      await goto(p, `${b}/screen?unit=${fx.county}000000`)
      // The figures are in once the transfer totals and the checks' phases are drawn.
      await p.getByTestId('wall-transfer').waitFor({ timeout: 60_000 })
      await p.getByTestId('wall-checks').filter({ hasText: zh.checks.phases.before }).waitFor({ timeout: 60_000 })
      await p.getByTestId('wall-ticker').waitFor()
    },
  }
}

/** Every screen a role works with, in the states worth reading. */
export function screensFor(role: Role, fx: WalkFixture): Screen[] {
  switch (role) {
    case 'admin':
      return [map(), ...household(fx), ...grid(fx), ...hazardAndShelter(fx), checks(), ...transfer(fx), ...reports(fx), accounts(fx)]
    case 'commander':
      return [map(), ...household(fx), ...grid(fx), ...hazardAndShelter(fx), checks(), ...transfer(fx), ...reports(fx), planning(), ...editor(fx), wall(fx)]
    case 'township':
      return [map(), ...household(fx), ...grid(fx), ...hazardAndShelter(fx), checks(), ...transfer(fx), ...reports(fx), planning(), ...editor(fx), wall(fx)]
    case 'grid_worker':
      return [map(), ...household(fx), ...grid(fx), checks(), ...transfer(fx), ...reports(fx), wall(fx)]
    case 'planner':
      return [map(), ...household(fx), ...grid(fx), ...hazardAndShelter(fx), ...reports(fx), planning()]
    case 'viewer':
      return [map(), ...household(fx), ...hazardAndShelter(fx), ...transfer(fx).slice(0, 1), ...reports(fx), wall(fx)]
  }
}
