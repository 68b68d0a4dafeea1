import { describe, expect, it } from 'vitest'
import { contrast, gradientColors, luminance, over, parseColor, required, stack, textContrast, type RGB } from '../helpers/contrast.ts'
import { latinCodes } from '../helpers/latin-codes.ts'

const white: RGB = [255, 255, 255]
const black: RGB = [0, 0, 0]
const dark: RGB = [10, 16, 32] // the theme's --bg

describe('contrast arithmetic', () => {
  it('reads the colours Chromium computes, and refuses what it cannot read', () => {
    expect(parseColor('rgb(230, 237, 247)')).toEqual([230, 237, 247, 1])
    expect(parseColor('rgba(14, 22, 40, 0.92)')).toEqual([14, 22, 40, 0.92])
    expect(parseColor('rgb(14 22 40 / 50%)')).toEqual([14, 22, 40, 0.5])
    expect(parseColor('color(srgb 1 0 0.5 / 0.25)')).toEqual([255, 0, 127.5, 0.25])
    expect(parseColor('#0a1020')).toEqual([10, 16, 32, 1])
    expect(parseColor('#fff')).toEqual([255, 255, 255, 1])
    expect(parseColor('#00000080')).toEqual([0, 0, 0, 128 / 255])
    expect(parseColor('transparent')).toEqual([0, 0, 0, 0])
    expect(parseColor('rgba(0, 0, 0, 0)')).toEqual([0, 0, 0, 0])
    for (const bad of ['', 'red', 'rgb(1, 2)', 'rgb(a, b, c)', 'oklch(0.5 0.1 20)', '#12', 'color(display-p3 1 0 0)']) expect(parseColor(bad), bad).toBeNull()
  })

  it('takes the stops of a gradient, nothing from an image or none', () => {
    expect(gradientColors('linear-gradient(rgba(10, 16, 32, 0.98), rgba(10, 16, 32, 0.75))')).toEqual([[10, 16, 32, 0.98], [10, 16, 32, 0.75]])
    expect(gradientColors('none')).toEqual([])
    expect(gradientColors('url("data:image/png;base64,xyz")')).toEqual([])
  })

  it('gives the WCAG ratios: 21 for black on white, 1 for a colour on itself, symmetric', () => {
    expect(luminance(white)).toBeCloseTo(1, 6)
    expect(luminance(black)).toBe(0)
    expect(contrast(black, white)).toBeCloseTo(21, 6)
    expect(contrast(white, black)).toBeCloseTo(21, 6)
    expect(contrast(dark, dark)).toBe(1)
    // Known pairs: #767676 on white is the classic 4.54:1; #777 just fails.
    expect(contrast([0x76, 0x76, 0x76], white)).toBeCloseTo(4.54, 2)
    expect(contrast([0x77, 0x77, 0x77], white)).toBeLessThan(4.5)
  })

  it('paints translucent colours over what is behind', () => {
    expect(over([255, 255, 255, 0.5], black)).toEqual([127.5, 127.5, 127.5])
    expect(over([0, 0, 0, 0], white)).toEqual(white)
    // Two translucent layers as one: the same result over any backdrop as painting them in turn.
    const one = stack([255, 0, 0, 0.5], [0, 0, 255, 0.5])
    expect(one[3]).toBeCloseTo(0.75, 9)
    for (const backdrop of [white, black, dark]) {
      const twice = over([255, 0, 0, 0.5], over([0, 0, 255, 0.5], backdrop))
      over(one, backdrop).forEach((c, i) => expect(c).toBeCloseTo(twice[i], 9))
    }
    expect(stack([0, 0, 0, 0], [0, 0, 0, 0])).toEqual([0, 0, 0, 0])
  })

  it('finds white text on a white button unreadable, and the theme text on a panel over the dark map readable', () => {
    const text = parseColor('rgb(230, 237, 247)')!
    const panel = { backgrounds: [parseColor('rgba(14, 22, 40, 0.92)')!], opacity: 1 }
    const plain = { backgrounds: [], opacity: 1 }
    // The 修改名称 button: the browser's light button face under the theme's light text.
    const buttonFace = { backgrounds: [parseColor('rgb(239, 239, 239)')!], opacity: 1 }
    expect(textContrast(text, [plain, panel, buttonFace], dark)).toBeLessThan(1.3)
    expect(textContrast(text, [plain, panel, plain], dark)).toBeGreaterThan(12)
  })

  it('blends a box with opacity as a group with what is behind it', () => {
    // White text on black, the whole at half opacity over white: grey on light grey.
    const ratio = textContrast([255, 255, 255, 1], [{ backgrounds: [[0, 0, 0, 1]], opacity: 0.5 }], white)
    expect(ratio).toBeCloseTo(contrast([255, 255, 255], [127.5, 127.5, 127.5]), 6)
    // Opacity 0 leaves only the backdrop: no contrast at all.
    expect(textContrast([255, 255, 255, 1], [{ backgrounds: [[0, 0, 0, 1]], opacity: 0 }], white)).toBe(1)
  })

  it('judges text over a gradient by its worst stop', () => {
    const grad = { backgrounds: [[0, 0, 0, 1], [200, 200, 200, 1]] as [number, number, number, number][], opacity: 1 }
    expect(textContrast([255, 255, 255, 1], [grad], dark)).toBeCloseTo(contrast(white, [200, 200, 200]), 6)
  })

  it('asks 3:1 of large text and 4.5:1 of the rest', () => {
    expect(required(14, 400)).toBe(4.5)
    expect(required(20, 400)).toBe(4.5)
    expect(required(20, 700)).toBe(3)
    expect(required(24, 400)).toBe(3)
  })
})

describe('Latin-letter codes in Chinese text', () => {
  it('finds raw codes with the text around them, and passes format names, units and the language switch', () => {
    const hits = latinCodes('风险等级：green → yellow；临河临坡：true；当前角色无权执行此操作（household.edit）')
    expect(hits.map((h) => h.word)).toEqual(['green', 'yellow', 'true', 'household', 'edit'])
    expect(hits[2].context).toContain('临河临坡：true')
    expect(latinCodes('导出 GeoJSON、CSV、XLSX、Shapefile；距离 3 km，雨量 20 mm；WGS84 / CGCS2000 / GCJ-02；English')).toEqual([])
    expect(latinCodes('角色 township 不能分配到village级').map((h) => h.word)).toEqual(['township', 'village'])
    expect(latinCodes('grid_worker').map((h) => h.word)).toEqual(['grid', 'worker'])
    expect(latinCodes('第 3 版 · 2026/7/14 · 张三 · 调整边界')).toEqual([])
  })
})
