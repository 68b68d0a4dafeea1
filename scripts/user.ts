/**
 * Accounts from the command line, against DATABASE_URL or the embedded
 * database (through a running gridwatch's socket when one holds the folder).
 *   npm run user -- add --username NAME --name 姓名 --role ROLE --unit CODE [--password P] [--cadre ID]
 *     (--cadre: a grid worker's account for the cadre 包保责任人 of roster entry ID, who sees the households they answer for)
 *   npm run user -- list
 *   npm run user -- disable|enable|unlock --username NAME   (unlock: clears the account's login throttles)
 *   npm run user -- reset-password --username NAME [--password P]
 * Without --password a random one is printed; it must be changed at first login.
 */
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { ZodError } from 'zod'
import { cliActor, createAccount } from '../api/auth/accounts.ts'
import { checkPasswordRules, hashPassword } from '../api/auth/passwords.ts'
import { roles } from '../core/policy.ts'
import { LoginThrottle } from '../api/auth/throttle.ts'
import { config } from '../core/config.ts'
import { connect } from '../db/connect.ts'
import { runningEmbeddedUrl } from '../db/embedded.ts'
import { writeTx } from '../db/write.ts'
import { HttpError } from '../core/errors.ts'
import { migrate } from '../data/migrate.ts'

const usage = `npm run user -- add --username NAME --name 姓名 --role ${roles.join('|')} --unit CODE [--password P] [--cadre ROSTER_ID]
npm run user -- list
npm run user -- disable|enable|unlock --username NAME
npm run user -- reset-password --username NAME [--password P]`

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    username: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' }, unit: { type: 'string' },
    password: { type: 'string' }, cadre: { type: 'string' }, help: { type: 'boolean' },
  },
})
const command = positionals[0]
if (values.help || !command) {
  console.log(usage)
  process.exit(values.help ? 0 : 2)
}
const fail = (msg: string): never => {
  console.error(`${msg}\n${usage}`)
  process.exit(2)
}
if (!['add', 'list', 'disable', 'enable', 'unlock', 'reset-password'].includes(command)) fail(`未知命令 / unknown command "${command}"`)
if (command !== 'list' && !values.username) fail('需要 --username / --username is required')

const generated = !values.password
const password = values.password ?? `Gw-${randomBytes(9).toString('base64url')}`
const actor = cliActor(process.env.USER ?? 'user')

const db = config.databaseUrl ? await connect() : await connect({ databaseUrl: runningEmbeddedUrl(config.dataDir) ?? null, quiet: true })
try {
  await migrate(db.sql)
  const one = async (set: Record<string, unknown>, endSessions: boolean) => {
    const [u] = await db.sql`SELECT id FROM users WHERE username = ${values.username!}`
    if (!u) fail(`没有这个账号 / no account "${values.username}"`)
    await writeTx(db.sql, actor, (tx) => tx`UPDATE users SET ${tx(set)}, version = version + 1 WHERE id = ${u.id as number}`)
    if (!endSessions) return
    // Sessions of a disabled account or a reset password end now, in every API process.
    for (const r of await db.sql`DELETE FROM sessions WHERE user_id = ${u.id as number} RETURNING token_hash`) {
      await db.sql`SELECT pg_notify('gridwatch_sessions', ${r.token_hash as string})`
    }
  }
  if (command === 'add') {
    if (!values.name || !values.role || !values.unit) fail('add 需要 --name --role --unit / add needs --name, --role and --unit')
    if (values.cadre !== undefined && !/^[1-9][0-9]{0,9}$/.test(values.cadre)) fail(`--cadre 须为花名册编号 / --cadre must be a roster id, got "${values.cadre}"`)
    const workerId = values.cadre === undefined ? undefined : Number(values.cadre)
    const acc = await createAccount(db.sql, { username: values.username!, displayName: values.name!, role: values.role as never, unitCode: values.unit!, password, workerId }, actor, { mustChange: generated })
    console.log(`已创建 / created: ${acc.username} (${acc.role}, ${acc.unitCode})${generated ? `  初始密码 initial password: ${password} （首次登录须修改 / change at first login）` : ''}`)
  } else if (command === 'list') {
    const throttled = new Set((await new LoginThrottle(db.sql).list()).map((t) => t.username))
    for (const u of await db.sql`SELECT username, display_name, role, unit_code, disabled FROM users ORDER BY username`) {
      console.log(`${String(u.username).padEnd(16)} ${String(u.role).padEnd(12)} ${u.unit_code}  ${u.display_name}${u.disabled ? '  停用 disabled' : ''}${throttled.has(u.username as string) ? '  登录受限 throttled' : ''}`)
    }
  } else if (command === 'disable' || command === 'enable') {
    await one({ disabled: command === 'disable' }, command === 'disable')
    console.log(`${command}d: ${values.username}`)
  } else if (command === 'unlock') {
    const [u] = await db.sql`SELECT 1 FROM users WHERE username = ${values.username!}`
    if (!u) fail(`没有这个账号 / no account "${values.username}"`)
    const n = await new LoginThrottle(db.sql).clearAccount(actor, values.username!)
    console.log(`已清除登录限制 / login throttles cleared: ${values.username} (${n})`)
  } else {
    checkPasswordRules(password, values.username!)
    await one({ password_hash: await hashPassword(password), must_change_password: generated, password_changed_at: new Date() }, true)
    console.log(`密码已重置 / password reset: ${values.username}${generated ? `  新密码 new password: ${password} （首次登录须修改 / change at first login）` : ''}`)
  }
} catch (err) {
  if (err instanceof HttpError) fail(`${err.zh} / ${err.en}`)
  if (err instanceof ZodError) fail(err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '))
  throw err
} finally {
  await db.close()
}
