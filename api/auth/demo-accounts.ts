import type { Sql } from '../../db/connect.ts'
import { cliActor, createAccount, type NewAccount } from './accounts.ts'

/** The one password of the demo accounts (embedded demo only; printed once, at the start that creates them). */
export const DEMO_PASSWORD = 'Zhaotong-2026'

/** One account per role, in the demo county and its first township and grid. */
async function demoAccounts(sql: Sql): Promise<NewAccount[]> {
  const [p] = await sql`
    SELECT c.code AS county, c.name AS county_name, t.code AS township, t.name AS township_name, g.code AS grid, g.name AS grid_name,
           (SELECT w.id FROM grid_workers w WHERE w.grid_id = g.id AND w.role = '包保责任人' ORDER BY w.id LIMIT 1) AS cadre,
           (SELECT w.name FROM grid_workers w WHERE w.grid_id = g.id AND w.role = '包保责任人' ORDER BY w.id LIMIT 1) AS cadre_name
    FROM admin_units c JOIN admin_units t ON t.parent_id = c.id JOIN admin_units v ON v.parent_id = t.id
    JOIN grids g ON g.village_id = v.id AND g.kind = 'basic'
    WHERE c.level = 'county' AND EXISTS (SELECT 1 FROM household_rollups r WHERE r.level = 'county' AND r.unit_id = c.id AND r.households > 0)
    ORDER BY c.code, t.code, v.code, g.code LIMIT 1`
  if (!p) return []
  const [city] = await sql`SELECT code FROM admin_units WHERE level = 'city'`
  const a = (username: string, displayName: string, role: NewAccount['role'], unitCode: string): NewAccount => ({
    username, displayName, role, unitCode, password: DEMO_PASSWORD,
  })
  return [
    a('admin', '系统管理员', 'admin', city.code as string),
    a('commander', `${p.county_name}指挥长`, 'commander', p.county as string),
    a('township', `${p.township_name}干部`, 'township', p.township as string),
    a('gridworker', `${p.grid_name}网格员`, 'grid_worker', p.grid as string),
    // The cadre answerable for the grid's households (包保责任人), on the field app like the grid worker.
    ...(p.cadre ? [{ ...a('cadre', `${p.cadre_name as string}（包保责任人）`, 'grid_worker', p.grid as string), workerId: p.cadre as number }] : []),
    a('planner', '规划人员', 'planner', city.code as string),
    a('screen', '指挥大屏', 'viewer', p.county as string),
  ]
}

/** Creates the demo accounts on a database with no account yet. Returns whether it did. */
export async function createDemoAccounts(sql: Sql): Promise<boolean> {
  const [{ n }] = await sql`SELECT count(*)::int AS n FROM users`
  if (n > 0) return false
  for (const acc of await demoAccounts(sql)) await createAccount(sql, acc, cliActor('demo'))
  return true
}

/**
 * Lines that list the accounts for the console. The demo password only on the start that created the
 * accounts (`justCreated`): a log is kept and copied, and no password belongs in one after that.
 */
export async function describeAccounts(sql: Sql, opts: { listThem: boolean; justCreated: boolean }): Promise<string[]> {
  const rows = await sql`SELECT username, display_name, role, unit_code, disabled FROM users ORDER BY id LIMIT 20`
  if (rows.length && !opts.listThem) return []
  if (!rows.length) return ['还没有账号 / no accounts yet: npm run user -- add --username NAME --name 姓名 --role admin --unit 530600000000']
  const lines = ['账号 / accounts (用户名 username · 角色 role · 范围 scope):']
  for (const r of rows) {
    lines.push(`  ${String(r.username).padEnd(12)} ${String(r.role).padEnd(12)} ${r.unit_code}  ${r.display_name}${r.disabled ? ' (停用 disabled)' : ''}`)
  }
  lines.push(opts.justCreated
    ? `演示账号密码 / demo password: ${DEMO_PASSWORD}  (只在首次启动显示 / shown at this first start only)`
    : '演示账号密码只在首次启动时显示；重设 / the demo password was shown at the first start only; to set one: npm run user -- reset-password --username NAME')
  return lines
}
