import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseCsv } from '../../api/rain/csv.ts'
import { isError, parseMm, parseTime } from '../../api/rain/validate.ts'
import { HttpError } from '../../core/errors.ts'
import { timeline, type Storm } from '../../data/storms/build.ts'

describe('rain input checks', () => {
  it('takes ISO times with an offset only, readings on the hour only', () => {
    expect(parseTime('2026-07-14T20:00:00+08:00', { onTheHour: true })).toEqual(new Date('2026-07-14T12:00:00Z'))
    expect(parseTime('2026-07-14 12:00Z', { onTheHour: true })).toEqual(new Date('2026-07-14T12:00:00Z'))
    for (const bad of ['2026-07-14T20:00:00', '14/07/2026 20:00', '2026-13-01T00:00Z', '2026-07-14T25:00Z', '', 42, null]) {
      expect(isError(parseTime(bad)), String(bad)).toBe(true)
    }
    expect(isError(parseTime('2026-07-14T20:30:00+08:00', { onTheHour: true }))).toBe(true)
    expect(isError(parseTime(new Date(Date.now() + 3 * 3600_000).toISOString()))).toBe(true)
    expect(isError(parseTime(new Date(Date.now() + 3 * 3600_000).toISOString(), { allowFuture: true }))).toBe(false)
  })

  it('takes millimetres from 0 to the limit, as numbers or CSV text', () => {
    expect(parseMm(0, 250)).toBe(0)
    expect(parseMm('12.34', 250)).toBe(12.3)
    expect(parseMm(250, 250)).toBe(250)
    for (const bad of [-0.1, 250.1, '1e3', '-1', 'NaN', '', null, Infinity]) expect(isError(parseMm(bad, 250)), String(bad)).toBe(true)
  })

  it('reads CSV with quotes and line numbers, and refuses other columns', () => {
    const rows = parseCsv('\uFEFFStation,hour,mm\r\n"R1",2026-07-14T12:00Z,"1.5"\n\nR2,2026-07-14T12:00Z,2', ['station', 'hour', 'mm'])
    expect(rows).toEqual([
      { line: 2, values: { station: 'R1', hour: '2026-07-14T12:00Z', mm: '1.5' } },
      { line: 4, values: { station: 'R2', hour: '2026-07-14T12:00Z', mm: '2' } },
    ])
    expect(() => parseCsv('station,time,mm\n', ['station', 'hour', 'mm'])).toThrow(HttpError)
    expect(() => parseCsv('station,hour,mm,extra\n', ['station', 'hour', 'mm'])).toThrow(/unexpected extra/)
    expect(parseCsv('station,hour,mm\nR1,x', ['station', 'hour', 'mm'])[0].values.__columns).toBe('2')
  })

  it('keeps a line break inside quotes in its field (split by hand, it made two broken rows), and says where quotes break', () => {
    const rows = parseCsv('station,hour,mm\n"R1\n(north)",2026-07-14T12:00Z,1\nR2,2026-07-14T12:00Z,2', ['station', 'hour', 'mm'])
    expect(rows).toEqual([
      { line: 2, values: { station: 'R1\n(north)', hour: '2026-07-14T12:00Z', mm: '1' } },
      { line: 4, values: { station: 'R2', hour: '2026-07-14T12:00Z', mm: '2' } },
    ])
    expect(() => parseCsv('station,hour,mm\n"R1,2026-07-14T12:00Z,1\n', ['station', 'hour', 'mm'])).toThrow(/malformed/)
  })
})

describe('the shipped storm file', () => {
  const storm = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '../../data/storms/zhaoyang-july.json'), 'utf8')) as Storm
  it('has every gauge every hour, consecutive hours, and the three ladder lead times', () => {
    const codes = new Set(storm.stations.map((s) => s.code))
    expect(codes.size).toBe(storm.stations.length)
    for (let i = 0; i < storm.hours.length; i++) {
      expect(new Set(storm.hours[i].readings.map((r) => r.station))).toEqual(codes)
      if (i) expect(Date.parse(storm.hours[i].hour) - Date.parse(storm.hours[i - 1].hour)).toBe(3600_000)
    }
    expect(new Set(storm.forecasts.map((f) => f.leadHours))).toEqual(new Set([12, 6, 2]))
    for (const f of storm.forecasts) expect(Date.parse(f.periodStart) - Date.parse(f.issuedAt)).toBe(f.leadHours * 3600_000)
    // Heavy rain at night, then enough dry hours for after-rain to open.
    const wet = storm.hours.filter((h) => h.readings.some((r) => r.mm > 0))
    expect(Math.max(...storm.hours.flatMap((h) => h.readings.map((r) => r.mm)))).toBeGreaterThan(40)
    expect((Date.parse(storm.hours.at(-1)!.hour) - Date.parse(wet.at(-1)!.hour)) / 3600_000).toBeGreaterThanOrEqual(6)
  })

  it('plays in time order, readings when their hour ends, shifted as asked', () => {
    const steps = timeline(storm, 86400_000)
    expect(steps.map((s) => s.time)).toEqual([...steps.map((s) => s.time)].sort())
    const first = steps.find((s) => s.readings.length)!
    expect(Date.parse(first.time) - Date.parse(first.readings[0].hour)).toBe(3600_000)
    expect(Date.parse(first.readings[0].hour)).toBe(Date.parse(storm.hours[0].hour) + 86400_000)
    expect(steps.reduce((a, s) => a + s.forecasts.length, 0)).toBe(storm.forecasts.length)
  })
})
