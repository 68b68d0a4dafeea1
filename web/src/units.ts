import { CITY_CODE, type Level } from './api.ts'

/** Leading digits that name a unit at each level of the 12-digit statistical code. */
const prefix: Record<Exclude<Level, 'city'>, number> = { county: 6, township: 9, village: 12 }

/** The codes from the city down to this unit, e.g. [city, county, township] for a township. */
export function ancestorCodes(code: string): string[] {
  const chain = [CITY_CODE]
  for (const n of [prefix.county, prefix.township, prefix.village]) {
    if (/^0+$/.test(code.slice(n - 3, n))) break
    chain.push(code.slice(0, n).padEnd(12, '0'))
  }
  return chain
}

export function isUnitCode(s: string | null): s is string {
  return !!s && /^[0-9]{12}$/.test(s)
}
