import type { Sql } from '../db/connect.ts'
import { cliActor, createAccount, type NewAccount } from './accounts.ts'
import { verifyPassword } from './passwords.ts'

/** The one password of the demo accounts (embedded demo only; printed at every start). */
export const DEMO_PASSWORD = 'Zhaotong-2026'

/** One account per role, in the demo county and its first township and grid. */
async function demoAccounts(sql: Sql): Promise<NewAccount[]> {
  const [p] = await sql`
    SELECT c.code AS county, c.name AS county_name, t.code AS township, t.name AS township_name, g.code AS grid, g.name AS grid_name
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

/** Lines that list the accounts for the console; the demo password is shown while it still works. */
export async function describeAccounts(sql: Sql, listThem: boolean): Promise<string[]> {
  const rows = await sql`SELECT username, display_name, role, unit_code, password_hash, disabled FROM users ORDER BY id LIMIT 20`
  if (rows.length && !listThem) return []
  if (!rows.length) return ['还没有账号 / no accounts yet: npm run user -- add --username NAME --name 姓名 --role admin --unit 530600000000']
  const lines = ['账号 / accounts (用户名 username · 角色 role · 范围 scope):']
  for (const r of rows) {
    const demo = await verifyPassword(r.password_hash as string, DEMO_PASSWORD)
    lines.push(`  ${String(r.username).padEnd(12)} ${String(r.role).padEnd(12)} ${r.unit_code}  ${r.display_name}${r.disabled ? ' (停用 disabled)' : ''}${demo ? `  密码 password: ${DEMO_PASSWORD}` : ''}`)
  }
  return lines
}
