import { Color, createExpression, latest, type StylePropertySpecification } from '@maplibre/maplibre-gl-style-spec'
import { describe, expect, it } from 'vitest'
import { gridRiskColour, gridRiskRule, riskShare } from '../../../core/rules/risk.ts'
import { en } from '../i18n/en.ts'
import { zh } from '../i18n/zh.ts'
import { gridFill } from './colors.ts'
import { gridFillColor } from './style.ts'

/**
 * The map colours grids with a MapLibre expression, the print legend and the
 * server with core/rules/risk.ts: MapLibre's own evaluator runs the
 * expression here on grids at and around the thresholds, and it must give the
 * rule's colour for each.
 */
describe('the map’s grid fill', () => {
  const parsed = createExpression(gridFillColor('risk'), 'fill-color', latest.paint_fill['fill-color'] as StylePropertySpecification)
  if (parsed.result !== 'success') throw new Error(parsed.value.map((e) => e.message).join('; '))
  const fill = (red: number, yellow: number) =>
    String(parsed.value.evaluate({ zoom: 12 }, { type: 'Polygon', properties: { red_share: red, yellow_share: yellow } }))

  it('colours each grid as the risk rule does', () => {
    const households = [0, 1, 7, 20, 60, 100, 137]
    let grids = 0
    for (const n of households) {
      for (let red = 0; red <= n; red++) {
        for (const yellow of new Set([0, red, Math.floor(n * gridRiskRule.yellow), Math.ceil(n * gridRiskRule.yellow), n - red])) {
          if (yellow < 0 || red + yellow > n) continue
          const shares = { red: riskShare(red, n), yellow: riskShare(yellow, n) }
          expect(fill(shares.red, shares.yellow), `${red} red, ${yellow} yellow of ${n}`).toBe(String(Color.parse(gridFill[gridRiskColour(shares)])))
          grids++
        }
      }
    }
    expect(grids).toBeGreaterThan(500)
  })

  it('is described by the legend with the rule’s own thresholds', () => {
    const pct = (x: number) => `${Math.round(x * 100)}%`
    for (const text of [zh.legend.gridRule, en.legend.gridRule]) {
      expect(text).toContain(`>${pct(gridRiskRule.red)}`)
      expect(text).toContain(`>${pct(gridRiskRule.yellow)}`)
    }
  })
})
