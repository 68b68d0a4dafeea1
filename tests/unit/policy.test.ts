import { describe, expect, it } from 'vitest'
import { maskName, maskPhone } from '../../api/auth/mask.ts'
import { actions, CITY_CODE, cityWideActions, inScope, isCityWide, mayDo, permissions, roleMay, roles, scopeLevel, scopePrefix } from '../../api/auth/policy.ts'

describe('scopes are code prefixes', () => {
  it('reads the level from the code', () => {
    expect(scopeLevel('530600000000')).toBe('city')
    expect(scopeLevel('530602000000')).toBe('county')
    expect(scopeLevel('530602101000')).toBe('township')
    expect(scopeLevel('530602101201')).toBe('village')
    expect(scopeLevel('530602101201003')).toBe('grid')
    expect(scopePrefix('530602101000')).toBe('530602101')
  })

  it('puts a place inside its ancestors and nowhere else', () => {
    const grid = '530602101201003'
    const micro = '53060210120100302'
    for (const scope of ['530600000000', '530602000000', '530602101000', '530602101201', grid]) {
      expect(inScope(scope, grid), scope).toBe(true)
      expect(inScope(scope, micro), scope).toBe(true)
    }
    for (const scope of ['530621000000', '530602102000', '530602101202', '530602101201004']) expect(inScope(scope, grid), scope).toBe(false)
    // A township's staff do not reach up to their county, nor a grid worker to their village.
    expect(inScope('530602101000', '530602000000')).toBe(false)
    expect(inScope(grid, '530602101201')).toBe(false)
    // Township 101 is not a prefix match for township 1010… (codes are fixed-width).
    expect(inScope('530602101000', '530602102101')).toBe(false)
  })
})

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

describe('masking', () => {
  it('keeps the surname and the ends of a phone number', () => {
    expect(maskName('张三丰')).toBe('张**')
    expect(maskName('李')).toBe('*')
    expect(maskName(null)).toBeNull()
    expect(maskPhone('13812345678')).toBe('138****5678')
    expect(maskPhone('0870-2123456')).toBe('087****3456')
    expect(maskPhone('12345')).toBe('*****')
  })
})
