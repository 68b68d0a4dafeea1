import { describe, expect, it } from 'vitest'
import { actions, cityWideActions, mayDo, permissions, roleMay, roles } from './policy.ts'
import { CITY_CODE, inScope, isCityWide } from './units.ts'

describe('role permissions', () => {
  it('keeps grid workers, planners and viewers from issuing orders or editing grids', () => {
    for (const role of ['grid_worker', 'planner', 'viewer', 'admin'] as const) {
      expect(roleMay(role, 'order.issue'), role).toBe(false)
      expect(roleMay(role, 'grid.edit'), role).toBe(false)
      expect(roleMay(role, 'household.edit'), role).toBe(false)
    }
    // Planners read and export; viewers (the wall) only read.
    for (const role of ['planner', 'viewer'] as const) {
      for (const a of actions) expect(roleMay(role, a), `${role} ${a}`).toBe(role === 'planner' && a === 'data.export')
    }
  })

  it('gives every action to someone and only known roles', () => {
    for (const a of actions) {
      expect(permissions[a].length, a).toBeGreaterThan(0)
      for (const r of permissions[a]) expect(roles).toContain(r)
    }
    expect(roles.filter((r) => roleMay(r, 'user.manage'))).toEqual(['admin'])
  })
})

describe('city-wide settings', () => {
  it('belong to city-level accounts only: the rules and checklist templates every county shares', () => {
    expect(isCityWide(CITY_CODE)).toBe(true)
    for (const scope of ['530602000000', '530602101000', '530602101201', '530602101201003']) expect(isCityWide(scope), scope).toBe(false)
    expect(cityWideActions).toEqual(['task.manage'])
    expect(mayDo('commander', CITY_CODE, 'task.manage')).toBe(true)
    expect(mayDo('admin', CITY_CODE, 'task.manage')).toBe(true)
    expect(mayDo('commander', '530602000000', 'task.manage')).toBe(false)
    expect(mayDo('admin', '530602000000', 'task.manage')).toBe(false)
    expect(mayDo('township', CITY_CODE, 'task.manage')).toBe(false)
    // Actions on places are the role's anywhere; their place is checked per target.
    expect(mayDo('commander', '530602000000', 'rain.ingest')).toBe(true)
    expect(mayDo('township', '530602101000', 'household.edit')).toBe(true)
    // The city code is inside no smaller scope, so a prefix check gives the same answer.
    for (const scope of ['530602000000', '530602101000']) expect(inScope(scope, CITY_CODE)).toBe(false)
  })
})
