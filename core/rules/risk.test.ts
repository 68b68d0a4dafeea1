import { describe, expect, it } from 'vitest'
import { gridRiskColour, gridRiskRule, riskShare } from './risk.ts'

describe('a grid’s risk colour', () => {
  it('is red above the red share, whatever the yellow share', () => {
    expect(gridRiskColour({ red: gridRiskRule.red + 0.001, yellow: 0 })).toBe('red')
    expect(gridRiskColour({ red: 1, yellow: 1 })).toBe('red')
  })

  it('is yellow above the yellow share when not red, green otherwise; the thresholds themselves are not above', () => {
    expect(gridRiskColour({ red: gridRiskRule.red, yellow: gridRiskRule.yellow + 0.001 })).toBe('yellow')
    expect(gridRiskColour({ red: gridRiskRule.red, yellow: gridRiskRule.yellow })).toBe('green')
    expect(gridRiskColour({ red: 0, yellow: 0 })).toBe('green')
  })

  it('counts shares of the grid’s households as the tiles carry them: 3 decimals, 0 for an empty grid', () => {
    expect(riskShare(1, 3)).toBe(0.333)
    expect(riskShare(2, 3)).toBe(0.667)
    expect(riskShare(0, 0)).toBe(0)
    expect(riskShare(5, 5)).toBe(1)
    // Exact halves go up, as round(numeric, 3) does in the tiles' SQL.
    expect(riskShare(1, 16)).toBe(0.063)
    expect(riskShare(1, 80)).toBe(0.013)
    expect(riskShare(29, 2000)).toBe(0.015)
    // 1 red of 20 households is exactly the red share: not above it, so not red.
    expect(gridRiskColour({ red: riskShare(1, 20), yellow: riskShare(3, 20) })).toBe('green')
    expect(gridRiskColour({ red: riskShare(2, 20), yellow: 0 })).toBe('red')
  })
})
