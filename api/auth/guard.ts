import type { Context } from 'hono'
import { HttpError } from '../../core/errors.ts'
import { actionWords, roleWords } from '../../core/words.ts'
import { roleMay, type Action, type Role } from '../../core/policy.ts'
import { inScope, isCityWide } from '../../core/units.ts'

/** The person behind a request, as the session middleware found them. */
export interface SessionUser {
  id: number
  username: string
  displayName: string
  role: Role
  /** 12-digit admin code or 15-digit grid code: where the role applies. */
  unitCode: string
  mustChangePassword: boolean
}

declare module 'hono' {
  interface ContextVariableMap {
    user: SessionUser | undefined
    /** `readOnly`: a server job's session (sessions.ts startJob), refused every write. */
    session: { tokenHash: string; csrfToken: string; readOnly?: boolean } | undefined
    /** Set by the edge (app.ts) from the peer, or a trusted proxy's X-Forwarded-For. */
    clientAddress: string | undefined
  }
}

/** 403 for a role that may not do `action`, naming both in words. */
export const forbiddenRole = (role: Role, action: Action) =>
  new HttpError(403, 'forbidden_role', `您的角色（${roleWords[role].zh}）无权${actionWords[action].zh}`, `your role (${roleWords[role].en}) may not ${actionWords[action].en}`)

export const notLoggedIn = () =>
  new HttpError(401, 'not_logged_in', '请先登录（会话已过期或未登录）', 'please log in (no session, or it has expired)')

/** The logged-in user, or a 401. */
export function requireUser(c: Context): SessionUser {
  const user = c.get('user')
  if (!user) throw notLoggedIn()
  return user
}

/** 403: the target lies outside the writer's area. */
export const forbiddenScope = (scope: string, target: string) =>
  new HttpError(403, 'forbidden_scope', `超出您的管辖范围（${scope}）：${target}`, `outside your area (${scope}): ${target}`)

/** 403: a city-wide setting, and the writer's area is smaller than the city. */
export const cityLevelOnly = (scope: string, what: { zh: string; en: string }) =>
  new HttpError(403, 'forbidden_scope', `${what.zh}是全市共用的设置，只有市级账号可以修改（您的范围：${scope}）`,
    `${what.en} are shared by the whole city: only a city-level account may change them (your area: ${scope})`)

/**
 * The logged-in user when their role may do `action` and, given a
 * `targetCode` (admin, grid or micro-grid code), when it lies in their scope;
 * else 401 (nobody logged in) or 403 naming what is missing.
 */
export function authorize(c: Context, action: Action, targetCode?: string): SessionUser {
  return authorizeUser(requireUser(c), action, targetCode)
}

/** authorize() for a user already known (a batch of actions from the field app, each checked on its own). */
export function authorizeUser(user: SessionUser, action: Action, targetCode?: string): SessionUser {
  if (!roleMay(user.role, action)) {
    throw forbiddenRole(user.role, action)
  }
  if (targetCode !== undefined && !inScope(user.unitCode, targetCode)) throw forbiddenScope(user.unitCode, targetCode)
  return user
}

/**
 * The logged-in user when their role may do `action` on something the whole
 * city shares (`what`, for the message): the role, and a city-wide scope.
 */
export function authorizeCityWide(c: Context, action: Action, what: { zh: string; en: string }): SessionUser {
  return authorizeUserCityWide(requireUser(c), action, what)
}

/** authorizeCityWide() for a user already known. */
export function authorizeUserCityWide(user: SessionUser, action: Action, what: { zh: string; en: string }): SessionUser {
  authorizeUser(user, action)
  if (!isCityWide(user.unitCode)) throw cityLevelOnly(user.unitCode, what)
  return user
}

/** Whether the user's role and scope allow `action` on the target: what authorize() would accept. */
export function allowedOn(user: SessionUser | undefined, action: Action, targetCode: string): boolean {
  return !!user && roleMay(user.role, action) && inScope(user.unitCode, targetCode)
}

/** Whether the user may see this target's personal data (names, phone numbers) unmasked. */
export const mayReadPersonal = (user: SessionUser | undefined, targetCode: string) => allowedOn(user, 'personal.read', targetCode)

/** Of `actions`, those the user may take on the target: lets the UI offer only what the server will accept. */
export const actionsOn = (user: SessionUser | undefined, targetCode: string, actions: readonly Action[]) =>
  actions.filter((a) => allowedOn(user, a, targetCode))
