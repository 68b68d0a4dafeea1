import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { projectRoot } from '../../core/config.ts'
import { startServer, type RunningServer } from '../../api/server.ts'
import { buildStorm, timeline, type Storm } from '../../data/storms/build.ts'
import { ingestStations } from '../../api/rain/ingest.ts'
import { resetRain, testActor } from '../helpers/rain.ts'
import { loginAs, TEST_PASSWORD, type Client } from '../helpers/session.ts'
import { targets } from '../helpers/targets.ts'

const run = promisify(execFile)
const COUNTY = '530626'

/**
 * `npm run rain:import -- FILE …` as a person types it. On PostGIS it writes
 * through DATABASE_URL; on the embedded database (no DATABASE_URL) it is an
 * HTTP client of the running server, as it would be beside `npm start`.
 */
for (const target of targets()) {
  describe(`npm run rain:import on ${target.name}`, () => {
    let s: RunningServer
    let storm: Storm
    let commander: Client
    /** Stations are the city's: the county commander imports rain, the city commander the gauges. */
    let cityCommander: Client
    let dir: string
    const overHttp = target.name === 'embedded'

    const importer = (args: string[], opts: { login?: string[] } = {}) => script('scripts/rain-import.ts', args, opts)
    const script = async (file: string, args: string[], opts: { login?: string[] } = {}) => {
      const env = { ...process.env }
      delete env.DATABASE_URL
      delete env.GRIDWATCH_USER
      delete env.GRIDWATCH_PASSWORD
      if (!overHttp) env.DATABASE_URL = target.url
      const login = overHttp ? (opts.login ?? ['--url', s.url, '--user', commander.username, '--password', TEST_PASSWORD]) : []
      try {
        const r = await run(process.execPath, ['--import', 'tsx', file, ...args, ...login], { cwd: projectRoot, env, timeout: 180_000 })
        return { code: 0, out: r.stdout + r.stderr }
      } catch (e) {
        const err = e as { code: number; stdout: string; stderr: string }
        return { code: err.code, out: err.stdout + err.stderr }
      }
    }
    const write = (name: string, content: string) => {
      const p = path.join(dir, name)
      fs.writeFileSync(p, content)
      return p
    }
    const counts = async () => (await s.db.sql`
      SELECT (SELECT count(*) FROM rain_stations)::int AS stations, (SELECT count(*) FROM rain_readings)::int AS readings,
             (SELECT coalesce(sum(mm), 0)::float8 FROM rain_readings) AS mm, (SELECT count(*) FROM rain_forecasts)::int AS forecasts,
             (SELECT count(*) FROM rain_warnings)::int AS warnings, (SELECT count(*) FROM tasks)::int AS tasks,
             (SELECT count(*) FROM rain_state)::int AS state`)[0]

    beforeAll(async () => {
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true })
      await resetRain(s.db.sql)
      storm = await buildStorm(s.db.sql, { county: COUNTY, seed: 5, spacingKm: 5 })
      commander = await loginAs(s, 'commander', COUNTY + '000000')
      cityCommander = await loginAs(s, 'commander', '530600000000')
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridwatch-rain-import-'))
    })
    afterAll(async () => {
      if (s) await resetRain(s.db.sql)
      await s?.close()
      if (dir) fs.rmSync(dir, { recursive: true, force: true })
    })

    it('imports stations (JSON), readings (CSV), forecasts and a warning, each in one go, and a second import of the same file changes nothing', async () => {
      const stations = write('stations.json', JSON.stringify({ stations: storm.stations }))
      if (overHttp) {
        // A county account may not add gauges: they are the city's.
        const county = await importer([stations])
        expect(county.code, county.out).toBe(1)
        expect(county.out).toMatch(/\/api\/rain\/stations \(403\): rain stations are shared by the whole city.*row 1: station \S+ is new/)
        expect((await counts()).stations).toBe(0)
      }
      const st = await importer([stations], { login: ['--url', s.url, '--user', cityCommander.username, '--password', TEST_PASSWORD] })
      expect(st.code, st.out).toBe(0)
      expect(st.out).toContain(`${storm.stations.length} new`)
      expect((await counts()).stations).toBe(storm.stations.length)

      // The first eight hours of the storm as one CSV file, quoted cells and a BOM as spreadsheets write them.
      const steps = timeline(storm).filter((x) => x.readings.length).slice(0, 8)
      const readings = steps.flatMap((x) => x.readings)
      const csv = '\uFEFFstation,hour,mm\r\n' + readings.map((r, i) => (i % 2 ? `${r.station},${r.hour},${r.mm}` : `"${r.station}","${r.hour}",${r.mm}`)).join('\r\n') + '\r\n'
      const file = write('readings.csv', csv)
      const rd = await importer([file])
      expect(rd.code, rd.out).toBe(0)
      expect(rd.out).toContain(`${readings.length} new`)
      const after = await counts()
      expect(after.readings).toBe(readings.length)
      expect(after.mm).toBeCloseTo(readings.reduce((a, r) => a + r.mm, 0), 1)
      expect(after.state).toBeGreaterThan(0) // the rain was evaluated, as by the API
      const [db] = await s.db.sql`SELECT r.mm::float8 AS mm FROM rain_readings r JOIN rain_stations s ON s.id = r.station_id
                                  WHERE s.code = ${readings[5].station} AND r.hour = ${readings[5].hour}`
      expect(db.mm).toBe(readings[5].mm)

      const again = await importer([file])
      expect(again.code, again.out).toBe(0)
      expect(again.out).toContain(`0 new, 0 corrected, ${readings.length} unchanged`)
      expect(await counts()).toEqual(after)

      const fc = await importer([write('forecasts.json', JSON.stringify(storm.forecasts.slice(0, 1))), '--kind', 'forecasts'])
      expect(fc.code, fc.out).toBe(0)
      expect((await counts()).forecasts).toBe(1)
      expect((await counts()).tasks).toBeGreaterThan(after.tasks) // a 12 h county forecast opens before-rain checks

      const hour = readings.at(-1)!.hour
      const until = new Date(Date.parse(hour) + 6 * 3600_000).toISOString()
      const wn = await importer([write('warning.json', JSON.stringify([{ colour: 'orange', areas: [COUNTY + '000000'], issuedAt: hour, validUntil: until }]))])
      expect(wn.code, wn.out).toBe(0)
      expect(wn.out).toMatch(/1 warnings: 1 new/)
      expect((await counts()).warnings).toBe(1)
      const [w] = await s.db.sql`SELECT actor FROM audit_log WHERE action = 'rain_warnings' ORDER BY id DESC LIMIT 1`
      expect(w.actor).toBe(overHttp ? commander.username : 'cli:rain-import')
    })

    it('refuses bad files with the rows named, writes nothing and exits non-zero', async () => {
      const before = await counts()
      const station = storm.stations[0].code
      const hour = storm.hours[2].hour
      const cases: [string, string[], number, RegExp[]][] = [
        ['CSV bad rows', [write('bad.csv', `station,hour,mm\n${station},${hour},99\nNOPE,${hour},1\n${station},yesterday,1\n${station},${storm.hours[3].hour},-3\n${station},${storm.hours[4].hour},1,2`)],
          // Every bad row at once and in order, those that need the database (an unknown station) too.
          1, [/row 3: unknown station: NOPE; row 4: time must be ISO 8601/, /row 5: rain must be a number/, /row 6: wrong number of columns/, /第 3 行：没有这个雨量站/]],
        ['CSV wrong columns', [write('cols.csv', 'station,time,rain\nX,1,2\n')], 1, [/columns must be station,hour,mm/, /CSV 列应为/]],
        ['CSV header only', [write('empty.csv', 'station,hour,mm\n')], 1, [/no rows/]],
        ['CSV from the future', [write('future.csv', `station,hour,mm\n${station},${new Date(Date.now() + 3 * 86400_000).toISOString().slice(0, 14)}00:00Z,5\n`)], 1, [/row 2: time is in the future/]],
        ['JSON absurd amount', [write('absurd.json', JSON.stringify({ readings: [{ station, hour, mm: 12 }, { station, hour: storm.hours[3].hour, mm: 1e6 }] }))], 1, [/row 2: .*not plausible/]],
        ['JSON not valid', [write('broken.json', '[{"station": "A",'), '--kind', 'readings'], 1, [/not valid JSON/]],
        ['JSON not valid, no kind', [write('broken2.json', '{')], 1, [/not valid JSON/]],
        ['JSON row not an object', [write('rows.json', JSON.stringify([{ station, hour, mm: 1 }, 7])), '--kind', 'readings'], 1, [/row 2 must be an object/]],
        ['JSON wrong key for the kind', [write('key.json', JSON.stringify({ stations: [] })), '--kind', 'readings'], 1, [/\{"readings": \[\.\.\.\]\}/]],
        ['forecasts: no such area, bad lead time', [write('fc.json', JSON.stringify([{ ...storm.forecasts[0], area: '530626999999' }, { ...storm.forecasts[0], leadHours: 3 }]))],
          1, [/row 1: no admin unit or grid 530626999999; row 2: leadHours must be 12, 6 or 2/]],
        ['warnings: no such area, no area', [write('wn.json', JSON.stringify([{ colour: 'red', areas: ['530626999999'], issuedAt: hour, validUntil: storm.hours[6].hour },
                                                                            { colour: 'red', issuedAt: hour, validUntil: storm.hours[6].hour }]))],
          1, [/row 1: no admin unit or grid 530626999999; row 2: give areas or a polygon/]],
        ['station outside China', [write('st.json', JSON.stringify({ stations: [{ ...storm.stations[0] }, { code: 'FAR1', name: '远站', lon: 2.35, lat: 48.85 }] }))], 1, [/row 2: longitude\/latitude outside China/]],
        ['no file', [], 2, [/give one file/]],
        ['two files', ['a.csv', 'b.csv'], 2, [/give one file/]],
        ['missing file', [path.join(dir, 'nope.csv')], 2, [/cannot read/]],
        ['unknown kind', [write('k.json', '[]'), '--kind', 'snow'], 2, [/--kind must be one of/]],
        ['CSV for stations', [write('st.csv', 'code,name,lon,lat\n'), '--kind', 'stations'], 2, [/only readings come as CSV/]],
        ['cannot tell the kind', [write('what.json', JSON.stringify([{ a: 1 }]))], 2, [/add --kind/]],
        ['unknown option', [write('x.csv', 'station,hour,mm\n'), '--speed', '3'], 2, [/Unknown option/]],
      ]
      for (const [name, args, code, says] of cases) {
        const r = await importer(args)
        expect(r.code, `${name}: ${r.out}`).toBe(code)
        for (const m of says) expect(r.out, name).toMatch(m)
        expect(r.out, name).not.toMatch(/imported —/)
      }
      expect(await counts()).toEqual(before)
    })

    // rain:replay shares the way in (scripts/lib/rain-sink.ts): a whole storm file, as fast as it goes.
    it('npm run rain:replay plays a storm file to the end through the same way in', async () => {
      await resetRain(s.db.sql)
      // The gauges are there, as the first start puts them (api/demo/storm.ts): the county re-sends them unchanged.
      await ingestStations(s.db.sql, testActor, storm.stations.map((values, i) => ({ row: i + 1, values })))
      const file = write('storm.json', JSON.stringify(storm))
      const r = await script('scripts/rain-replay.ts', ['--file', file, '--speed', '0'])
      expect(r.code, r.out).toBe(0)
      expect(r.out).toContain(overHttp ? `→ ${s.url}` : '→ DATABASE_URL')
      const c = await counts()
      expect(c.stations).toBe(storm.stations.length)
      expect(c.readings).toBe(storm.stations.length * storm.hours.length)
      expect(c.forecasts).toBe(storm.forecasts.length)
      const phases = await s.db.sql`SELECT DISTINCT phase FROM tasks ORDER BY 1`
      expect(phases.map((p) => p.phase)).toEqual(['after', 'before', 'during'])
    })

    if (overHttp) it('over HTTP: refuses a wrong password, a role without rain.ingest and a server that is not there', async () => {
      const before = await counts()
      const file = write('one.csv', `station,hour,mm\n${storm.stations[0].code},${storm.hours[1].hour},42\n`)
      const viewer = await loginAs(s, 'viewer', COUNTY + '000000')
      const cases: [string, string[], RegExp][] = [
        ['wrong password', ['--url', s.url, '--user', commander.username, '--password', 'not-the-password'], /login as .* failed \(401\)/],
        ['viewer', ['--url', s.url, '--user', viewer.username, '--password', TEST_PASSWORD], /\/api\/rain\/readings \(403\)/],
        ['no server', ['--url', 'http://127.0.0.1:9', '--user', commander.username, '--password', TEST_PASSWORD], /cannot reach http:\/\/127\.0\.0\.1:9/],
      ]
      for (const [name, login, says] of cases) {
        const r = await importer([file], { login })
        expect(r.code, `${name}: ${r.out}`).toBe(1)
        expect(r.out, name).toMatch(says)
      }
      expect(await counts()).toEqual(before)
    })
  })
}
