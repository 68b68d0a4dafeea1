import { isCityWide } from './units.ts'

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
  'report.file', // report a problem found (上报)
  'report.handle', // acknowledge, dispatch, close, escalate reports at one's own level
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
  'report.file': ['admin', 'commander', 'township', 'grid_worker'],
  'report.handle': ['commander', 'township', 'grid_worker'],
  'task.manage': ['admin', 'commander'],
  'rain.ingest': ['admin', 'commander'],
  'data.export': ['commander', 'township', 'planner'],
  'audit.read': ['admin', 'commander', 'township'],
  'personal.read': ['commander', 'township', 'grid_worker'],
  'user.manage': ['admin'],
}

export function roleMay(role: Role, action: Action): boolean {
  return permissions[action].includes(role)
}

/**
 * Actions on what the whole city shares (the rain rules, the checklist
 * templates): one county's commander changing them would change them for
 * every county, so they need a city-wide scope as well as the role.
 */
/**
 * Who follows grid workers' field work — their patrol tracks, a grid's patrols, the day's field work: the staff
 * up the worker's chain (township, county and city command, admins), never another grid worker, a planner or the wall.
 */
export const fieldChainRoles: ReadonlySet<Role> = new Set<Role>(['township', 'commander', 'admin'])

export const cityWideActions: readonly Action[] = ['task.manage']

/** Whether someone with this role and scope may take `action` anywhere at all: what the UI may offer. */
export function mayDo(role: Role, scopeCode: string, action: Action): boolean {
  return roleMay(role, action) && (!cityWideActions.includes(action) || isCityWide(scopeCode))
}
