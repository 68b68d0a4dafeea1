/**
 * The print queue through its route, without rendering: the test holds the
 * one render place itself (as a render under way would), so the jobs posted
 * here wait, tell their place, and are refused past the limits. (The renders
 * themselves are tests/browser/print.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { chromiumPath } from '../helpers/browser.ts'
import { loginAs, type Client } from '../helpers/session.ts'

const CITY = '530600000000'

// Without Chromium the route answers 503 before any queue.
describe.skipIf(!chromiumPath())('print queue', () => {
  let s: RunningServer
  let planner: Client
  let county: string

  beforeAll(async () => {
    s = await startServer({ port: 0, databaseUrl: inject('embeddedUrl'), seedScale: false, quiet: true })
    planner = await loginAs(s, 'planner', CITY)
    county = (await s.db.sql`SELECT code FROM admin_units WHERE level = 'county' ORDER BY code LIMIT 1`)[0].code as string
  })
  // The jobs left queued never start: the place they wait for is never given back.
  afterAll(() => s?.close())

  it('2 jobs a user and 10 in all queued or rendering (then 429 with Retry-After and a zh/en message); a queued job tells its place', async () => {
    const places = s.limits.print
    const rendering = places.enter(-1)
    expect('refused' in rendering).toBe(false)
    const post = (who: Client) => who.send('POST', '/api/print', { unit: county, format: 'png' })
    const j1 = await post(planner)
    const p1 = await j1.json()
    expect(j1.status, JSON.stringify(p1)).toBe(202)
    const p2 = await (await post(planner)).json()
    expect([p1.stage, p1.position, p2.stage, p2.position]).toEqual(['queued', 1, 'queued', 2])
    const over = await post(planner)
    const refusal = await over.json()
    expect(over.status, JSON.stringify(refusal)).toBe(429)
    expect(refusal.error.code).toBe('too_many_jobs')
    expect(refusal.error.zh).toMatch(/出图/)
    expect(refusal.error.en).toMatch(/print/)
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0)
    // A refused job was never started, so never audited as an export.
    const audited = await s.db.sql`SELECT count(*)::int AS n FROM audit_log WHERE action = 'export' AND table_name = 'print' AND actor_id = ${planner.userId}`
    expect(audited[0].n).toBe(2)

    const other = await loginAs(s, 'planner', CITY)
    const p3 = await (await post(other)).json()
    expect([p3.stage, p3.position]).toEqual(['queued', 3])
    const fill: unknown[] = []
    while (places.held() < 10) fill.push(places.enter(-100 - places.held()))
    const third = await loginAs(s, 'planner', CITY)
    const full = await post(third)
    expect(full.status).toBe(429)
    expect((await full.json()).error.code).toBe('server_busy')
    expect(Number(full.headers.get('retry-after'))).toBeGreaterThan(0)

    // Progress tells the place; the job's owner alone sees it.
    const seen = await (await planner.get(`/api/print/${p2.id}`)).json()
    expect([seen.stage, seen.position]).toEqual(['queued', 2])
    expect((await other.get(`/api/print/${p2.id}`)).status).toBe(404)
  })
})
