/**
 * The admin-code vocabulary: levels, the city, and scope as a prefix test.
 * Codes are the 12-digit statistical division codes (统计用区划代码) and the
 * grid codes that extend a village's: county 530602 → township 530602100 →
 * village 530602100201 → grid 530602100201003. They nest, so "inside" is a
 * prefix test with no query.
 */

/** The admin levels, widest first. */
export const adminLevels = ['city', 'county', 'township', 'village'] as const
export type AdminLevel = (typeof adminLevels)[number]
/** What a scope code can name: an admin unit, or a grid (a code longer than 12 digits). */
export type ScopeLevel = AdminLevel | 'grid'

/** Zhaotong: the city gridwatch serves, the widest scope there is. */
export const CITY_CODE = '530600000000'

/** Leading digits that name a unit at each level of the 12-digit statistical code. */
const prefixLength = { city: 4, county: 6, township: 9, village: 12 } as const satisfies Record<AdminLevel, number>

/** The level a scope code names: a 12-digit statistical code by its trailing zeros, or a grid code. */
export function scopeLevel(code: string): ScopeLevel {
  if (code.length > 12) return 'grid'
  if (code.endsWith('00000000')) return 'city'
  if (code.endsWith('000000')) return 'county'
  if (code.endsWith('000')) return 'township'
  return 'village'
}

/** The leading digits every code inside the scope starts with. */
export function scopePrefix(code: string): string {
  const level = scopeLevel(code)
  return level === 'grid' ? code : code.slice(0, prefixLength[level])
}

/** Whether `targetCode` (an admin, grid or micro-grid code) lies inside the scope `scopeCode`. */
export function inScope(scopeCode: string, targetCode: string): boolean {
  return targetCode.startsWith(scopePrefix(scopeCode))
}

/** Whether a scope is the whole city: the owner of what every county shares. */
export const isCityWide = (scopeCode: string) => scopeLevel(scopeCode) === 'city'

/** The codes from the city down to this unit, e.g. [city, county, township] for a township. */
export function ancestorCodes(code: string): string[] {
  const chain = [CITY_CODE]
  let from: number = prefixLength.city
  for (const n of [prefixLength.county, prefixLength.township, prefixLength.village]) {
    // A level's own digits (the county's are 2, the others 3): all zero, the code stops above it.
    if (/^0+$/.test(code.slice(from, n))) break
    chain.push(code.slice(0, n).padEnd(12, '0'))
    from = n
  }
  return chain
}

export function isUnitCode(s: string | null): s is string {
  return !!s && /^[0-9]{12}$/.test(s)
}

/** The smallest admin unit holding every grid code: village, township, county or the city. */
export function commonUnit(gridCodes: string[]): string {
  const same = (n: number) => gridCodes.every((g) => g.slice(0, n) === gridCodes[0].slice(0, n))
  const c = gridCodes[0]
  if (same(12)) return c.slice(0, 12)
  if (same(9)) return c.slice(0, 9) + '000'
  if (same(6)) return c.slice(0, 6) + '000000'
  return c.slice(0, 4) + '00000000'
}
