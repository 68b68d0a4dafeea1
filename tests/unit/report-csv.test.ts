import { parse } from 'csv-parse/sync'
import { describe, expect, it } from 'vitest'
import { reportCsv } from '../../web/src/planning/report-csv.ts'

describe('the import report saved as CSV (browser)', () => {
  it('neutralises formulas, keeps codes as text and numbers as numbers; csv-parse reads every cell back', () => {
    const header = ['行号', '操作', '户代码', '网格', '变更字段']
    const lines: (string | number)[][] = [
      [2, '新增', '5306021002010010001', '530602100201001', ''],
      [3, '=HYPERLINK("http://x","y")', '@SUM(1)', '-1+2', 'measures householder'],
      [-4, '更新', '530602100201', '第1网格', 'a,"b"\nc'],
    ]
    const text = reportCsv(header, lines)
    expect(text.startsWith('\uFEFF')).toBe(true)
    const rows = parse(text.slice(1), { relax_quotes: false }) as string[][]
    expect(rows[0]).toEqual(header)
    expect(rows[1]).toEqual(['2', '新增', '\t5306021002010010001', '\t530602100201001', ''])
    expect(rows[2]).toEqual(['3', `'=HYPERLINK("http://x","y")`, "'@SUM(1)", "'-1+2", 'measures householder'])
    // A number stays a number, negative too; only text is neutralised.
    expect(rows[3]).toEqual(['-4', '更新', '\t530602100201', '第1网格', 'a,"b"\nc'])
    // The tab is inside quotes (a reader that splits on tabs too leaves it in the cell).
    expect(text).toContain(',"\t5306021002010010001",')
  })
})
