import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { ingestForecasts, ingestReadings, ingestStations } from '../../api/rain/ingest.ts'
import { startServer, type RunningServer } from '../../api/server.ts'
import { buildStorm, timeline } from '../../data/storms/build.ts'
import { ensureWebBuild, webDist } from '../../scripts/web-build.ts'
import { chromiumPath, launch, openPage, screenshot, waitForIdle, waitForMap } from '../helpers/browser.ts'
import { progressColor, rainColor } from '../../web/src/map/colors.ts'
import { testClock } from '../helpers/clock.ts'
import { resetRain, testActor } from '../helpers/rain.ts'
import { loginAs, type Client } from '../helpers/session.ts'

const exe = chromiumPath()
const COUNTY = '530626'
const rows = <T extends object>(xs: T[]) => xs.map((values, i) => ({ row: i + 1, values: values as Record<string, unknown> }))

/**
 * A storm played up to its first signal colours: the map colours grids by it, and the 三查 panel lists and ticks tasks.
 * The storm is July's; the server's clock is fixed ten minutes after the moment it stopped, so overdue checklists and
 * current rain read the same at any hour the suite runs (the night rule, 20:00–06:00, changes what a storm opens).
 */
describe.skipIf(!exe)('rain and 三查 on the map in Chromium', () => {
  let server: RunningServer
  let browser: Browser
  const clock = testClock()
  const now = () => clock().toISOString()

  const open = (who: Client, path: string) => openPage(browser, who.cookie, server.url + path)

  beforeAll(async () => {
    await ensureWebBuild({ quiet: true })
    server = await startServer({ port: 0, databaseUrl: inject('embeddedUrl'), seedScale: false, quiet: true, webDist, clock, sweepEveryMs: 3600_000 })
    browser = await launch(exe!)
    const sql = server.db.sql
    await resetRain(sql)
    const storm = await buildStorm(sql, { county: COUNTY, seed: 5, spacingKm: 5 })
    await ingestStations(sql, testActor, rows(storm.stations))
    // Play the storm until some grid has a signal colour and there are during-rain tasks.
    for (const step of timeline(storm)) {
      if (step.forecasts.length) await ingestForecasts(sql, testActor, rows(step.forecasts))
      if (step.readings.length) await ingestReadings(sql, testActor, rows(step.readings))
      const [n] = await sql`SELECT (SELECT count(*) FROM rain_state WHERE kind = 'grid' AND colour IS NOT NULL)::int AS coloured,
                                   (SELECT count(*) FROM tasks WHERE phase = 'during')::int AS during`
      clock.set(Date.parse(step.time) + 10 * 60_000)
      if (n.coloured > 0 && n.during > 0) break
    }
    await server.sweepNow?.()
  })
  afterAll(async () => {
    if (server) await resetRain(server.db.sql)
    await browser?.close()
    await server?.close()
  })

  const featureStates = (page: Page, ids: number[], source: string) =>
    page.evaluate(
      ({ ids, source }) => ids.map((id) => window.__gridwatch!.map!.getFeatureState({ source, sourceLayer: source, id })),
      { ids, source },
    )

  it('colours grids by the signal in force and marks sites past their critical rainfall', async () => {
    const coloured = await server.db.sql`SELECT unit_id AS id, colour FROM rain_state WHERE kind = 'grid' AND colour IS NOT NULL ORDER BY unit_id LIMIT 20`
    const dry = await server.db.sql`SELECT unit_id AS id FROM rain_state WHERE kind = 'grid' AND colour IS NULL ORDER BY unit_id LIMIT 5`
    const alerts = await server.db.sql`SELECT unit_id AS id FROM rain_state WHERE kind = 'site' AND on_alert ORDER BY unit_id LIMIT 5`
    expect(coloured.length).toBeGreaterThan(0)
    const me = await loginAs(server, 'commander', COUNTY + '000000')
    const { page, errors } = await open(me, `/?unit=${COUNTY}000000`)
    await waitForMap(page)
    await page.getByTestId('grid-mode-rain').check()
    await page.getByTestId('legend-rain').waitFor({ state: 'attached' }).catch(() => {})
    await page.waitForFunction(
      (id) => (window.__gridwatch!.map!.getFeatureState({ source: 'grids', sourceLayer: 'grids', id }) as { rain?: string }).rain !== undefined,
      coloured[0].id as number,
      { timeout: 20_000 },
    )
    const states = await featureStates(page, coloured.map((c) => c.id as number), 'grids')
    expect(states.map((s) => (s as { rain?: string }).rain)).toEqual(coloured.map((c) => c.colour))
    expect((await featureStates(page, dry.map((d) => d.id as number), 'grids')).every((s) => !(s as { rain?: string }).rain)).toBe(true)
    if (alerts.length) {
      expect((await featureStates(page, alerts.map((a) => a.id as number), 'hazards')).every((s) => (s as { alert?: boolean }).alert === true)).toBe(true)
    }
    await waitForIdle(page)
    await screenshot(page, 'rain-map-1600x900.png')
    expect(errors).toEqual([])
    await page.close()
  })

  it('colours grids by 三查 progress as the API reports it, with the grid counts in the legend', async () => {
    // The storm lies in the past, so all its tasks are overdue: give two grids other states.
    const grids = await server.db.sql<{ c: string }[]>`SELECT unit_code AS c FROM tasks WHERE length(unit_code) = 15 GROUP BY 1 ORDER BY 1 LIMIT 2`
    expect(grids.length).toBe(2)
    const saved = await server.db.sql`SELECT id, status, done_at, due_at FROM tasks WHERE unit_code IN (${grids[0].c}, ${grids[1].c})`
    await server.db.sql`UPDATE tasks SET status = 'done', done_at = ${now()} WHERE unit_code = ${grids[0].c}`
    await server.db.sql`UPDATE tasks SET due_at = ${now()}::timestamptz + interval '1 day' WHERE unit_code = ${grids[1].c}`
    try {
    const me = await loginAs(server, 'commander', COUNTY + '000000')
    const api = await (await me.get('/api/tasks/grid-progress')).json() as { counts: Record<string, number>; grids: { id: number; code: string; state: string }[] }
    const states = new Set(api.grids.map((g) => g.state))
    expect([...states].sort()).toEqual(['done', 'not_started', 'overdue'])
    const { page, errors } = await open(me, `/?unit=${COUNTY}000000`)
    await waitForMap(page)
    await page.getByTestId('grid-mode-progress').check()
    await page.getByTestId('legend-progress').waitFor({ state: 'attached' })
    await page.waitForFunction(
      (id) => (window.__gridwatch!.map!.getFeatureState({ source: 'grids', sourceLayer: 'grids', id }) as { progress?: string }).progress !== undefined,
      api.grids[0].id,
      { timeout: 20_000 },
    )
    // Every grid the API names carries its state; the fill colour is the legend's colour for that state.
    const drawn = await featureStates(page, api.grids.map((g) => g.id), 'grids')
    expect(drawn.map((d) => (d as { progress?: string }).progress)).toEqual(api.grids.map((g) => g.state))
    const fill = await page.evaluate(() => window.__gridwatch!.map!.getPaintProperty('grids-fill', 'fill-color')) as unknown[]
    const colourOf = (state: string) => {
      // ['match', input, state, colour, state, colour, …, fallback]
      for (let i = 2; i < fill.length - 1; i += 2) if (fill[i] === state) return fill[i + 1]
      return fill[fill.length - 1]
    }
    expect(JSON.stringify(fill[1])).toContain('"progress"')
    for (const g of api.grids) expect(colourOf(g.state), g.code).toBe(progressColor[g.state as keyof typeof progressColor])
    expect(colourOf('none')).toBe(progressColor.none)
    // The legend counts the grids per state as the API does.
    if (!(await page.getByTestId('legend-progress').isVisible())) await page.getByTestId('legend').locator('button.fold').click()
    for (const k of ['overdue', 'not_started', 'in_progress', 'done']) {
      expect(await page.getByTestId(`legend-progress-${k}`).innerText(), k).toContain(String(api.counts[k]))
    }
    await waitForIdle(page)
    await screenshot(page, 'progress-map-1600x900.png')
    expect(errors).toEqual([])
    await page.close()
    } finally {
      // Restored even when this test fails: the next one reads the same tasks.
      for (const t of saved) await server.db.sql`UPDATE tasks SET status = ${t.status}, done_at = ${t.done_at}, due_at = ${t.due_at} WHERE id = ${t.id}`
    }
  })

  it('lists a grid worker’s tasks in the 三查 panel with roll-ups, and ticks an item into the database', async () => {
    const [grid] = await server.db.sql`SELECT unit_code FROM tasks WHERE target_kind = 'grid' AND phase = 'during' ORDER BY id LIMIT 1`
    // The panel lists the worker's tasks soonest due first: the first is the one to tick.
    const [task] = await server.db.sql`SELECT id, unit_code FROM tasks WHERE phase = 'during' AND unit_code = ${grid.unit_code as string} ORDER BY due_at, id LIMIT 1`
    const worker = await loginAs(server, 'grid_worker', task.unit_code as string)
    const { page, errors } = await open(worker, '/')
    await waitForMap(page)
    await page.getByTestId('checks-toggle').click()
    // The panel first lists every phase; the answer for "during" is the one to read, and the tab must be on.
    const during = page.waitForResponse((r) => r.url().includes('/api/tasks?') && r.url().includes('phase=during'))
    await page.getByTestId('checks-phase-during').click()
    await during
    await expect.poll(() => page.getByTestId('checks-phase-during').getAttribute('class')).toBe('on')
    const list = page.getByTestId('task-list')
    await list.locator('li button.link').first().waitFor()
    // The totals count the tasks of the worker's grid in that phase, as of the server's (fixed) clock.
    const [n] = await server.db.sql`
      SELECT count(*)::int AS n, count(*) FILTER (WHERE due_at < ${now()}::timestamptz AND status <> 'done')::int AS overdue
      FROM tasks WHERE phase = 'during' AND unit_code = ${task.unit_code as string}`
    const totals = await page.getByTestId('checks-totals').innerText()
    expect(totals).toContain(`0/${n.n}`)
    expect(totals).toContain(`${n.overdue} 逾期`)
    await list.locator('li button.link').first().click()
    const box = page.locator('[data-testid=task-items] input[type=checkbox]').first()
    // Controlled: the box shows the server's answer, so click and wait for the database.
    await box.click()
    await expect.poll(async () => {
      const [t] = await server.db.sql`SELECT items FROM tasks WHERE id = ${task.id}`
      return (t.items as { done: boolean }[])[0].done
    }, { timeout: 10_000 }).toBe(true)
    await screenshot(page, 'checks-panel-1600x900.png')
    expect(errors).toEqual([])
    await page.close()
  })

  it('draws rain months old greyed with its age, never as a live halo or signal colour', async () => {
    const coloured = await server.db.sql<{ id: number }[]>`SELECT unit_id AS id FROM rain_state WHERE kind = 'grid' AND colour IS NOT NULL ORDER BY unit_id LIMIT 20`
    const alerts = await server.db.sql<{ id: number }[]>`SELECT unit_id AS id FROM rain_state WHERE kind = 'site' AND on_alert ORDER BY unit_id LIMIT 5`
    expect(coloured.length).toBeGreaterThan(0)
    const live = clock()
    clock.set(live.getTime() + 140 * 24 * 3600_000) // December: the July storm's rain is history
    try {
      await server.sweepNow?.()
      const me = await loginAs(server, 'commander', COUNTY + '000000')
      const { page, errors } = await open(me, `/?unit=${COUNTY}000000`)
      await waitForMap(page)
      await page.getByTestId('grid-mode-rain').check()
      await page.waitForFunction(
        (id) => (window.__gridwatch!.map!.getFeatureState({ source: 'grids', sourceLayer: 'grids', id }) as { rain?: string }).rain !== undefined,
        coloured[0].id, { timeout: 20_000 },
      )
      // Grey, not the colour they had; no site halo.
      expect((await featureStates(page, coloured.map((c) => c.id), 'grids')).map((s) => (s as { rain?: string }).rain)).toEqual(coloured.map(() => 'stale'))
      if (alerts.length) expect((await featureStates(page, alerts.map((a) => a.id), 'hazards')).every((s) => !(s as { alert?: boolean }).alert)).toBe(true)
      const fill = await page.evaluate(() => window.__gridwatch!.map!.getPaintProperty('grids-fill', 'fill-color')) as unknown[]
      expect(fill[fill.indexOf('stale') + 1]).toBe(rainColor.stale)
      if (!(await page.getByTestId('legend-rain').isVisible())) await page.getByTestId('legend').locator('button.fold').click()
      expect(await page.getByTestId('legend-rain-stale').innerText()).toMatch(/雨量数据 4 个月前.*非实时/)
      await waitForIdle(page)
      await screenshot(page, 'rain-map-stale-1600x900.png')
      expect(errors).toEqual([])
      await page.close()
    } finally {
      clock.set(live)
      await server.sweepNow?.()
    }
  })

  it('once the storm event is over, shows its unfinished checklists as missed, not overdue, on the map and in the panel', async () => {
    clock.set(clock().getTime() + 140 * 24 * 3600_000)
    await server.sweepNow?.()
    const [{ missed, still }] = await server.db.sql<{ missed: number; still: number }[]>`
      SELECT count(*) FILTER (WHERE status = 'missed')::int AS missed, count(*) FILTER (WHERE status IN ('not_started', 'in_progress'))::int AS still FROM tasks`
    expect({ still, missed: missed > 0 }).toEqual({ still: 0, missed: true })
    const me = await loginAs(server, 'commander', COUNTY + '000000')
    const api = await (await me.get('/api/tasks/grid-progress')).json() as { counts: Record<string, number>; grids: { id: number; state: string }[] }
    expect(api.counts.overdue).toBe(0)
    const { page, errors } = await open(me, `/?unit=${COUNTY}000000`)
    await waitForMap(page)
    await page.getByTestId('grid-mode-progress').check()
    if (!(await page.getByTestId('legend').locator('[data-testid=legend-progress]').isVisible())) await page.getByTestId('legend').locator('button.fold').click()
    await page.getByTestId('legend-progress-missed').waitFor()
    expect(await page.getByTestId('legend-progress-missed').innerText()).toContain(String(api.counts.missed))
    expect(await page.getByTestId('legend-progress-overdue').innerText()).toContain('0')
    await page.getByTestId('legend-progress-over').waitFor()
    // No grid carries the overdue colour; missed grids carry none.
    const drawn = await featureStates(page, api.grids.map((g) => g.id), 'grids')
    expect(drawn.some((d) => (d as { progress?: string }).progress === 'overdue')).toBe(false)
    const fill = await page.evaluate(() => window.__gridwatch!.map!.getPaintProperty('grids-fill', 'fill-color')) as unknown[]
    expect(fill.includes('missed')).toBe(false) // falls to the no-task colour
    // The panel: nothing overdue, the missed ones counted, the storm chosen by default.
    await page.getByTestId('checks-toggle').click()
    await expect.poll(async () => page.getByTestId('checks-totals').innerText(), { timeout: 20_000 }).toMatch(/0 逾期/)
    expect(await page.getByTestId('checks-totals').innerText()).toContain(`${missed.toLocaleString('zh-CN')} 未完成`)
    expect(await page.getByTestId('checks-event').inputValue()).toBe('current')
    await waitForIdle(page)
    await screenshot(page, 'progress-over-1600x900.png')
    expect(errors).toEqual([])
    await page.close()
  })
})
