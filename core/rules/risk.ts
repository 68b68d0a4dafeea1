/**
 * 红黄绿: a household's risk level (red high, yellow low, green none), and the
 * colour of a grid, which is the share of its households that are red or
 * yellow: red when more than 5 % of them are red, else yellow when more than
 * 15 % are yellow, else green (the map's legend says so in words).
 *
 * The tiles carry the shares (tiles/registry.ts: red_share, yellow_share,
 * rounded in SQL as riskShare rounds them; tests/db/risk-rule.test.ts holds
 * the two together) and the map colours grids with a MapLibre expression built
 * from gridRiskRule (core/map-style/command-map.ts; web/src/map/grid-fill.test.ts holds
 * it to gridRiskColour).
 */

export const riskLevels = ['red', 'yellow', 'green'] as const
export type RiskLevel = (typeof riskLevels)[number]

/** A grid is red above this share of red households, yellow above this share of yellow ones. */
export const gridRiskRule = { red: 0.05, yellow: 0.15 } as const

/**
 * The share of `count` among `households`, to 3 decimals, halves up as SQL's
 * round(numeric) does; 0 for a grid without households. (count × 1000 first:
 * an exact half stays exact, where count / households × 1000 may fall below it.)
 */
export function riskShare(count: number, households: number): number {
  return households > 0 ? Math.round((count * 1000) / households) / 1000 : 0
}

/** A grid's colour from its shares of red and yellow households. */
export function gridRiskColour(shares: { red: number; yellow: number }): RiskLevel {
  if (shares.red > gridRiskRule.red) return 'red'
  if (shares.yellow > gridRiskRule.yellow) return 'yellow'
  return 'green'
}
