import fs from 'node:fs'
import type { SessionUser } from '../auth/guard.ts'
import type { Sql } from '../../db/connect.ts'
import { transaction, type Tx } from '../../db/transaction.ts'
import { issueOrder } from '../evac/orders.ts'
import { ingestForecasts, ingestReadings, ingestStations, scriptActor } from '../rain/ingest.ts'
import { timeline, type Storm } from '../../data/storms/build.ts'

/**
 * A past storm as it was lived, so that a newcomer can replay it on the
 * command wall at once: the rain arrives hour by hour through the real ingest
 * code (forecasts, readings, events, 三查 tasks), then the people act — grid
 * workers tick their checklists, the county orders transfers at the 1262
 * ladder's 6 h and 2 h steps, households are notified, move, arrive, a few
 * refuse or cannot be reached, and all go home after the rain. Every action
 * is written with its own time, as the live code writes it, so the replay
 * rebuilds each moment from the same history a real storm leaves.
 * Deterministic: the "random" choices hash the row ids.
 */
export async function writeStormHistory(
  sql: Sql, storm: Storm, say: (m: string) => void = () => {},
  opts: {
    /** Called once each step's rain is in (tests look at the live state there). */
    afterStep?: (time: string) => Promise<void>
    /** Moves the storm in time (the shipped one is in July 2026). */
    shiftMs?: number
    /** Stops between steps (a server stopping while it writes the history in the background); the next start writes it again. */
    signal?: AbortSignal
  } = {},
) {
  const actor = scriptActor('seed:storm')
  const rows = (a: object[]) => a.map((values, i) => ({ row: i + 1, values: values as Record<string, unknown> }))
  storm = shifted(storm, opts.shiftMs ?? 0)
  const steps = timeline(storm)
  if (Date.parse(steps.at(-1)!.time) > Date.now()) throw new Error(`storm ${storm.name} ends in the future`)
  await ingestStations(sql, actor, rows(storm.stations))
  const [{ first }] = await sql<{ first: string }[]>`SELECT coalesce(max(id), 0)::text AS first FROM live_events`
  for (const [i, s] of steps.entries()) {
    opts.signal?.throwIfAborted()
    const before = (await sql<{ id: string }[]>`SELECT coalesce(max(id), 0)::text AS id FROM live_events`)[0].id
    if (s.forecasts.length) await ingestForecasts(sql, actor, rows(s.forecasts))
    if (s.readings.length) await ingestReadings(sql, actor, rows(s.readings))
    // The feed's events carry the storm's time, not the seeding's.
    await sql`UPDATE live_events SET at = ${s.time}::timestamptz WHERE id > ${before}::bigint`
    await opts.afterStep?.(s.time)
    say(`演示暴雨 / demo storm: ${i + 1}/${steps.length}`)
  }
  // Events start at a forecast or a reading hour: an hour before the first step at the earliest.
  opts.signal?.throwIfAborted()
  await tickChecklists(sql, storm.county, new Date(Date.parse(steps[0].time) - 3600_000).toISOString())
  say('演示暴雨：转移 / demo storm: transfers')
  opts.signal?.throwIfAborted()
  await transfers(sql, storm)
  const [{ n }] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM live_events WHERE id > ${first}::bigint`
  return { events: n }
}

/** The storm `ms` later (earlier if negative). */
export function shifted(storm: Storm, ms: number): Storm {
  const at = (iso: string) => new Date(Date.parse(iso) + ms).toISOString()
  return {
    ...storm,
    hours: storm.hours.map((h) => ({ ...h, hour: at(h.hour) })),
    forecasts: storm.forecasts.map((f) => ({ ...f, issuedAt: at(f.issuedAt), periodStart: at(f.periodStart), periodEnd: at(f.periodEnd) })),
  }
}

/** SQL for a number in [0, 1) from a row's identity (`key`, an SQL text expression): the same history on every seed. */
const u = (db: Sql | Tx, key: string) => db.unsafe(`(('x' || substr(md5(${key}), 1, 8))::bit(32)::int8 & 2147483647)::float8 / 2147483648`)

/**
 * Grid workers tick their checklists: most finish within the due time, some
 * late, one in twelve stops half-way and one in twenty-five never starts.
 * Item k of n is ticked at k/n of the way to the task's finishing time.
 */
async function tickChecklists(db: Sql, county: string, since: string) {
  await db`
    WITH t AS (
      SELECT t.id, t.opened_at, t.due_at, jsonb_array_length(t.items) AS n, coalesce(w.name, '网格员') AS who,
             ${u(db, "'tick' || t.id")} AS r, ${u(db, "'when' || t.id")} AS q
      FROM tasks t JOIN rain_events e ON e.id = t.event_id LEFT JOIN grid_workers w ON w.id = t.assignee_id
      -- This storm's tasks only: a database may hold other storms of the county.
      WHERE e.county_code = ${county} AND e.started_at >= ${since}::timestamptz
    ), plan AS (
      SELECT t.id, t.who, x.k, t.n,
             t.opened_at + (t.due_at - t.opened_at) * (0.2 + 1.1 * t.q) * x.k / t.n AS at
      FROM t CROSS JOIN LATERAL generate_series(1, t.n) x(k)
      WHERE t.r >= 0.04 AND (t.r >= 0.12 OR x.k <= t.n / 2)
    ), logged AS (
      INSERT INTO task_item_log (task_id, item, done, at, actor)
      SELECT id, k, true, at, who FROM plan WHERE at < now()
      RETURNING task_id, item, at, actor
    ), items AS (
      SELECT t.id, jsonb_agg(CASE WHEN l.at IS NULL THEN i ELSE i || jsonb_build_object('done', true, 'byName', l.actor, 'at', l.at) END ORDER BY x.k) AS items,
             count(l.at) AS d, max(l.at) AS last
      FROM tasks t JOIN (SELECT DISTINCT id FROM plan) p ON p.id = t.id
      CROSS JOIN LATERAL jsonb_array_elements(t.items) WITH ORDINALITY x(i, k)
      LEFT JOIN logged l ON l.task_id = t.id AND l.item = x.k
      GROUP BY t.id
    )
    UPDATE tasks t SET items = items.items,
           status = CASE WHEN items.d = jsonb_array_length(t.items) THEN 'done' WHEN items.d > 0 THEN 'in_progress' ELSE 'not_started' END,
           done_at = CASE WHEN items.d = jsonb_array_length(t.items) THEN items.last END, version = t.version + 1
    FROM items WHERE items.id = t.id`
  // The ticker's view of it: per township and phase, how many checklists were finished in each hour.
  await db`
    INSERT INTO live_events (at, kind, unit_code, payload)
    SELECT date_trunc('hour', t.done_at) + interval '59 minutes', 'task.item', left(t.unit_code, 9) || '000',
           jsonb_build_object('phase', t.phase, 'status', 'done', 'count', count(*), 'by', '网格员')
    FROM tasks t JOIN rain_events e ON e.id = t.event_id
    WHERE e.county_code = ${county} AND e.started_at >= ${since}::timestamptz AND t.status = 'done'
    GROUP BY 1, 3, t.phase ORDER BY 1`
}

/**
 * The 1262 ladder's transfers: vulnerable people first when the 6 h forecast
 * of heavy rain came, everyone threatened at the 2 h step, in the townships
 * where heavy rain was forecast. Households go notified → moving → at the
 * shelter within the deadline (a few refuse or cannot be reached), and return
 * once the county's event has closed; then the orders close.
 */
async function transfers(db: Sql, storm: Storm) {
  const heavy = storm.forecasts.filter((f) => f.leadHours === 6 && f.mm >= 50)
  if (!heavy.length) return
  const townships = [...new Set(heavy.map((f) => f.area))].sort()
  const sixHour = heavy[0].issuedAt
  const twoHour = storm.forecasts.filter((f) => f.leadHours === 2 && f.mm >= 50 && townships.includes(f.area)).map((f) => f.issuedAt).sort()[0]
    ?? new Date(Date.parse(heavy[0].periodStart) - 2 * 3600_000).toISOString()
  const [commander] = await db<{ id: number }[]>`SELECT id FROM users WHERE role = 'commander' ORDER BY id LIMIT 1`
  const user: SessionUser = {
    // Before the demo accounts exist the order is the headquarters' own (issued_by stays empty).
    id: commander?.id ?? (null as unknown as number), username: 'seed:storm', displayName: '县防汛指挥部', role: 'commander',
    unitCode: storm.county + '000000', mustChangePassword: false,
  }
  const [ev] = await db<{ closed: Date | null }[]>`
    SELECT max(closed_at) AS closed FROM rain_events WHERE county_code = ${storm.county} AND started_at <= ${storm.hours.at(-1)!.hour}::timestamptz`
  const goHome = ev?.closed ?? new Date(Date.parse(storm.hours.at(-1)!.hour) + 3600_000)
  for (const [stage, issuedAt] of [['vulnerable', sixHour], ['everyone', twoHour]] as const) {
    const before = (await db<{ id: string }[]>`SELECT coalesce(max(id), 0)::text AS id FROM live_events`)[0].id
    const { order } = await issueOrder(db, user, {
      title: stage === 'vulnerable' ? '暴雨6小时预警：弱势群体先转移' : '暴雨2小时预警：受威胁群众全部转移',
      stage, trigger: { kind: 'forecast', ref: { leadHours: stage === 'vulnerable' ? 6 : 2, townships } },
      sites: [], sitesIn: townships, grids: [], units: [], deadline: 120, dryRun: false,
    })
    if (!order) continue
    const id = Number(order.id)
    await db`UPDATE evac_orders SET issued_at = ${issuedAt}::timestamptz, deadline = ${issuedAt}::timestamptz + interval '2 hours' WHERE id = ${id}`
    await db`UPDATE live_events SET at = ${issuedAt}::timestamptz WHERE id > ${before}::bigint`
    await transaction(db, (tx) => moveHouseholds(tx, id, goHome))
  }
}

async function moveHouseholds(db: Tx, orderId: number, goHome: Date) {
  const by = '网格员'
  // Each household's path with its times; r decides refusals, q/w the pace.
  await db`
    CREATE TEMP TABLE storm_moves (order_id int, household_id int, grid_code text, step int, from_status text, to_status text,
                                   people int, reason text, at timestamptz) ON COMMIT DROP`
  await db`
    WITH h AS (
      SELECT e.household_id, e.grid_code, e.members, o.issued_at,
             ${u(db, "'r' || e.order_id || ':' || e.household_id")} AS r, ${u(db, "'q' || e.order_id || ':' || e.household_id")} AS q
      FROM evac_households e JOIN evac_orders o ON o.id = e.order_id WHERE e.order_id = ${orderId}
    ), t AS (
      SELECT h.*, issued_at + interval '5 minutes' + q * interval '35 minutes' AS notified,
             issued_at + interval '20 minutes' + q * interval '70 minutes' AS moving,
             issued_at + interval '40 minutes' + q * interval '95 minutes' AS arrived,
             ${goHome.toISOString()}::timestamptz + q * interval '5 hours' AS home
      FROM h
    )
    INSERT INTO storm_moves
    SELECT ${orderId}, household_id, grid_code, s.step, s.f, s.t, s.people, s.reason, s.at
    FROM t CROSS JOIN LATERAL (VALUES
      (1, 'not_notified', CASE WHEN r < 0.02 THEN 'unreachable' ELSE 'notified' END, NULL::int,
          CASE WHEN r < 0.02 THEN '电话未接通，正派人上门' END, notified),
      (2, 'notified', CASE WHEN r < 0.05 THEN 'refused' ELSE 'moving' END, NULL, CASE WHEN r < 0.05 THEN '不愿离家，村干部继续劝导' END, moving),
      (3, 'moving', 'at_shelter', greatest(1, members - (r * 100)::int % 2), NULL, arrived),
      (4, 'at_shelter', 'returned', greatest(1, members - (r * 100)::int % 2), NULL, home)
    ) s(step, f, t, people, reason, at)
    WHERE (s.step = 1 OR r >= 0.02) AND (s.step <= 2 OR r >= 0.05) AND s.at < now()`
  await db`
    INSERT INTO evac_status_log (order_id, household_id, from_status, to_status, people, reason, actor, at)
    SELECT order_id, household_id, from_status, to_status, people, reason, ${by}, at FROM storm_moves ORDER BY at, household_id`
  await db`
    UPDATE evac_households e SET status = m.to_status, people = m.people, reason = m.reason, updated_at = m.at, updated_by = ${by}, open = false,
                                 version = e.version + m.step
    FROM (SELECT DISTINCT ON (household_id) * FROM storm_moves ORDER BY household_id, step DESC) m
    WHERE e.order_id = ${orderId} AND e.household_id = m.household_id`
  // The ticker's view: per grid, step and ten minutes, how many households moved on.
  await db`
    INSERT INTO live_events (at, kind, unit_code, payload)
    SELECT max(at), 'evac.status', grid_code,
           jsonb_build_object('orderId', ${orderId}::int, 'households', jsonb_agg(household_id ORDER BY household_id), 'from', from_status, 'status', to_status, 'by', ${by}::text)
    FROM storm_moves GROUP BY grid_code, from_status, to_status, date_trunc('hour', at), floor(extract(minute FROM at) / 10)
    ORDER BY max(at)`
  const [{ last }] = await db<{ last: Date | null }[]>`SELECT max(at) AS last FROM storm_moves`
  const closedAt = new Date(Math.min(Date.now() - 60_000, (last?.getTime() ?? goHome.getTime()) + 30 * 60_000))
  const [o] = await db<{ unit: string }[]>`
    UPDATE evac_orders SET status = 'closed', closed_at = ${closedAt}, version = version + 1 WHERE id = ${orderId} RETURNING unit_code AS unit`
  await db`INSERT INTO live_events (at, kind, unit_code, payload)
           VALUES (${closedAt}, 'evac.order', ${o.unit}, ${db.json({ orderId, action: 'closed', by: '县防汛指挥部' })})`
}

/** The storm that ships with the demo data (data/storms/zhaoyang-july.json), over 昭阳区. */
export const DEMO_STORM_FILE = new URL('../../data/storms/zhaoyang-july.json', import.meta.url)

/** Writes the shipped storm's history when its county's townships are in the database; says why not otherwise. */
export async function seedDemoStorm(
  sql: Sql, say: (m: string) => void = () => {}, signal?: AbortSignal,
): Promise<{ events: number } | { skipped: string }> {
  const storm = JSON.parse(fs.readFileSync(DEMO_STORM_FILE, 'utf8')) as Storm
  // Every county has its outline at every scale; the storm needs the townships its forecasts name.
  const areas = [...new Set(storm.forecasts.map((f) => f.area))]
  const [{ n }] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM admin_units WHERE code = ANY(${areas}::text[])`
  if (n < areas.length) return { skipped: `the townships of county ${storm.county} are not in this database` }
  return writeStormHistory(sql, storm, say, { signal })
}

/**
 * Removes what a storm history wrote (rain, its events and checklists, transfer orders, the live feed), as the
 * seed does before it writes: for a history cut off half-way, written again from the start.
 */
export async function clearStormHistory(sql: Sql) {
  await sql`TRUNCATE evac_households, evac_status_log, evac_orders, live_events, rain_readings, rain_forecasts, rain_warnings,
            rain_state, tasks, rain_events, rain_stations, rain_units, rain_weights, wall_figures RESTART IDENTITY CASCADE`
  await sql`UPDATE rain_cache SET stale = true, state_as_of = NULL`
}
