/**
 * Who may do what, and where. The server checks this on every write and on
 * sensitive reads; the UI only mirrors it.
 */
export const roles = ['admin', 'commander', 'township', 'grid_worker', 'planner', 'viewer'] as const
export type Role = (typeof roles)[number]

export const actions = [
  'household.edit', // a household's ledger (risk level, measures, members…)
  'household.visit', // record a visit
  'grid.edit', // grid attributes and boundaries
  'order.issue', // evacuation (transfer) orders
  'evacuation.update', // a household's transfer status
  'task.complete', // tick off 三查 checklist items
  'task.manage', // checklist templates, the 1262 ladder, rain thresholds: city-wide, see cityWideActions
  'rain.ingest', // station readings, forecasts, warnings (stations themselves: city level)
  'data.export', // exports and print maps
  'audit.read', // who changed what
  'personal.read', // householders' names and phone numbers unmasked
  'user.manage', // accounts
] as const
export type Action = (typeof actions)[number]

export const permissions: Record<Action, readonly Role[]> = {
  'household.edit': ['commander', 'township'],
  'household.visit': ['commander', 'township', 'grid_worker'],
  'grid.edit': ['commander', 'township'],
  'order.issue': ['commander', 'township'],
  'evacuation.update': ['commander', 'township', 'grid_worker'],
  'task.complete': ['commander', 'township', 'grid_worker'],
  'task.manage': ['admin', 'commander'],
  'rain.ingest': ['admin', 'commander'],
  'data.export': ['commander', 'township', 'planner'],
  'audit.read': ['admin', 'commander', 'township'],
  'personal.read': ['commander', 'township', 'grid_worker'],
  'user.manage': ['admin'],
}

/** The level a scope code names: a 12-digit statistical code by its trailing zeros, or a grid code. */
export function scopeLevel(code: string): 'city' | 'county' | 'township' | 'village' | 'grid' {
  if (code.length > 12) return 'grid'
  if (code.endsWith('00000000')) return 'city'
  if (code.endsWith('000000')) return 'county'
  if (code.endsWith('000')) return 'township'
  return 'village'
}

const prefixLength = { city: 4, county: 6, township: 9, village: 12 } as const

/**
 * The leading digits every code inside the scope starts with: codes nest
 * (county 530602 → township 530602100 → village …201 → grid …201003), so a
 * scope check is a prefix test, with no query.
 */
export function scopePrefix(code: string): string {
  const level = scopeLevel(code)
  return level === 'grid' ? code : code.slice(0, prefixLength[level])
}

/** Whether `targetCode` (an admin, grid or micro-grid code) lies inside the scope `scopeCode`. */
export function inScope(scopeCode: string, targetCode: string): boolean {
  return targetCode.startsWith(scopePrefix(scopeCode))
}

export function roleMay(role: Role, action: Action): boolean {
  return permissions[action].includes(role)
}

/** Zhaotong: the city gridwatch serves, the widest scope there is. */
export const CITY_CODE = '530600000000'

/** Whether a scope is the whole city: the owner of what every county shares. */
export const isCityWide = (scopeCode: string) => scopeLevel(scopeCode) === 'city'

/**
 * Actions on what the whole city shares (the rain rules, the checklist
 * templates): one county's commander changing them would change them for
 * every county, so they need a city-wide scope as well as the role.
 */
export const cityWideActions: readonly Action[] = ['task.manage']

/** Whether someone with this role and scope may take `action` anywhere at all: what the UI may offer. */
export function mayDo(role: Role, scopeCode: string, action: Action): boolean {
  return roleMay(role, action) && (!cityWideActions.includes(action) || isCityWide(scopeCode))
}
