import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { checkRoleScope, newAccountSchema } from '../../api/auth/accounts.ts'
import { authorize, type SessionUser } from '../../api/auth/guard.ts'
import { actions, roleMay, roles, type Action, type Role } from '../../core/policy.ts'
import { HttpError } from '../../core/errors.ts'
import { sendError } from '../../api/error-answer.ts'
import { checkTransition, statuses } from '../../core/rules/transfer.ts'
import { readJson } from '../../api/validate.ts'
import { latinCodes } from '../helpers/latin-codes.ts'

/** The Chinese words of a message that are raw codes. */
const codesIn = (zh: string) => latinCodes(zh).map((h) => h.word)

/** A real Hono app whose one route asks `authorize` for `action` on behalf of a user of `role`. */
async function refusal(role: Role, action: Action) {
  const app = new Hono()
  app.onError((err, c) => (err instanceof HttpError ? sendError(c, err) : c.text(String(err), 500)))
  app.use(async (c, next) => {
    c.set('user', { id: 1, username: 'someone', displayName: '某人', role, unitCode: '530602000000', mustChangePassword: false } satisfies SessionUser)
    await next()
  })
  app.get('/', (c) => c.json(authorize(c, action)))
  const r = await app.request('/')
  return { status: r.status, body: (await r.json()) as { error: { code: string; zh: string; en: string } } }
}

// Each code of this kind: township 530602100000, village …201, and so on (the level is read from the code alone).
const places = { city: '530600000000', county: '530602000000', township: '530602100000', village: '530602100201', grid: '530602100201003' }
/** checkRoleScope must refuse before it asks the database anything. */
const noDatabase = new Proxy({}, { get: () => { throw new Error('a wrong kind of place must be refused without a query') } }) as never

describe('server messages name roles, places and permissions in words', () => {
  it('says which role may not do what, with no code (403 forbidden_role)', async () => {
    let refused = 0
    for (const role of roles) {
      for (const action of actions) {
        if (roleMay(role, action)) continue
        const r = await refusal(role, action)
        expect(r.status).toBe(403)
        expect(r.body.error.code).toBe('forbidden_role')
        expect(codesIn(r.body.error.zh), r.body.error.zh).toEqual([])
        refused++
      }
    }
    expect(refused).toBeGreaterThan(30)
    const r = await refusal('grid_worker', 'household.edit')
    expect(r.body.error.zh).toBe('您的角色（网格员）无权修改农户台账')
    expect(r.body.error.en).toBe('your role (grid worker) may not edit household ledgers')
  })

  it('refuses a role on the wrong kind of place in words: 乡镇干部 / 行政村级 (400 bad_scope)', async () => {
    const fits: Record<Role, string[]> = {
      admin: ['city', 'county'], commander: ['city', 'county'], township: ['township'], grid_worker: ['village', 'grid'],
      planner: ['city', 'county', 'township'], viewer: ['city', 'county', 'township'],
    }
    for (const role of roles) {
      for (const [level, code] of Object.entries(places)) {
        if (fits[role].includes(level)) continue
        const err = await checkRoleScope(noDatabase, role, code).then(() => null, (e: unknown) => e)
        expect(err, `${role} on ${level}`).toBeInstanceOf(HttpError)
        const e = err as HttpError
        expect(e.code).toBe('bad_scope')
        expect(codesIn(e.zh), e.zh).toEqual([])
      }
    }
    const e = (await checkRoleScope(noDatabase, 'township', places.village).catch((x: unknown) => x)) as HttpError
    expect(e.zh).toBe('乡镇干部不能分配到行政村级（530602100201），应为乡镇级')
    const w = (await checkRoleScope(noDatabase, 'grid_worker', places.county).catch((x: unknown) => x)) as HttpError
    expect(w.zh).toBe('网格员不能分配到县级（530602000000），应为行政村级或网格级')
    expect(w.en).toBe('a grid worker cannot be placed on a county (530602000000); expected a village or grid')
  })

  it('names transfer statuses in words when a change is refused', () => {
    let refusals = 0
    for (const from of statuses) {
      for (const to of statuses) {
        try {
          checkTransition(from, to, undefined)
        } catch (e) {
          expect(e).toBeInstanceOf(HttpError)
          expect(codesIn((e as HttpError).zh), (e as HttpError).zh).toEqual([])
          refusals++
        }
      }
    }
    expect(refusals).toBeGreaterThan(7)
  })

  it('says what is wrong with a form in Chinese words: the field and the rule, not zod\'s English (400 bad_input)', async () => {
    const app = new Hono()
    app.onError((err, c) => (err instanceof HttpError ? sendError(c, err) : c.text(String(err), 500)))
    app.post('/', async (c) => c.json(await readJson(c, newAccountSchema)))
    const send = async (body: unknown) => {
      const r = await app.request('/', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
      return { status: r.status, error: ((await r.json()) as { error: { code: string; zh: string; en: string } }).error }
    }
    // What an admin might type into the accounts form.
    const r = await send({ username: 'Zhang San', displayName: '', role: 'boss', unitCode: '5306', password: 'x' })
    expect(r.status).toBe(400)
    expect(r.error.code).toBe('bad_input')
    expect(r.error.zh).toBe('输入有误：用户名格式有误：须为 3–32 位小写字母、数字或 . _ -，以字母或数字开头；姓名至少 1 个字符；角色取值无效；管辖区划/网格代码格式有误：须为 12 位区划代码或 15 位网格代码')
    expect(r.error.en).toContain('username')
    const missing = await send({ displayName: '张三', role: 'planner', unitCode: '530600000000', password: 'Long-enough-2026' })
    expect(missing.error.zh).toBe('输入有误：缺少用户名')
    for (const e of [r.error, missing.error]) expect(codesIn(e.zh), e.zh).toEqual([])
  })
})
