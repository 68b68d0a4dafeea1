import { describe, expect, it } from 'vitest'
import { beijingIso, beijingWallClock, fromSpreadsheetText, spreadsheetText, spreadsheetValue } from './spreadsheet.ts'

const formulas = ['=HYPERLINK("http://x","y")', '@SUM(1)', '-1+2', '+86 138 0000 1111', '\t=1+1', '\r=1+1', '＝1+1', '＋1', '－1', '＠SUM(1)', '=', '-']

describe('text written into a spreadsheet', () => {
  it('neutralises a value a spreadsheet would run as a formula, keeping its text after a quote', () => {
    for (const f of formulas) {
      for (const fmt of ['csv', 'xlsx'] as const) expect(spreadsheetText(f, fmt), `${fmt} ${JSON.stringify(f)}`).toBe(`'${f}`)
    }
  })

  it('leaves ordinary text alone', () => {
    for (const t of ['加固房屋后墙', '张三', 'a=b', 'x-1', '', ' ', "'quoted'", '530602DZ00001', '坡北村第1网格', 'MULTIPOLYGON(((103 27,104 27,103 27)))']) {
      for (const fmt of ['csv', 'xlsx'] as const) expect(spreadsheetText(t, fmt), `${fmt} ${JSON.stringify(t)}`).toBe(t)
    }
  })

  it('quotes a text that starts with quotes before a formula, so that reading back is exact', () => {
    expect(spreadsheetText("'=1+1", 'csv')).toBe("''=1+1")
    expect(spreadsheetText("''-2", 'xlsx')).toBe("'''-2")
  })

  it('in CSV, puts a tab before text Excel would turn into a number or a date (codes, phones), not in XLSX', () => {
    const numberLike = ['5306021002010010001', '530602100201001', '530602100201', '13800001111', '08702123456', '2026-07-14', '1/2', '3-5', '12:30', '1.50', '1E5', '7']
    for (const t of numberLike) {
      expect(spreadsheetText(t, 'csv'), t).toBe(`\t${t}`)
      expect(spreadsheetText(t, 'xlsx'), t).toBe(t)
    }
    for (const t of ['530602DZ00001', '530602100201B01', '138****5678', '第1网格', 'E5']) expect(spreadsheetText(t, 'csv'), t).toBe(t)
  })

  it('reads back what it wrote, unchanged, whatever the text', () => {
    const texts = [...formulas, '加固房屋后墙', "'=1+1", "''=1+1", "'x", "'", "'\t1", '\t123', '5306021002010010001', '08702123456', '2026-07-14', 'a=b', '', '=1\n+2']
    for (const t of texts) {
      for (const fmt of ['csv', 'xlsx'] as const) expect(fromSpreadsheetText(spreadsheetText(t, fmt)), `${fmt} ${JSON.stringify(t)}`).toBe(t)
    }
  })

  it('takes a text typed into a spreadsheet as it is', () => {
    for (const t of ["'x", "It's", '张三', '530602100201', '5.30602E+18', '-3']) expect(fromSpreadsheetText(t), t).toBe(t)
  })
})

describe('values written into a spreadsheet', () => {
  it('keeps numbers, negative ones too, and booleans as they are: only text is neutralised', () => {
    for (const fmt of ['csv', 'xlsx'] as const) {
      expect(spreadsheetValue(-1, fmt)).toBe(-1)
      expect(spreadsheetValue(-0.5, fmt)).toBe(-0.5)
      expect(spreadsheetValue(0, fmt)).toBe(0)
      expect(spreadsheetValue(true, fmt)).toBe(true)
      expect(spreadsheetValue(null, fmt)).toBe(null)
      expect(spreadsheetValue(undefined, fmt)).toBe(undefined)
      expect(spreadsheetValue('-1', fmt)).toBe("'-1")
    }
  })

  it('writes a time as Beijing time: ISO 8601 with +08:00 in CSV, the Beijing wall clock as the date in XLSX', () => {
    const t = new Date('2026-07-13T20:30:15.250Z')
    expect(beijingIso(t)).toBe('2026-07-14T04:30:15+08:00')
    expect(beijingIso(new Date('2026-07-14T00:00:00Z'))).toBe('2026-07-14T08:00:00+08:00')
    expect(spreadsheetValue(t, 'csv')).toBe('2026-07-14T04:30:15+08:00')
    // Excel has no zones: the cell holds 04:30:15 on the 14th, which Excel shows whatever the machine's zone.
    const wall = spreadsheetValue(t, 'xlsx') as Date
    expect(wall).toBeInstanceOf(Date)
    expect(wall.toISOString()).toBe('2026-07-14T04:30:15.000Z')
    expect(beijingWallClock(t).getTime()).toBe(wall.getTime())
    // The ISO text parses back to the same instant (to the second).
    expect(Date.parse(beijingIso(t))).toBe(Date.parse('2026-07-13T20:30:15Z'))
  })
})
