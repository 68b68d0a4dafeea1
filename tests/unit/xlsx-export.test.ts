import { createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import ExcelJS from 'exceljs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { xlsxStream } from '../../api/export/xlsx.ts'
import { layers, type Row } from '../../api/datasets.ts'
import { featureCount, features, gdalAvailable, ogrinfo } from '../helpers/gdal.ts'

/** A household-like row, as the cursor gives it. */
const row = (id: number): Row => ({
  id, code: `530602100201001${String(id).padStart(4, '0')}`, householder: '张*', phone: '138****5678', members: 3, elderly_alone: 0,
  left_behind_children: 1, disabled: 0, vulnerable: 1, risk_level: 'green', flood_exposed: id % 2 === 0, measures: '加固房屋后墙',
  last_visit_at: new Date('2026-07-01T08:00:00Z'), grid_code: '530602100201001', grid_name: '坡北村第1网格', village_code: '530602100201',
  village_name: '坡北村', _place: '530602100201001', _geojson: '', _lon: 103.5, _lat: 27.3,
})

/** Household-like rows, 1000 a batch. */
async function* rows(n: number): AsyncGenerator<Row[]> {
  for (let start = 0; start < n; start += 1000) {
    const batch: Row[] = []
    for (let id = start + 1; id <= Math.min(n, start + 1000); id++) batch.push(row(id))
    yield batch
  }
}

const haveGdal = gdalAvailable('XLSX export suite')

describe.skipIf(!haveGdal)('XLSX export (exceljs streaming writer)', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'gridwatch-xlsx-'))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('starts a new sheet past the row limit; GDAL reads every sheet, header and Chinese', async () => {
    const file = path.join(dir, 'sheets.xlsx')
    await pipeline(xlsxStream(layers.households, rows(5000), 2000), createWriteStream(file))
    expect(featureCount(await ogrinfo(['-ro', '-so', file, 'households']))).toBe(2000)
    expect(featureCount(await ogrinfo(['-ro', '-so', file, 'households_2']))).toBe(2000)
    expect(featureCount(await ogrinfo(['-ro', '-so', file, 'households_3']))).toBe(1000)
    const last = features(await ogrinfo(['-ro', file, 'households_3'])).at(-1)!
    expect(last).toMatchObject({ id: '5000', village_name: '坡北村', grid_name: '坡北村第1网格', measures: '加固房屋后墙', householder: '张*' })
  })

  it('neutralises formulas in string cells, keeps numbers (negative ones too) numbers and codes text, writes times as Beijing date-times', async () => {
    const file = path.join(dir, 'cells.xlsx')
    const evil = ['=HYPERLINK("http://x","y")', '@SUM(1)', '-1+2']
    async function* batches(): AsyncGenerator<Row[]> {
      // 20:30:15 UTC on the 13th is 04:30:15 on the 14th in Beijing.
      yield [{ ...row(1), measures: evil[0], grid_name: evil[1], householder: evil[2], _lon: -1.5, last_visit_at: new Date('2026-07-13T20:30:15Z') },
        { ...row(2), members: 0, last_visit_at: null }]
    }
    await pipeline(xlsxStream(layers.households, batches()), createWriteStream(file))
    const book = new ExcelJS.Workbook()
    await book.xlsx.readFile(file)
    const sheet = book.worksheets[0]
    const col: Record<string, number> = {}
    sheet.getRow(1).eachCell((c, i) => (col[String(c.text)] = i))
    const r = sheet.getRow(2)
    const cell = (name: string) => r.getCell(col[name])
    for (const [name, text] of [['measures', evil[0]], ['grid_name', evil[1]], ['householder', evil[2]]]) {
      expect(cell(name).type, name).toBe(ExcelJS.ValueType.String)
      expect(cell(name).value, name).toBe(`'${text}`)
    }
    expect(cell('code').type).toBe(ExcelJS.ValueType.String)
    expect(cell('code').value).toBe('5306021002010010001')
    expect(cell('village_code').value).toBe('530602100201')
    expect(cell('lon').value).toBe(-1.5)
    expect(cell('members').value).toBe(3)
    expect(sheet.getRow(3).getCell(col.members).value).toBe(0)
    expect(cell('last_visit_at').type).toBe(ExcelJS.ValueType.Date)
    expect((cell('last_visit_at').value as Date).toISOString()).toBe('2026-07-14T04:30:15.000Z')
    expect(cell('last_visit_at').numFmt).toBe('yyyy-mm-dd hh:mm:ss "+08:00"')
    expect(sheet.getRow(3).getCell(col.last_visit_at).value).toBe(null)
    // GDAL too reads a date-time column and the neutralised text.
    const [f] = features(await ogrinfo(['-ro', file, 'households']))
    expect(f).toMatchObject({ last_visit_at: '2026/07/14 04:30:15', measures: `'${evil[0]}`, code: '5306021002010010001', lon: '-1.5' })
    expect(await ogrinfo(['-ro', '-so', file, 'households'])).toMatch(/last_visit_at: DateTime/)
  })

  it('keeps memory flat: rows wait while the zip deflates, instead of piling up as XML', async () => {
    // Without the wait, 150,000 rows leave ~100 MB of sheet XML in buffers; with it, a few MB.
    let peak = 0
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)), 20)
    const base = process.memoryUsage().arrayBuffers
    await pipeline(xlsxStream(layers.households, rows(150_000)), createWriteStream(os.devNull))
    clearInterval(timer)
    expect((peak - base) / 2 ** 20).toBeLessThan(48)
  })
})
