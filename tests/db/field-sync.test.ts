import { randomBytes, randomUUID } from 'node:crypto'
import { PNG } from 'pngjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { sweepField } from '../../api/field/tracks.ts'
import { resetRain } from '../helpers/rain.ts'
import { login, loginAs, TEST_PASSWORD, type Client } from '../helpers/session.ts'
import { cliActor, createAccount } from '../../api/auth/accounts.ts'
import { targets } from '../helpers/targets.ts'

/**
 * The field app's outbox (issue #19): POST /api/field/sync applies each action
 * once, in order, at the phone's time, in the writer's area; a replay changes
 * nothing; a transfer status someone else changed meanwhile comes back as a
 * conflict; bad input and bad photos are refused with nothing written.
 */
for (const target of targets()) {
  describe(`field sync on ${target.name}`, () => {
    let s: RunningServer
    let worker: Client, other: Client, town: Client, cityCmd: Client
    let grid: { id: number; code: string }, otherGrid: { id: number; code: string }
    let households: number[], otherHousehold: number
    let task: { id: number; items: number }, otherTask: { id: number }
    let order: number
    const hour = new Date(Math.floor(Date.now() / 3600_000) * 3600_000 - 3600_000)
    const at = (h: number) => new Date(hour.getTime() + h * 3600_000).toISOString()
    /** A time on the phone, `min` minutes ago. */
    const ago = (min: number) => new Date(Date.now() - min * 60_000).toISOString()

    const sync = (who: Client, actions: unknown[]) => who.send('POST', '/api/field/sync', { actions })
    /** Everything an action could write. */
    const written = async () => (await s.db.sql`
      SELECT (SELECT count(*)::int FROM visits) AS visits, (SELECT count(*)::int FROM task_item_log) AS ticks,
             (SELECT coalesce(sum(version), 0)::int FROM tasks) AS tasks, (SELECT count(*)::int FROM evac_status_log) AS statuses,
             (SELECT count(*)::int FROM audit_log) AS audit, (SELECT count(*)::int FROM live_events) AS events,
             (SELECT count(*)::int FROM field_photos) AS photos, (SELECT count(*)::int FROM field_tracks) AS track_points,
             (SELECT count(*)::int FROM reports) AS reports, (SELECT count(*)::int FROM report_steps) AS report_steps`)[0]

    beforeAll(async () => {
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true })
      const sql = s.db.sql
      await resetRain(sql)
      await sql`DELETE FROM evac_orders`
      cityCmd = await loginAs(s, 'commander', '530600000000')
      const [t] = await sql`SELECT code FROM admin_units WHERE level = 'township' ORDER BY code LIMIT 1`
      const township = t.code as string
      // A heavy-rain forecast opens the township's checklists.
      const f = await cityCmd.send('POST', '/api/rain/forecasts', [{ area: township, leadHours: 6, periodStart: at(3), periodEnd: at(9), mm: 90, issuedAt: at(0) }])
      expect(f.status, await f.clone().text()).toBe(200)
      const grids = await sql<{ id: number; code: string; task: number; items: number }[]>`
        SELECT g.id, g.code, min(t.id)::int AS task, max(jsonb_array_length(t.items))::int AS items FROM grids g JOIN tasks t ON t.unit_code = g.code
        WHERE g.kind = 'basic' AND g.code LIKE ${township.slice(0, 9) + '%'}
          AND (SELECT count(*) FROM households h WHERE h.grid_id = g.id) >= 4
        GROUP BY g.id, g.code ORDER BY g.code LIMIT 2`
      expect(grids.length).toBe(2)
      grid = grids[0]
      otherGrid = grids[1]
      task = { id: grids[0].task, items: grids[0].items }
      otherTask = { id: grids[1].task }
      households = (await sql`SELECT id FROM households WHERE grid_id = ${grid.id} ORDER BY id LIMIT 4`).map((r) => r.id as number)
      ;[{ id: otherHousehold }] = (await sql`SELECT min(id)::int AS id FROM households WHERE grid_id = ${otherGrid.id}`) as unknown as { id: number }[]
      town = await loginAs(s, 'township', township)
      const o = await town.send('POST', '/api/evacuation/orders', { stage: 'everyone', trigger: { kind: 'manual' }, grids: [grid.id, otherGrid.id] })
      expect(o.status, await o.clone().text()).toBe(201)
      order = (await o.json()).order.id
      worker = await loginAs(s, 'grid_worker', grid.code)
      other = await loginAs(s, 'grid_worker', otherGrid.code)
    })
    afterAll(async () => {
      if (s) {
        await s.db.sql`DELETE FROM evac_orders`
        await resetRain(s.db.sql)
      }
      await s?.close()
    })

    it('applies a batch in order, at the phone\'s times, and a replay changes nothing', async () => {
      const [h1, h2] = households
      const actions = [
        { id: randomUUID(), at: ago(50), kind: 'task.item', task: task.id, item: 1, done: true, note: '排水沟已清理' },
        { id: randomUUID(), at: ago(40), kind: 'visit', household: h1, note: '已走访，老人在家' },
        { id: randomUUID(), at: ago(30), kind: 'evac.status', order, household: h1, from: 'not_notified', status: 'notified' },
        { id: randomUUID(), at: ago(20), kind: 'evac.status', order, household: h1, from: 'notified', status: 'moving' },
        { id: randomUUID(), at: ago(10), kind: 'evac.status', order, household: h2, from: 'not_notified', status: 'notified' },
        { id: randomUUID(), at: ago(5), kind: 'track', points: [{ at: ago(6), lon: 103.71, lat: 27.33 }, { at: ago(5), lon: 103.712, lat: 27.331, accuracy: 12 }] },
      ]
      const before = await written()
      const r = await sync(worker, actions)
      expect(r.status, await r.clone().text()).toBe(200)
      const { results } = await r.json()
      expect(results.map((x: { outcome: string }) => x.outcome)).toEqual(actions.map(() => 'applied'))
      expect(results.map((x: { id: string }) => x.id)).toEqual(actions.map((a) => a.id))
      for (const [i, a] of actions.entries()) expect(results[i].doneAt).toBe(new Date(a.at).toISOString())

      const sql = s.db.sql
      // The phone's times are when it was done.
      const [v] = await sql`SELECT visited_at, note FROM visits WHERE household_id = ${h1} ORDER BY id DESC LIMIT 1`
      expect((v.visited_at as Date).toISOString()).toBe(new Date(actions[1].at).toISOString())
      expect(v.note).toBe('已走访，老人在家')
      const [tick] = await sql`SELECT at, done FROM task_item_log WHERE task_id = ${task.id} AND item = 1 ORDER BY id DESC LIMIT 1`
      expect((tick.at as Date).toISOString()).toBe(new Date(actions[0].at).toISOString())
      const [t] = await sql`SELECT items FROM tasks WHERE id = ${task.id}`
      expect((t.items as { done: boolean; note: string }[])[0]).toMatchObject({ done: true, note: '排水沟已清理' })
      // In order: h1 notified then moving, each at its own phone time.
      const log = await sql`SELECT household_id, from_status, to_status, at FROM evac_status_log WHERE order_id = ${order} ORDER BY id`
      expect(log.map((l) => [l.household_id, l.from_status, l.to_status, (l.at as Date).toISOString()])).toEqual([
        [h1, 'not_notified', 'notified', new Date(actions[2].at).toISOString()],
        [h1, 'notified', 'moving', new Date(actions[3].at).toISOString()],
        [h2, 'not_notified', 'notified', new Date(actions[4].at).toISOString()],
      ])
      // The audit keeps both times: done on the phone, arrived here.
      const audit = await sql`SELECT action, after FROM audit_log WHERE table_name = 'field_actions' AND row_id = ${actions[1].id}`
      expect(audit).toHaveLength(1)
      expect(audit[0].after).toMatchObject({ phoneAt: new Date(actions[1].at).toISOString(), doneAt: new Date(actions[1].at).toISOString() })
      expect(new Date(audit[0].after.receivedAt).getTime()).toBeGreaterThan(new Date(actions[5].at).getTime())
      const after = await written()
      expect(after.visits - before.visits).toBe(1)
      expect(after.statuses - before.statuses).toBe(3)
      expect(after.track_points - before.track_points).toBe(2)

      // The signal came back twice: the same batch again, and again at once from two connections.
      const again = await (await sync(worker, actions)).json()
      expect(again.results.every((x: { replay: boolean }) => x.replay)).toBe(true)
      expect(again.results.map(({ replay: _, ...x }: { replay: boolean }) => x)).toEqual(results)
      await Promise.all([sync(worker, actions), sync(worker, actions)])
      expect(await written()).toEqual(after)
    })

    it('answers a status someone else changed meanwhile as a conflict, with what it is now, writing nothing', async () => {
      const h3 = households[2]
      const r0 = await town.send('PATCH', `/api/evacuation/orders/${order}/households/${h3}`, { status: 'notified', from: 'not_notified' })
      expect(r0.status, await r0.clone().text()).toBe(200)
      const before = await written()
      const a = { id: randomUUID(), at: ago(3), kind: 'evac.status', order, household: h3, from: 'not_notified', status: 'notified' }
      const { results: [res] } = await (await sync(worker, [a])).json()
      expect(res).toMatchObject({ outcome: 'conflict', status: 409, current: 'notified', error: { code: 'status_conflict' } })
      expect(res.error.zh).toMatch(/已通知/)
      expect(await written()).toEqual(before)
      // Told again on a replay; a new action from the status it has now goes through.
      expect((await (await sync(worker, [a])).json()).results[0]).toMatchObject({ outcome: 'conflict', replay: true })
      const next = await (await sync(worker, [{ ...a, id: randomUUID(), from: 'notified', status: 'moving' }])).json()
      expect(next.results[0].outcome).toBe('applied')
    })

    it('keeps another grid out of reach', async () => {
      const before = await written()
      const { results } = await (await sync(worker, [
        { id: randomUUID(), at: ago(2), kind: 'visit', household: otherHousehold },
        { id: randomUUID(), at: ago(2), kind: 'task.item', task: otherTask.id, item: 1, done: true },
        { id: randomUUID(), at: ago(2), kind: 'evac.status', order, household: otherHousehold, from: 'not_notified', status: 'notified' },
      ])).json()
      for (const r of results) expect(r).toMatchObject({ outcome: 'rejected', status: 403, error: { code: 'forbidden_scope' } })
      expect(await written()).toEqual(before)
      const today = await worker.get(`/api/field/today?grid=${otherGrid.code}`)
      expect(today.status).toBe(403)
      expect((await today.json()).error.code).toBe('forbidden_scope')
    })

    it('refuses bad input as a whole, and a bad photo with its action, writing nothing', async () => {
      const before = await written()
      const receipts = async () => (await s.db.sql`SELECT count(*)::int AS n FROM field_actions`)[0].n
      const n0 = await receipts()
      for (const body of [
        { actions: [{ id: 'x', at: ago(1), kind: 'visit', household: households[0] }] },
        { actions: [{ id: randomUUID(), at: ago(1), kind: 'report', note: '裂缝' }] },
        { actions: [] },
        { actions: Array.from({ length: 201 }, () => ({ id: randomUUID(), at: ago(1), kind: 'visit', household: households[0] })) },
      ]) {
        const r = await worker.send('POST', '/api/field/sync', body)
        expect(r.status).toBe(400)
        const e = (await r.json()).error
        expect(e.code).toBe('bad_input')
        expect(e.zh).toBeTruthy()
      }
      expect(await receipts()).toBe(n0)
      const pdf = { id: randomUUID(), at: ago(1), kind: 'visit', household: households[3], photo: Buffer.from('%PDF-1.4 pretending').toString('base64') }
      const { results: [bad] } = await (await sync(worker, [pdf])).json()
      expect(bad).toMatchObject({ outcome: 'rejected', status: 400, error: { code: 'bad_photo' } })
      expect(await written()).toEqual(before)
      // Past the route's 8 MB.
      const huge = await worker.send('POST', '/api/field/sync', { actions: [{ ...pdf, id: randomUUID(), photo: 'A'.repeat(9 * 1024 * 1024) }] })
      expect(huge.status).toBe(413)
    })

    it('stores a real photo with the visit; only the grid\'s area may fetch it', async () => {
      const png = PNG.sync.write(new PNG({ width: 64, height: 48 }))
      const a = { id: randomUUID(), at: ago(1), kind: 'visit', household: households[3], note: '房屋后坡有裂缝', photo: png.toString('base64') }
      const { results: [r] } = await (await sync(worker, [a])).json()
      expect(r.outcome, JSON.stringify(r)).toBe('applied')
      const photoId = r.result.photoId as number
      expect(photoId).toBeGreaterThan(0)
      const [row] = await s.db.sql`SELECT mime, width, height, target, taken_at FROM field_photos WHERE id = ${photoId}`
      expect(row).toMatchObject({ mime: 'image/png', width: 64, height: 48, target: `household:${households[3]}` })
      const got = await worker.get(`/api/field/photos/${photoId}`)
      expect(got.status).toBe(200)
      expect(got.headers.get('content-type')).toBe('image/png')
      expect(Buffer.from(await got.arrayBuffer()).equals(png)).toBe(true)
      expect((await other.get(`/api/field/photos/${photoId}`)).status).toBe(403)
    })

    it('keeps the thumbnail the phone made beside its photo, serves it with the photo\'s area check, and refuses a bad one with its action', async () => {
      const noise = (w: number, h: number) => {
        const png = new PNG({ width: w, height: h })
        randomBytes(png.data.length).copy(png.data)
        return PNG.sync.write(png)
      }
      const photo = PNG.sync.write(new PNG({ width: 640, height: 480 }))
      const thumb = PNG.sync.write(new PNG({ width: 240, height: 180 }))
      const a = { id: randomUUID(), at: ago(1), kind: 'visit', household: households[2], photo: photo.toString('base64'), thumb: thumb.toString('base64') }
      const { results: [r] } = await (await sync(worker, [a])).json()
      expect(r.outcome, JSON.stringify(r)).toBe('applied')
      const id = r.result.photoId as number
      const got = await worker.get(`/api/field/photos/${id}/thumb`)
      expect(got.status).toBe(200)
      expect(got.headers.get('content-type')).toBe('image/png')
      expect(got.headers.get('x-thumbnail')).toBe('yes')
      const body = Buffer.from(await got.arrayBuffer())
      expect(body.equals(thumb)).toBe(true)
      expect(body.length).toBeLessThan(photo.length)
      // The photo itself is unchanged beside it.
      expect(Buffer.from(await (await worker.get(`/api/field/photos/${id}`)).arrayBuffer()).equals(photo)).toBe(true)
      // Checked like the photo: another grid's worker, nobody, an id that is none, one that is not a number.
      expect((await other.get(`/api/field/photos/${id}/thumb`)).status).toBe(403)
      expect((await fetch(`${s.url}/api/field/photos/${id}/thumb`)).status).toBe(401)
      expect((await worker.get('/api/field/photos/999999999/thumb')).status).toBe(404)
      expect((await worker.get('/api/field/photos/1x/thumb')).status).toBe(400)
      // The household's record lists it (the township sees its area's); another grid's worker gets none.
      const rec = await (await town.get(`/api/households/${households[2]}`)).json()
      expect(rec.photos.map((p: { id: number; kind: string }) => [p.id, p.kind])).toContainEqual([id, 'visit'])
      expect((await (await other.get(`/api/households/${households[2]}`)).json()).photos ?? []).toEqual([])
      // The phone's grid has it on the household, newest first.
      const today = await (await worker.get(`/api/field/today?grid=${grid.code}`)).json()
      expect(today.households.find((h: { id: number }) => h.id === households[2]).photos[0]).toBe(id)

      // A photo sent before thumbnails: the photo itself, said so.
      const old = { id: randomUUID(), at: ago(1), kind: 'visit', household: households[2], photo: photo.toString('base64') }
      const oldId = (await (await sync(worker, [old])).json()).results[0].result.photoId as number
      const fallback = await worker.get(`/api/field/photos/${oldId}/thumb`)
      expect(fallback.headers.get('x-thumbnail')).toBe('none')
      expect(Buffer.from(await fallback.arrayBuffer()).equals(photo)).toBe(true)

      // Too large a side, not the photo's shape, not an image, too many bytes: the action refused, nothing written.
      const before = await written()
      const bads: [Buffer, RegExp][] = [
        [PNG.sync.write(new PNG({ width: 400, height: 300 })), /320/],
        [PNG.sync.write(new PNG({ width: 100, height: 100 })), /shape/],
        [Buffer.from('GIF89a not a thumbnail at all'), /JPEG, PNG or WebP/],
        [noise(150, 112), /too large/],
      ]
      for (const [tb, why] of bads) {
        const { results: [b] } = await (await sync(worker, [{ ...a, id: randomUUID(), thumb: tb.toString('base64') }])).json()
        expect(b, JSON.stringify(b)).toMatchObject({ outcome: 'rejected', status: 400, error: { code: 'bad_photo' } })
        expect(b.error.en).toMatch(why)
        expect(b.error.zh).toMatch(/缩略图|照片/)
      }
      expect(await written()).toEqual(before)
      // A report's thumbnails are one a photo, or the batch is refused as a whole.
      const here = (await s.db.sql<{ lng: number; lat: number }[]>`
        SELECT ST_X(ST_PointOnSurface(geom)) AS lng, ST_Y(ST_PointOnSurface(geom)) AS lat FROM grids WHERE code = ${grid.code}`)[0]
      const mismatch = await sync(worker, [{ id: randomUUID(), at: ago(1), kind: 'report', type: 'geohazard', urgency: 'normal', ...here,
        photos: [photo.toString('base64'), photo.toString('base64')], thumbs: [thumb.toString('base64')] }])
      expect(mismatch.status).toBe(400)
      expect(await written()).toEqual(before)
      // A report with its thumbnails: the list of the worker's reports gives the photos' ids.
      const rep = { id: randomUUID(), at: ago(1), kind: 'report', type: 'geohazard', urgency: 'normal', ...here,
        photos: [photo.toString('base64')], thumbs: [thumb.toString('base64')] }
      const { results: [rr] } = await (await sync(worker, [rep])).json()
      expect(rr.outcome, JSON.stringify(rr)).toBe('applied')
      const [pid] = rr.result.photoIds as number[]
      expect((await worker.get(`/api/field/photos/${pid}/thumb`)).headers.get('x-thumbnail')).toBe('yes')
      const listed = await (await worker.get('/api/reports?mine=true&state=all')).json()
      expect(listed.reports.find((x: { id: number }) => x.id === rr.result.report).photos).toEqual([pid])
    })

    it('files a report made offline once, at the phone\'s time, with its photos; a place outside the area is refused, nothing written', async () => {
      const sql = s.db.sql
      const inside = async (code: string) => (await sql<{ lng: number; lat: number }[]>`
        SELECT ST_X(ST_PointOnSurface(geom)) AS lng, ST_Y(ST_PointOnSurface(geom)) AS lat FROM grids WHERE code = ${code}`)[0]
      const here = await inside(grid.code)
      const png = PNG.sync.write(new PNG({ width: 40, height: 30 })).toString('base64')
      const seenAt = ago(30)
      const report = { id: randomUUID(), at: seenAt, kind: 'report', type: 'geohazard', urgency: 'urgent', ...here, note: '屋后山体出现裂缝', photos: [png, png] }
      const before = await written()
      const first = await (await sync(worker, [report])).json()
      expect(first.results[0], JSON.stringify(first.results[0])).toMatchObject({ outcome: 'applied', kind: 'report', doneAt: new Date(seenAt).toISOString() })
      const id = first.results[0].result.report as number
      expect(first.results[0].result).toMatchObject({ created: true, photoIds: [expect.any(Number), expect.any(Number)] })
      // The signal came back twice, once on two connections at once: still one report.
      const again = await (await sync(worker, [report])).json()
      expect(again.results[0]).toMatchObject({ outcome: 'applied', replay: true, result: { report: id } })
      await Promise.all([sync(worker, [report]), sync(worker, [report])])
      const mine = await sql`SELECT id, grid_code, level, state, reported_at, received_at, note FROM reports WHERE client_id = ${report.id}`
      expect(mine).toHaveLength(1)
      expect(mine[0]).toMatchObject({ id, grid_code: grid.code, level: 'township', state: 'reported', note: '屋后山体出现裂缝' })
      // Seen on the phone half an hour ago; the township's clock starts on arrival.
      expect((mine[0].reported_at as Date).toISOString()).toBe(new Date(seenAt).toISOString())
      expect((mine[0].received_at as Date).getTime()).toBeGreaterThan(Date.parse(seenAt) + 25 * 60_000)
      const after = await written()
      expect(after.reports - before.reports).toBe(1)
      expect(after.report_steps - before.report_steps).toBe(1)
      expect(after.photos - before.photos).toBe(2)
      const photos = await sql`SELECT target, unit_code, taken_at FROM field_photos WHERE target = ${`report:${id}`}`
      expect(photos.map((p) => [p.unit_code, (p.taken_at as Date).toISOString()])).toEqual([[grid.code, new Date(seenAt).toISOString()], [grid.code, new Date(seenAt).toISOString()]])
      // The township sees it with its photos; the phone's list of its own reports has it.
      const detail = await (await town.get(`/api/reports/${id}`)).json()
      expect(detail.photos).toHaveLength(2)
      const listed = await (await worker.get('/api/reports?mine=true&state=all')).json()
      expect(listed.reports.map((r: { id: number }) => r.id)).toContain(id)
      expect((await (await other.get('/api/reports?mine=true&state=all')).json()).reports).toEqual([])

      // A place in another grid, outside China, an unknown type, a photo that is not one: refused, told why, nothing filed.
      const there = await inside(otherGrid.code)
      const refused = [
        { ...report, id: randomUUID(), ...there, photos: [png] },
        { ...report, id: randomUUID(), lng: 2.35, lat: 48.85 },
        { ...report, id: randomUUID(), type: 'alien_landing' },
        { ...report, id: randomUUID(), photos: [png, Buffer.from('%PDF-1.4 pretending').toString('base64')] },
      ]
      const { results } = await (await sync(worker, refused)).json()
      expect(results.map((r: { outcome: string; status: number; error: { code: string } }) => [r.outcome, r.status, r.error.code])).toEqual([
        ['rejected', 403, 'forbidden_scope'], ['rejected', 400, 'outside_china'], ['rejected', 400, 'unknown_type'], ['rejected', 400, 'bad_photo'],
      ])
      expect(results[0].error.zh).toMatch(/不在您的管辖范围/)
      expect(results[0].error.en).toMatch(/outside your area/)
      expect(await written()).toEqual(after)
      // Told the same again on a replay, still nothing filed.
      expect((await (await sync(worker, [refused[0]])).json()).results[0]).toMatchObject({ outcome: 'rejected', replay: true, error: { code: 'forbidden_scope' } })
      expect(await written()).toEqual(after)
    })

    it('gives the grid for the phone: tasks and visits due (overdue first), the order\'s households by status', async () => {
      const r = await worker.get('/api/field/today')
      expect(r.status, await r.clone().text()).toBe(200)
      const today = await r.json()
      expect(today.grid.code).toBe(grid.code)
      // A point inside the grid, where a report goes when the phone has no position.
      const [lng, lat] = today.grid.center as [number, number]
      expect((await s.db.sql`SELECT ST_Intersects(geom, ST_SetSRID(ST_MakePoint(${lng}, ${lat}), 4326)) AS inside FROM grids WHERE code = ${grid.code}`)[0].inside).toBe(true)
      expect(today.tasks.map((t: { id: number }) => t.id)).toContain(task.id)
      const overdue = today.tasks.map((t: { overdue: boolean }) => t.overdue)
      expect(overdue).toEqual([...overdue].sort((a, b) => Number(b) - Number(a)))
      const hh = today.households as { id: number; overdue: boolean; dueAt: string; householder: string }[]
      expect(hh.length).toBe((await s.db.sql`SELECT count(*)::int AS n FROM households WHERE grid_id = ${grid.id}`)[0].n)
      const firstNotOverdue = hh.findIndex((h) => !h.overdue)
      if (firstNotOverdue >= 0) expect(hh.slice(firstNotOverdue).every((h) => !h.overdue)).toBe(true)
      // Visited just now (the batch above): not overdue.
      expect(hh.find((h) => h.id === households[0])!.overdue).toBe(false)
      expect(hh[0].householder).not.toMatch(/\*/) // their own grid: names shown
      const moving = today.transfer.find((x: { householdId: number }) => x.householdId === households[0])
      expect(moving).toMatchObject({ orderId: order, status: 'moving' })
      expect(today.transfer.every((x: { householdId: number }) => hh.some((h) => h.id === x.householdId))).toBe(true)
      expect(today.orders.map((o: { id: number }) => o.id)).toEqual([order])
    })

    it('shows a grid\'s patrols up its chain: who walked it that day, and whether each 三查 phase of its storm was walked', async () => {
      // The Beijing day of a moment (the patrols are a day's): the points below may fall on the day before, just
      // after midnight, and the suite runs at every hour.
      const dayOf = (ms: number) => new Date(ms + 8 * 3600_000).toISOString().slice(0, 10)
      let path = `/api/field/patrols?grid=${grid.code}&day=${dayOf(Date.now())}`
      type Phase = { phase: string; from: string; to: string; points: number; walked: boolean }
      const read = async () => {
        const r = await town.get(path)
        expect(r.status, await r.clone().text()).toBe(200)
        return (await r.json()) as { workers: { id: number; points: number }[]; phases: Phase[] }
      }
      let first = await read()
      let phase = first.phases.find((p) => p.phase === 'before')!
      expect(phase, 'the forecast opened the grid\'s before-rain checklists').toBeDefined()
      // Two points inside the grid while its before-rain checklists were open: the phase is walked.
      const [inside] = await s.db.sql`SELECT ST_X(ST_PointOnSurface(geom)) AS lon, ST_Y(ST_PointOnSurface(geom)) AS lat FROM grids WHERE code = ${grid.code}`
      let t = Math.min(Date.parse(phase.to), Date.now() - 60_000)
      // Both points on one Beijing day, and the patrols of that day read before and after.
      if (dayOf(t - 30_000) !== dayOf(t)) t -= 31_000
      expect(t - 30_000).toBeGreaterThan(Date.parse(phase.from))
      if (dayOf(t) !== dayOf(Date.now())) {
        path = `/api/field/patrols?grid=${grid.code}&day=${dayOf(t)}`
        first = await read()
        phase = first.phases.find((p) => p.phase === 'before')!
      }
      const when = (ms: number) => new Date(ms).toISOString()
      const r = await sync(worker, [{ id: randomUUID(), at: when(t), kind: 'track', points: [
        { at: when(t - 30_000), lon: inside.lon, lat: inside.lat }, { at: when(t), lon: inside.lon + 1e-5, lat: inside.lat } ] }])
      expect(r.status, await r.clone().text()).toBe(200)
      const then = await read()
      const walked = then.phases.find((p) => p.phase === 'before')!
      expect(walked.points - phase.points).toBe(2)
      expect(walked.walked).toBe(true)
      const w = then.workers.find((x) => x.id === worker.userId)
      expect(w?.points).toBe((first.workers.find((x) => x.id === worker.userId)?.points ?? 0) + 2)
      // Another grid's worker, or a township that is not the grid's: refused; bad input: 400; no such grid: 404.
      const sideways = await other.get(path)
      expect(sideways.status).toBe(403)
      expect((await sideways.json()).error.code).toBe('forbidden_role')
      const [t2] = await s.db.sql`SELECT code FROM admin_units WHERE level = 'township' AND code <> ${grid.code.slice(0, 9) + '000'} ORDER BY code LIMIT 1`
      expect((await (await loginAs(s, 'township', t2.code as string)).get(path)).status).toBe(403)
      expect((await town.get(`/api/field/patrols?grid=${grid.code}&day=2026-13-40`)).status).toBe(400)
      expect((await town.get(`/api/field/patrols?grid=${grid.code}1&day=${dayOf(t)}`)).status).toBe(400)
      expect((await town.get(`/api/field/patrols?grid=${grid.code.slice(0, 12)}999&day=${dayOf(t)}`)).status).toBe(404)
    })

    it('gives a township its field work of the day at a glance, grid by grid, and the county the same by township', async () => {
      const day = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10)
      const township = `${grid.code.slice(0, 9)}000`
      type Row = { code: string; name: string; visits: number; ticks: number; reports: number; patrollers: number; lastContact: string | null }
      type Overview = { totals: Omit<Row, 'code' | 'name' | 'lastContact'>; rows: Row[] }
      const read = async (who: Client, unit: string) => {
        const r = await who.get(`/api/field/overview?unit=${unit}&day=${day}`)
        expect(r.status, await r.clone().text()).toBe(200)
        return (await r.json()) as Overview
      }
      // The tests above sent visits and a track minutes ago, which fall on the day before just after Beijing
      // midnight: one of each now, so the day read has them at every hour.
      const now = Date.now()
      const today = await sync(worker, [
        { id: randomUUID(), at: new Date(now).toISOString(), kind: 'visit', household: households[0], note: '巡查入户' },
        { id: randomUUID(), at: new Date(now).toISOString(), kind: 'track', points: [
          { at: new Date(now - 1000).toISOString(), lon: 103.71, lat: 27.33 }, { at: new Date(now).toISOString(), lon: 103.7101, lat: 27.3301 }] },
      ])
      expect(today.status, await today.clone().text()).toBe(200)
      const before = await read(town, township)
      const mine = () => before.rows.find((x) => x.code === grid.code)!
      expect(mine().name).toBeTruthy()
      // What the worker's phone sent in the tests above, counted straight from the tables for this grid.
      const { from, to } = { from: new Date(`${day}T00:00:00+08:00`), to: new Date(Date.parse(`${day}T00:00:00+08:00`) + 86_400_000) }
      const [direct] = await s.db.sql`
        SELECT (SELECT count(*)::int FROM visits x JOIN households h ON h.id = x.household_id WHERE h.grid_id = ${grid.id}
                  AND x.visited_at >= ${from} AND x.visited_at < ${to}) AS visits,
               (SELECT count(*)::int FROM task_item_log l JOIN tasks t ON t.id = l.task_id WHERE t.unit_code = ${grid.code}
                  AND l.done AND l.at >= ${from} AND l.at < ${to}) AS ticks,
               (SELECT count(*)::int FROM reports WHERE grid_code = ${grid.code} AND reported_at >= ${from} AND reported_at < ${to}) AS reports`
      expect({ visits: mine().visits, ticks: mine().ticks, reports: mine().reports }).toEqual(direct)
      expect(direct.visits).toBeGreaterThan(0)
      expect(mine().patrollers).toBe(1)
      expect(Date.parse(mine().lastContact!)).toBeGreaterThan(Date.now() - 3600_000)
      // A visit more, now: one more in the grid's row and in the township's total.
      const v = await sync(worker, [{ id: randomUUID(), at: ago(0), kind: 'visit', household: households[1], note: '入户提醒' }])
      expect(v.status, await v.clone().text()).toBe(200)
      const after = await read(town, township)
      expect(after.rows.find((x) => x.code === grid.code)!.visits).toBe(mine().visits + 1)
      expect(after.totals.visits).toBe(before.totals.visits + 1)
      // The county's view holds the township as one row with the township's totals.
      const county = await read(cityCmd, `${grid.code.slice(0, 6)}000000`)
      const row = county.rows.find((x) => x.code === grid.code.slice(0, 9))!
      expect({ visits: row.visits, ticks: row.ticks, reports: row.reports, patrollers: row.patrollers }).toEqual(after.totals)
      // A grid worker, a township not above the unit: refused; bad input 400; no such unit 404.
      expect((await worker.get(`/api/field/overview?unit=${township}&day=${day}`)).status).toBe(403)
      const [t2] = await s.db.sql`SELECT code FROM admin_units WHERE level = 'township' AND code <> ${township} ORDER BY code LIMIT 1`
      expect((await (await loginAs(s, 'township', t2.code as string)).get(`/api/field/overview?unit=${township}&day=${day}`)).status).toBe(403)
      expect((await town.get(`/api/field/overview?unit=${township}&day=yesterday`)).status).toBe(400)
      expect((await town.get(`/api/field/overview?unit=${grid.code}&day=${day}`)).status).toBe(400)
      expect((await town.get(`/api/field/overview?unit=${township.slice(0, 9)}999&day=${day}`)).status).toBe(404)
    })

    it('gives a cadre (包保责任人) the households they answer for, not the grid\'s all; the account must be the grid\'s cadre', async () => {
      const sql = s.db.sql
      const [cadre] = await sql`SELECT id FROM grid_workers WHERE grid_id = ${grid.id} AND role = '包保责任人' ORDER BY id LIMIT 1`
      const [head] = await sql`SELECT id FROM grid_workers WHERE grid_id = ${grid.id} AND role = '网格长' ORDER BY id LIMIT 1`
      const [elsewhere] = await sql`SELECT id FROM grid_workers WHERE grid_id = ${otherGrid.id} AND role = '包保责任人' ORDER BY id LIMIT 1`
      const was = await sql`SELECT id, cadre_id FROM households WHERE grid_id = ${grid.id}`
      // One household of the grid answered for by someone else.
      await sql`UPDATE households SET cadre_id = ${cadre.id} WHERE grid_id = ${grid.id}`
      await sql`UPDATE households SET cadre_id = ${head.id} WHERE id = ${households[3]}`
      const username = `tcadre${randomUUID().slice(0, 8)}`
      try {
        const make = (workerId: number, name = username) =>
          createAccount(sql, { username: name, displayName: '测试包保责任人', role: 'grid_worker', unitCode: grid.code, password: TEST_PASSWORD, workerId }, cliActor('test'))
        // Not a cadre, another grid's cadre: 400, nothing made.
        await expect(make(head.id as number)).rejects.toMatchObject({ status: 400, code: 'bad_cadre' })
        await expect(make(elsewhere.id as number)).rejects.toMatchObject({ status: 400, code: 'bad_cadre' })
        const acc = await make(cadre.id as number)
        await expect(make(cadre.id as number, `${username}x`)).rejects.toMatchObject({ status: 409, code: 'cadre_taken' })
        const phone = await login(s, username, TEST_PASSWORD, acc.id as number)
        const today = await (await phone.get('/api/field/today')).json()
        expect(today.cadre).toMatchObject({ id: cadre.id })
        const ids = (today.households as { id: number }[]).map((h) => h.id).sort((a, b) => a - b)
        const mine = (await sql`SELECT id FROM households WHERE cadre_id = ${cadre.id} ORDER BY id`).map((r) => r.id as number)
        expect(ids).toEqual(mine)
        expect(ids).not.toContain(households[3])
        // The grid worker still sees the grid's all.
        const all = await (await worker.get('/api/field/today')).json()
        expect(all.cadre).toBeNull()
        expect((all.households as { id: number }[]).map((h) => h.id)).toContain(households[3])
      } finally {
        await sql`DELETE FROM users WHERE username LIKE ${username + '%'}`
        for (const h of was) await sql`UPDATE households SET cadre_id = ${h.cadre_id as number | null} WHERE id = ${h.id as number}`
      }
    })

    it('shows a patrol track up the worker\'s chain only, and sweeps it after 90 days', async () => {
      const day = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10)
      const path = `/api/field/tracks?user=${worker.userId}&day=${day}`
      const own = await (await worker.get(path)).json()
      expect(own.points.length).toBeGreaterThanOrEqual(2)
      const up = await town.get(path)
      expect(up.status).toBe(200)
      expect((await up.json()).line.type).toBe('LineString')
      const sideways = await other.get(path)
      expect(sideways.status).toBe(403)
      expect((await sideways.json()).error.code).toBe('forbidden_role')
      const [t2] = await s.db.sql`SELECT code FROM admin_units WHERE level = 'township' ORDER BY code OFFSET 1 LIMIT 1`
      const elsewhere = await loginAs(s, 'township', t2.code as string)
      expect((await elsewhere.get(path)).status).toBe(403)
      // 91 days on, the points are gone.
      const n = async () => (await s.db.sql`SELECT count(*)::int AS n FROM field_tracks WHERE user_id = ${worker.userId}`)[0].n
      expect(await n()).toBeGreaterThan(0)
      await sweepField(s.db.sql, new Date(Date.now() + 89 * 86_400_000))
      expect(await n()).toBeGreaterThan(0)
      await sweepField(s.db.sql, new Date(Date.now() + 91 * 86_400_000))
      expect(await n()).toBe(0)
    })
  })
}
