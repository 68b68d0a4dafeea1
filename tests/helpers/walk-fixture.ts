import { randomBytes } from 'node:crypto'
import { cliActor, createAccount } from '../../api/auth/accounts.ts'
import { roles, type Role } from '../../core/policy.ts'
import type { Sql } from '../../db/connect.ts'
import { restoreSeedCovers } from './grid-covers.ts'
import type { WalkFixture } from './role-screens.ts'
import { login, TEST_PASSWORD, type Client } from './session.ts'

/** People's names for the walk's accounts: a screen showing one shows Chinese. */
const names: Record<Role, string> = {
  admin: '走查管理员', commander: '走查指挥长', township: '走查乡镇干部', grid_worker: '走查网格员', planner: '走查规划员', viewer: '走查大屏',
}

async function ok(r: Response, what: string) {
  if (!r.ok) throw new Error(`${what}: ${r.status} ${await r.text()}`)
  return r.json()
}

/**
 * Places, records and a little history for a walk through every screen in
 * `county` (6 digits): a household in a grid of a village with an active
 * hazard site, one account a role placed there, an edited household and
 * grid, a saved and restored grid cover, and a transfer order over the grid
 * with households at several statuses. `undo` puts the data back as seeded.
 */
export async function buildWalk(sql: Sql, url: string, county: string) {
  const [site] = await sql`
    SELECT z.id, z.admin_code AS village, r.shelter_id FROM hazard_sites z JOIN routes r ON r.hazard_id = z.id
    JOIN admin_units v ON v.code = z.admin_code AND v.level = 'village'
    WHERE z.status = 'active' AND z.threatened_households > 0 AND z.admin_code LIKE ${county + '%'}
      AND (SELECT count(*) FROM grids g WHERE g.village_id = v.id AND g.kind = 'basic') >= 2
    ORDER BY z.threatened_households DESC, z.id LIMIT 1`
  if (!site) throw new Error(`no active hazard site with a route in a village of ${county}`)
  const [g] = await sql`
    SELECT g.id, g.code, g.name, min(h.id) AS household FROM grids g JOIN admin_units v ON v.id = g.village_id JOIN households h ON h.grid_id = g.id
    WHERE v.code = ${site.village} AND g.kind = 'basic' GROUP BY g.id, g.code, g.name ORDER BY count(*) DESC, g.code LIMIT 1`
  const village = site.village as string
  const fx: WalkFixture = {
    county,
    township: village.slice(0, 9) + '000',
    village,
    grid: { id: g.id as number, code: g.code as string },
    household: Number(g.household),
    hazard: site.id as number,
    shelter: site.shelter_id as number,
    order: 0,
    report: 0,
  }
  const place: Record<Role, string> = {
    admin: '530600000000', commander: `${county}000000`, township: fx.township, grid_worker: fx.grid.code, planner: '530600000000', viewer: `${county}000000`,
  }
  const clients = {} as Record<Role, Client>
  for (const role of roles) {
    const username = `walk${role.replace('_', '')}${randomBytes(3).toString('hex')}`
    await createAccount(sql, { username, displayName: names[role], role, unitCode: place[role], password: TEST_PASSWORD }, cliActor('test'))
    clients[role] = await login({ url } as never, username, TEST_PASSWORD)
  }
  const town = clients.township

  // History: the household's ledger, a visit, the grid's name.
  const h0 = await ok(await town.get(`/api/households/${fx.household}`), 'household')
  await ok(await town.send('PATCH', `/api/households/${fx.household}`, {
    version: h0.version, risk_level: h0.risk_level === 'red' ? 'yellow' : 'red', measures: '走查：加固后墙', flood_exposed: !h0.flood_exposed,
  }), 'household edit')
  await ok(await town.send('POST', `/api/households/${fx.household}/visits`, { note: '走查入户' }), 'visit')
  const g0 = await ok(await town.get(`/api/grids/${fx.grid.id}`), 'grid')
  await ok(await town.send('PATCH', `/api/grids/${fx.grid.id}`, { version: g0.version, name: `${g0.name}（走查）` }), 'grid rename')

  // The grid editor's history: a reshape, then back to the seeded cover.
  const base = `/api/villages/${village}/cover`
  const c0 = await ok(await town.get(base), 'cover')
  const [grown] = await sql`
    SELECT ST_AsGeoJSON(ST_Intersection(ST_Buffer(g.geom::geography, 60)::geometry, v.geom), 10)::json AS g
    FROM grids g JOIN admin_units v ON v.id = g.village_id WHERE g.code = ${fx.grid.code}`
  const saved = await ok(await town.send('POST', base, { change: { op: 'reshape', grid: fx.grid.code, geometry: grown.g }, version: c0.version }), 'cover save')
  await ok(await town.send('POST', `${base}/versions/0/restore`, { version: saved.version }), 'cover restore')

  // A transfer order over the grid, households at several statuses.
  const order = await ok(await clients.commander.send('POST', '/api/evacuation/orders', {
    stage: 'everyone', trigger: { kind: 'manual' }, grids: [fx.grid.id], title: '走查转移指令',
  }), 'order')
  fx.order = order.order.id as number
  const list = await ok(await clients.commander.get(`/api/evacuation/orders/${fx.order}/households?limit=10`), 'order households')
  const [a, b, c] = list.households as { id: number }[]
  const move = async (id: number, body: object) => ok(await clients.commander.send('PATCH', `/api/evacuation/orders/${fx.order}/households/${id}`, body), 'status')
  if (a) await move(a.id, { status: 'notified', from: 'not_notified' })
  if (b) await move(b.id, { status: 'refused', from: 'not_notified' })
  if (c) await move(c.id, { status: 'unreachable', from: 'not_notified' })

  // A 特急 problem report in the grid, filed on the duty phone: at the township, with a caller (masked for some roles).
  const [pt] = await sql`SELECT ST_X(p) AS lng, ST_Y(p) AS lat FROM (SELECT ST_PointOnSurface(geom) AS p FROM grids WHERE code = ${fx.grid.code}) g`
  const report = await ok(await clients.grid_worker.send('POST', '/api/reports', {
    type: 'house_danger', urgency: 'critical', lng: pt.lng, lat: pt.lat, note: '走查：后墙开裂', caller: { name: '走查来电人', phone: '13800001111' },
  }), 'report')
  fx.report = report.id as number

  async function undo() {
    await sql`DELETE FROM reports WHERE id = ${fx.report}`
    await sql`DELETE FROM evac_orders WHERE id = ${fx.order}`
    await restoreSeedCovers(sql)
    const h = await ok(await town.get(`/api/households/${fx.household}`), 'household')
    await ok(await town.send('PATCH', `/api/households/${fx.household}`, {
      version: h.version, risk_level: h0.risk_level, measures: h0.measures, flood_exposed: h0.flood_exposed,
    }), 'household put back')
    const g1 = await ok(await town.get(`/api/grids/${fx.grid.id}`), 'grid')
    await ok(await town.send('PATCH', `/api/grids/${fx.grid.id}`, { version: g1.version, name: g0.name }), 'grid name put back')
  }
  return { fx, clients, undo }
}
