import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { parse } from 'csv-parse/sync'
import ExcelJS from 'exceljs'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { maskName, maskPhone } from '../../api/auth/mask.ts'
import { startServer, type RunningServer } from '../../api/server.ts'
import { featureCount, features, gdalAvailable, ogrinfo } from '../helpers/gdal.ts'
import { exportRows } from '../../api/export/source.ts'
import { layers } from '../../api/datasets.ts'
import { loginAs, type Client } from '../helpers/session.ts'
import { client, targets } from '../helpers/targets.ts'

const CITY = '530600000000'
const FORMATS = ['geojson', 'csv', 'gpkg', 'shp.zip', 'xlsx'] as const
const haveGdal = gdalAvailable('export suite')
/** A field by name; a Shapefile keeps only the first 10 characters of a name (householder → householde). */
const field = (f: Record<string, string>, name: string) => f[name] ?? f[name.slice(0, 10)]

for (const target of targets()) {
  describe.skipIf(!haveGdal)(`exports on ${target.name}`, () => {
    let s: RunningServer
    let dir: string
    let commander: Client
    let planner: Client
    /** The township with the most households, and one of its households with a phone number. */
    let town: string
    let sample: { code: string; householder: string; phone: string; village: string; grid: string }
    let townHouseholds: number

    /** Downloads to a file named as the server names it; GDAL opens a .shp.zip through /vsizip/. */
    async function download(who: Client, file: string, unit = town) {
      const r = await who.get(`/api/export/${file}?unit=${unit}`)
      expect(r.status, `${file}: ${r.status}`).toBe(200)
      const name = /filename="([^"]+)"/.exec(r.headers.get('content-disposition') ?? '')?.[1]
      expect(name).toBe(`${file.split('.')[0]}-${unit}.${file.split('.').slice(1).join('.')}`)
      const p = path.join(dir, `${who.username}-${name}`)
      const bytes = Buffer.from(await r.arrayBuffer())
      await writeFile(p, bytes)
      return { path: p.endsWith('.shp.zip') ? `/vsizip/${p}` : p, bytes, type: r.headers.get('content-type'), count: Number(r.headers.get('x-feature-count')) }
    }
    /** Every feature GDAL reads from the file, by household code. */
    const readBack = async (src: string) => {
      const list = features(await ogrinfo(['-ro', '-al', src]))
      // Our CSV is made for Excel: a digit string (a code, a phone) starts with a tab there, so that Excel keeps it as text; GDAL keeps the tab.
      if (src.endsWith('.csv')) for (const f of list) for (const k of Object.keys(f)) f[k] = f[k].replace(/^\t/, '')
      return new Map(list.map((f) => [f.code, f]))
    }

    beforeAll(async () => {
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true })
      dir = await mkdtemp(path.join(os.tmpdir(), 'gridwatch-export-test-'))
      commander = await loginAs(s, 'commander', CITY)
      planner = await loginAs(s, 'planner', CITY)
      const [t] = await s.db.sql`SELECT substr(g.code, 1, 9) || '000' AS code, count(*)::int AS n
                                 FROM households h JOIN grids g ON g.id = h.grid_id GROUP BY 1 ORDER BY 2 DESC LIMIT 1`
      town = t.code
      townHouseholds = t.n
      const [h] = await s.db.sql`SELECT h.code, h.householder, h.phone, v.name AS village, g.name AS grid
                                 FROM households h JOIN grids g ON g.id = h.grid_id JOIN admin_units v ON v.id = g.village_id
                                 WHERE g.code LIKE ${town.slice(0, 9) + '%'} AND h.phone IS NOT NULL ORDER BY h.id DESC LIMIT 1`
      sample = h as typeof sample
    })
    afterAll(async () => {
      await s?.close()
      if (dir) await rm(dir, { recursive: true, force: true })
    })

    it('exports a township\'s households in every format; GDAL reads back the count and the Chinese of SQL', async () => {
      expect(townHouseholds).toBeGreaterThan(100)
      for (const fmt of FORMATS) {
        const f = await download(commander, `households.${fmt}`)
        // Announced before the first byte, for progress: the count that then comes.
        expect(f.count, fmt).toBe(townHouseholds)
        const out = await ogrinfo(['-ro', '-so', '-al', f.path])
        expect(featureCount(out), fmt).toBe(townHouseholds)
        const rows = await readBack(f.path)
        expect(rows.size, fmt).toBe(townHouseholds)
        const got = rows.get(sample.code)!
        expect(got, fmt).toBeDefined()
        // The commander may read names: unmasked, and Chinese intact in every format.
        expect(field(got, 'householder'), fmt).toBe(sample.householder)
        expect(field(got, 'phone'), fmt).toBe(sample.phone)
        expect(field(got, 'village_name'), fmt).toBe(sample.village)
        expect(field(got, 'grid_name'), fmt).toBe(sample.grid)
        if (fmt !== 'csv' && fmt !== 'xlsx') expect(out, fmt).toMatch(/GEOGCRS\["WGS 84"|GEOGCS\["WGS 84"/)
      }
    })

    it('writes the Shapefile with a WGS84 .prj and a UTF-8 .cpg, the CSV with a byte-order mark', async () => {
      const shp = await download(commander, 'grids.shp.zip')
      const out = await ogrinfo(['-ro', '-so', '-mdd', 'all', shp.path, 'grids'])
      expect(out).toContain('ENCODING_FROM_CPG=UTF-8')
      expect(out).toMatch(/GEOGCRS\["WGS 84"/)
      expect(out).toContain('Geometry: Polygon')
      // A polygon is its geometry: no lon/lat point columns beside it; each text field as wide as its longest value (UTF-8 bytes).
      expect(out).not.toMatch(/^(lon|lat): /m)
      const [w] = await s.db.sql`SELECT max(octet_length(name))::int AS name, max(octet_length(code))::int AS code FROM grids WHERE code LIKE ${town.slice(0, 9) + '%'}`
      expect(out).toMatch(new RegExp(`^name: String \\(${w.name}\\.0\\)`, 'm'))
      expect(out).toMatch(new RegExp(`^code: String \\(${w.code}\\.0\\)`, 'm'))
      const gpkg = await ogrinfo(['-ro', '-so', (await download(commander, 'grids.gpkg')).path, 'grids'])
      expect(gpkg).not.toMatch(/^(lon|lat): /m)
      expect(gpkg).toMatch(new RegExp(`^name: String \\(${w.name}\\.0\\)`, 'm'))
      // Points keep lon/lat as columns (a table reader's coordinates) beside the geometry.
      expect(await ogrinfo(['-ro', '-so', (await download(commander, 'shelters.gpkg')).path, 'shelters'])).toMatch(/^lon: Real/m)
      const csv = await download(commander, 'households.csv')
      expect([...csv.bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf])
      expect(csv.type).toBe('text/csv; charset=utf-8')
      const header = csv.bytes.subarray(3).toString('utf8').split('\n')[0]
      expect(header.startsWith('id,code,householder,phone,')).toBe(true)
    })

    it('exports GIS files and tables in CGCS2000 (EPSG:4490) or Web Mercator on request; GeoJSON stays WGS84', async () => {
      const fetchFile = async (file: string, crs: string) => {
        const r = await commander.get(`/api/export/${file}?unit=${town}&crs=${crs}`)
        expect(r.status, `${file} ${crs}: ${r.status}`).toBe(200)
        const name = /filename="([^"]+)"/.exec(r.headers.get('content-disposition') ?? '')![1]
        expect(name).toBe(`${file.split('.')[0]}-${town}-${crs.replace(':', '')}.${file.split('.').slice(1).join('.')}`)
        const p = path.join(dir, name)
        const bytes = Buffer.from(await r.arrayBuffer())
        await writeFile(p, bytes)
        return { path: p.endsWith('.shp.zip') ? `/vsizip/${p}` : p, bytes }
      }
      // CGCS2000: named so in the file, the same numbers as WGS84 (no shift).
      const cgcs = await ogrinfo(['-ro', '-al', (await fetchFile('shelters.gpkg', 'EPSG:4490')).path])
      expect(cgcs).toMatch(/China Geodetic Coordinate System 2000|CGCS2000/)
      const wgs = await ogrinfo(['-ro', '-al', (await download(commander, 'shelters.gpkg')).path])
      const points = (out: string) => [...out.matchAll(/POINT \(([0-9.]+) ([0-9.]+)\)/g)].map((m) => [Number(m[1]), Number(m[2])])
      expect(points(cgcs).length).toBeGreaterThan(0)
      expect(points(cgcs)).toEqual(points(wgs))
      // Web Mercator: a .prj that says so, metres in the geometry and in the table's x/y.
      const merc = await ogrinfo(['-ro', '-so', '-al', (await fetchFile('grids.shp.zip', 'EPSG:3857')).path])
      expect(merc).toMatch(/Pseudo-Mercator|Popular Visualisation/)
      const ext = /Extent: \(([0-9.]+), ([0-9.]+)\)/.exec(merc)!
      expect(Number(ext[1])).toBeGreaterThan(1e7)
      const csv = (await fetchFile('households.csv', 'EPSG:3857')).bytes.subarray(3).toString('utf8').split('\n')
      const header = csv[0].split(',')
      expect(header).toContain('x')
      expect(header).not.toContain('lon')
      const [x, y] = [header.indexOf('x'), header.indexOf('y')].map((i) => Number(csv[1].split(',')[i]))
      const [hh] = await s.db.sql`SELECT ST_X(ST_Transform(h.geom, 3857)) AS x, ST_Y(ST_Transform(h.geom, 3857)) AS y FROM households h
                                  JOIN grids g ON g.id = h.grid_id WHERE g.code LIKE ${town.slice(0, 9) + '%'} ORDER BY h.id LIMIT 1`
      expect(x).toBeCloseTo(hh.x as number, 1)
      expect(y).toBeCloseTo(hh.y as number, 1)
      const geo = await commander.get(`/api/export/shelters.geojson?unit=${town}&crs=EPSG:4490`)
      expect(geo.status).toBe(400)
      expect((await geo.json()).error.code).toBe('bad_crs')
      expect((await commander.get(`/api/export/shelters.gpkg?unit=${town}&crs=EPSG:4214`)).status).toBe(400)
    })

    it('exports every layer with the rows SQL finds in the unit', async () => {
      const p = town.slice(0, 9) + '%'
      const sql = s.db.sql
      const truth: Record<string, number> = {
        grids: (await sql`SELECT count(*)::int AS n FROM grids WHERE code LIKE ${p}`)[0].n,
        households: townHouseholds,
        hazard_sites: (await sql`SELECT count(*)::int AS n FROM hazard_sites WHERE admin_code LIKE ${p}`)[0].n,
        shelters: (await sql`SELECT count(*)::int AS n FROM shelters sh JOIN admin_units v ON v.id = sh.village_id WHERE v.code LIKE ${p}`)[0].n,
        routes: (await sql`SELECT count(*)::int AS n FROM routes r JOIN shelters sh ON sh.id = r.shelter_id JOIN admin_units v ON v.id = sh.village_id WHERE v.code LIKE ${p}`)[0].n,
        admin_units: (await sql`SELECT count(*)::int AS n FROM admin_units WHERE code LIKE ${p}`)[0].n,
      }
      for (const [layer, n] of Object.entries(truth)) {
        expect(n, layer).toBeGreaterThan(0)
        const gj = JSON.parse((await download(commander, `${layer}.geojson`)).bytes.toString('utf8'))
        expect(gj.type).toBe('FeatureCollection')
        expect(gj.features.length, `${layer}.geojson`).toBe(n)
        const csv = await commander.get(`/api/export/${layer}.csv?unit=${town}`)
        expect(csv.headers.get('x-feature-count'), layer).toBe(String(n))
        await csv.arrayBuffer()
        const gpkg = await download(commander, `${layer}.gpkg`)
        expect(featureCount(await ogrinfo(['-ro', '-so', gpkg.path, layer])), `${layer}.gpkg`).toBe(n)
      }
      // The city: every household.
      const [{ n }] = await sql`SELECT count(*)::int AS n FROM households`
      const all = await download(commander, 'households.csv', CITY)
      expect(featureCount(await ogrinfo(['-ro', '-so', '-al', all.path]))).toBe(n)
    })

    it('masks names and phone numbers in a planner\'s export, as the records API does', async () => {
      for (const fmt of ['csv', 'gpkg', 'xlsx', 'geojson'] as const) {
        const f = await download(planner, `households.${fmt}`)
        const got = (await readBack(f.path)).get(sample.code)!
        expect(got.householder, fmt).toBe(maskName(sample.householder))
        expect(got.phone, fmt).toBe(maskPhone(sample.phone))
        expect(got.village_name, fmt).toBe(sample.village)
      }
      // Township staff: names inside their township, masks outside it (their export is their township only).
      const staff = await loginAs(s, 'township', town)
      const mine = (await readBack((await download(staff, 'households.csv')).path)).get(sample.code)!
      expect(mine.householder).toBe(sample.householder)
    })

    it('exports problem reports with their type in words, level and times; a duty-phone caller masked for a planner', async () => {
      const staff = await loginAs(s, 'township', town)
      const [g] = await s.db.sql`SELECT g.code, g.name, ST_X(ST_PointOnSurface(g.geom)) AS lng, ST_Y(ST_PointOnSurface(g.geom)) AS lat
                                 FROM grids g WHERE g.kind = 'basic' AND g.code LIKE ${town.slice(0, 9) + '%'} ORDER BY g.code LIMIT 1`
      const r = await staff.send('POST', '/api/reports', { lng: g.lng, lat: g.lat, type: 'road_cut', urgency: 'urgent', note: '桥面被冲毁', caller: { name: '李四', phone: '13812345678' } })
      expect(r.status).toBe(201)
      const { id } = (await r.json()) as { id: number }
      const [{ n }] = await s.db.sql`SELECT count(*)::int AS n FROM reports WHERE grid_code LIKE ${town.slice(0, 9) + '%'}`
      for (const [who, name, phone] of [[commander, '李四', '13812345678'], [planner, maskName('李四'), maskPhone('13812345678')]] as const) {
        const gj = JSON.parse((await download(who, 'reports.geojson')).bytes.toString('utf8'))
        expect(gj.features.length).toBe(n)
        const got = gj.features.find((f: { properties: { id: number } }) => f.properties.id === id).properties
        expect(got).toMatchObject({ type: 'road_cut', type_name: '道路/桥梁中断', urgency: 'urgent', state: 'reported', grid_code: g.code,
          grid_name: g.name, note: '桥面被冲毁', caller_name: name, caller_phone: phone, overdue: false, acknowledged_at: null })
        expect(gj.features.find((f: { properties: { id: number } }) => f.properties.id === id).geometry.type).toBe('Point')
      }
      const gpkg = await download(planner, 'reports.gpkg')
      expect(featureCount(await ogrinfo(['-ro', '-so', gpkg.path, 'reports']))).toBe(n)
    })

    it('neutralises formulas in CSV and XLSX (text kept, numbers still numbers), keeps codes as text, writes times in Beijing time', async () => {
      const sql = s.db.sql
      const hh = await sql`SELECT h.id, h.code, h.measures, h.last_visit_at, h.members, g.id AS grid_id, g.code AS grid_code, g.name AS grid_name,
                                  v.code AS village_code
                           FROM households h JOIN grids g ON g.id = h.grid_id JOIN admin_units v ON v.id = g.village_id
                           WHERE g.code LIKE ${town.slice(0, 9) + '%'} ORDER BY h.id LIMIT 3`
      const evil = ['=HYPERLINK("http://x","y")', '@SUM(1)', '-1+2']
      const gridName = '+1-1'
      // 20:30:15 UTC on the 13th: 04:30:15 on the 14th in Beijing (another day, so a UTC date would show).
      const visit = new Date('2026-07-13T20:30:15Z')
      try {
        for (const [i, h] of hh.entries()) await sql`UPDATE households SET measures = ${evil[i]}, last_visit_at = ${visit} WHERE id = ${h.id}`
        await sql`UPDATE grids SET name = ${gridName} WHERE id = ${hh[0].grid_id}`

        // CSV, read as csv-parse reads it.
        const csv = await download(commander, 'households.csv')
        const text = csv.bytes.subarray(3).toString('utf8')
        const records = parse(text, { columns: true }) as Record<string, string>[]
        const byCode = new Map(records.map((r) => [r.code.replace(/^\t/, ''), r]))
        for (const [i, h] of hh.entries()) {
          const r = byCode.get(h.code as string)!
          expect(r, h.code).toBeDefined()
          expect(r.measures).toBe(`'${evil[i]}`)
          // Codes: a quoted field starting with a tab, which Excel keeps as text (19 digits as a number would lose the last four).
          expect(r.code).toBe(`\t${h.code}`)
          expect(r.grid_code).toBe(`\t${h.grid_code}`)
          expect(r.village_code).toBe(`\t${h.village_code}`)
          expect(text).toContain(`,"\t${h.code}",`)
          expect(r.members).toBe(String(h.members))
          expect(r.last_visit_at).toBe('2026-07-14T04:30:15+08:00')
        }
        expect(byCode.get(hh[0].code as string)!.grid_name).toBe(`'${gridName}`)
        // No cell anywhere starts with a formula character; a tab only before digits.
        const unsafe = records.flatMap((r) => Object.entries(r).filter(([, v]) => /^[=+\-@\r]|^\t(?![0-9])/.test(v)).map(([k, v]) => `${k}: ${v}`))
        expect(unsafe).toEqual([])

        // XLSX, read as exceljs reads it: string cells, the quote kept; numbers numbers; a typed date-time in Beijing wall-clock time.
        const xlsx = await download(commander, 'households.xlsx')
        const book = new ExcelJS.Workbook()
        await book.xlsx.load(xlsx.bytes as never)
        const sheet = book.worksheets[0]
        const col: Record<string, number> = {}
        sheet.getRow(1).eachCell((c, i) => (col[String(c.text)] = i))
        const rows = new Map<string, ExcelJS.Row>()
        sheet.eachRow((r, n) => { if (n > 1) rows.set(String(r.getCell(col.code).value), r) })
        for (const [i, h] of hh.entries()) {
          const r = rows.get(h.code as string)!
          expect(r, h.code).toBeDefined()
          expect(r.getCell(col.measures).type).toBe(ExcelJS.ValueType.String)
          expect(r.getCell(col.measures).value).toBe(`'${evil[i]}`)
          expect(r.getCell(col.code).type).toBe(ExcelJS.ValueType.String)
          expect(r.getCell(col.grid_code).value).toBe(h.grid_code)
          expect(r.getCell(col.members).value).toBe(h.members)
          expect(r.getCell(col.lon).type).toBe(ExcelJS.ValueType.Number)
          const when = r.getCell(col.last_visit_at)
          expect(when.type).toBe(ExcelJS.ValueType.Date)
          expect((when.value as Date).toISOString()).toBe('2026-07-14T04:30:15.000Z')
          expect(when.numFmt).toMatch(/yyyy-mm-dd hh:mm:ss.*\+08:00/)
        }
        expect(rows.get(hh[0].code as string)!.getCell(col.grid_name).value).toBe(`'${gridName}`)
        // GDAL takes the column for a date-time.
        const fromGdal = (await readBack(xlsx.path)).get(hh[0].code as string)!
        expect(fromGdal.last_visit_at).toBe('2026/07/14 04:30:15')

        // Not spreadsheets: GeoJSON and GeoPackage keep the text as it is; GeoJSON writes +08:00, GeoPackage UTC (its standard),
        // a Shapefile (dates without time) the Beijing day.
        const gj = JSON.parse((await download(commander, 'households.geojson')).bytes.toString('utf8'))
        const f0 = gj.features.find((f: { properties: { code: string } }) => f.properties.code === hh[0].code)
        expect(f0.properties).toMatchObject({ measures: evil[0], last_visit_at: '2026-07-14T04:30:15+08:00', grid_name: gridName })
        const gpkg = (await readBack((await download(commander, 'households.gpkg')).path)).get(hh[0].code as string)!
        expect(gpkg.measures).toBe(evil[0])
        expect(gpkg.last_visit_at).toBe('2026/07/13 20:30:15+00')
        const shp = (await readBack((await download(commander, 'households.shp.zip')).path)).get(hh[0].code as string)!
        expect(field(shp, 'last_visit_at')).toBe('2026/07/14')

        // An analysis export goes the same way: the grid's name in worker_load.
        const wl = await commander.get(`/api/export/analysis/worker_load.csv?unit=${town}&limit=5`)
        expect(wl.status).toBe(200)
        const wlRows = parse(Buffer.from(await wl.arrayBuffer()).subarray(3).toString('utf8'), { columns: true }) as Record<string, string>[]
        const g = wlRows.find((r) => r.code === `\t${hh[0].grid_code}`)!
        expect(g, 'the grid in worker_load.csv').toBeDefined()
        expect(g.name).toBe(`'${gridName}`)
      } finally {
        for (const h of hh) await sql`UPDATE households SET measures = ${h.measures}, last_visit_at = ${h.last_visit_at} WHERE id = ${h.id}`
        await sql`UPDATE grids SET name = ${hh[0].grid_name} WHERE id = ${hh[0].grid_id}`
      }
    })

    it('refuses roles without data.export, places outside the scope, and bad layers, formats and units', async () => {
      const worker = await loginAs(s, 'grid_worker', (await s.db.sql`SELECT code FROM grids WHERE kind = 'basic' ORDER BY id LIMIT 1`)[0].code)
      const viewer = await loginAs(s, 'viewer', CITY)
      const staff = await loginAs(s, 'township', town)
      const [other] = await s.db.sql`SELECT code FROM admin_units WHERE level = 'township' AND code <> ${town} ORDER BY code LIMIT 1`
      const cases: [Client, string, number, string][] = [
        [worker, `/api/export/households.csv?unit=${town}`, 403, 'forbidden_role'],
        [worker, '/api/export/nope.csv', 403, 'forbidden_role'],
        [viewer, '/api/export/grids.geojson', 403, 'forbidden_role'],
        [staff, `/api/export/households.csv?unit=${other.code}`, 403, 'forbidden_scope'],
        [staff, `/api/export/households.csv?unit=${CITY}`, 403, 'forbidden_scope'],
        [commander, '/api/export/nope.csv', 404, 'unknown_layer'],
        [commander, '/api/export/households', 404, 'unknown_layer'],
        [commander, '/api/export/.csv', 404, 'unknown_layer'],
        [commander, '/api/export/households.kml', 400, 'bad_format'],
        [commander, '/api/export/households.shp', 400, 'bad_format'],
        [commander, '/api/export/households.CSV', 400, 'bad_format'],
        [commander, '/api/export/households.csv?unit=12', 400, 'bad_input'],
        [commander, '/api/export/households.csv?unit=530600000000000', 400, 'bad_input'],
        [commander, '/api/export/households.csv?unit=', 400, 'bad_input'],
        [commander, '/api/export/households.csv?unit=530600000000&unit=530600000000', 400, 'bad_input'],
        [commander, '/api/export/households.csv?format=csv', 400, 'bad_input'],
        [commander, '/api/export/households.csv?unit=999999999999', 403, 'forbidden_scope'],
        [commander, '/api/export/households.csv?unit=530699999999', 404, 'unknown_unit'],
      ]
      for (const [who, url, status, code] of cases) {
        const r = await who.get(url)
        expect(r.status, url).toBe(status)
        const body = await r.json()
        expect(body.error.code, url).toBe(code)
        expect(body.error.zh, url).toBeTruthy()
        expect(body.error.en, url).toBeTruthy()
      }
      expect((await fetch(`${s.url}/api/export/households.csv`)).status).toBe(401)
      // The good requests beside them work.
      // The good requests beside them work (each read to its end: a download holds one of staff's places until then).
      for (const url of ['/api/export/households.csv', `/api/export/shelters.csv?unit=${town}`]) {
        const r = await staff.get(url)
        expect(r.status, url).toBe(200)
        await r.text()
      }
    })

    it('reads through a cursor a batch at a time, and lets go of the connection when the reader stops', async () => {
      // One connection, as on the embedded database: a cursor left open would block the next query.
      const sql = client(target.url)
      try {
        const user = { id: commander.userId, username: commander.username, displayName: 't', role: 'commander' as const, unitCode: CITY, mustChangePassword: false }
        const rows = exportRows(sql, layers.households, user, '5306')
        const first = await rows.next()
        expect(first.value).toHaveLength(1000)
        await rows.return(undefined)
        const next = sql`SELECT 1 AS ok`.then((r) => r[0].ok)
        const late = new Promise((resolve) => setTimeout(() => resolve('blocked'), 5000))
        expect(await Promise.race([next, late])).toBe(1)
      } finally {
        await sql.end({ timeout: 1 })
      }
    })

    it('records every export in the audit log: who, which layer, format and area', async () => {
      const before = (await s.db.sql`SELECT count(*)::int AS n FROM audit_log WHERE action = 'export' AND actor_id = ${planner.userId}`)[0].n
      await download(planner, 'shelters.csv')
      const rows = await s.db.sql`SELECT table_name, after, actor_role FROM audit_log WHERE action = 'export' AND actor_id = ${planner.userId} ORDER BY id`
      expect(rows.length).toBe(before + 1)
      expect(rows.at(-1)).toMatchObject({ table_name: 'shelters', actor_role: 'planner', after: { unit: town, format: 'csv' } })
    })
  })
}

/** Places for exports are the API process's bookkeeping: one database is enough. */
describe('export limits', () => {
  let s: RunningServer
  let a: Client, b: Client, c: Client
  const held = (who?: Client) => s.limits.exports.held(who?.userId)
  /** Waits (up to 5 s) until `check` holds. */
  async function until(check: () => boolean) {
    for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 50))
    return check()
  }
  /** Places taken by other work (as downloads under way would hold them), given back by the test. */
  function occupy(userIds: number[]) {
    const places = userIds.map((u) => s.limits.exports.enter(u))
    for (const p of places) expect('refused' in p).toBe(false)
    return () => places.forEach((p) => !('refused' in p) && p.release())
  }
  async function expect429(r: Response, code: string) {
    const body = await r.json()
    expect(r.status, JSON.stringify(body)).toBe(429)
    expect(body.error.code).toBe(code)
    expect(body.error.zh).toMatch(/导出/)
    expect(body.error.en).toMatch(/export/)
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0)
  }

  beforeAll(async () => {
    s = await startServer({ port: 0, databaseUrl: inject('embeddedUrl'), seedScale: false, quiet: true })
    ;[a, b, c] = await Promise.all([loginAs(s, 'planner', CITY), loginAs(s, 'planner', CITY), loginAs(s, 'commander', CITY)])
  })
  afterAll(() => s?.close())

  it('2 exports at once a user and 4 in all, analysis exports too; past them 429 with Retry-After and a zh/en message', async () => {
    expect(held()).toBe(0)
    const free = occupy([a.userId, a.userId])
    await expect429(await a.get(`/api/export/shelters.csv?unit=${CITY}`), 'too_many_jobs')
    await expect429(await a.get(`/api/export/analysis/worker_load.csv?unit=${CITY}`), 'too_many_jobs')
    // Someone else still may.
    const other = await b.get(`/api/export/shelters.csv?unit=${CITY}`)
    expect(other.status).toBe(200)
    await other.text()
    free()
    const full = occupy([-1, -2, -3, -4])
    await expect429(await c.get(`/api/export/households.geojson?unit=${CITY}`), 'server_busy')
    await expect429(await c.get(`/api/export/analysis/worker_load.geojson?unit=${CITY}`), 'server_busy')
    full()
    expect(held()).toBe(0)
  })

  it('a download holds its place until it is read to the end, fails, or its client goes away; a HEAD holds none', async () => {
    // Read to the end.
    const done = await b.get(`/api/export/shelters.geojson?unit=${CITY}`)
    expect(done.status).toBe(200)
    expect((await done.json()).type).toBe('FeatureCollection')
    expect(await until(() => held() === 0)).toBe(true)
    // Gone away mid-download: the answer has begun, the body is left unread and the connection closed.
    for (const file of [`households.geojson?unit=${CITY}`, `households.csv?unit=${CITY}`, `analysis/shelter_distance.xlsx?unit=${CITY}&distance=500`]) {
      const under = await new Promise<{ status: number; req: http.ClientRequest; heldThen: number }>((resolve, reject) => {
        const req = http.get(`${s.url}/api/export/${file}`, { headers: { Cookie: a.cookie } }, (res) => {
          res.pause()
          resolve({ status: res.statusCode!, req, heldThen: held(a) })
        })
        req.on('error', reject)
      })
      expect([under.status, under.heldThen], file).toEqual([200, 1])
      under.req.destroy()
      expect(await until(() => held(a) === 0), file).toBe(true)
    }
    // A HEAD sends no file and takes no place.
    const head = await c.fetch(`/api/export/households.geojson?unit=${CITY}`, { method: 'HEAD' })
    expect([head.status, Number(head.headers.get('x-feature-count')) > 0, held(c)]).toEqual([200, true, 0])
    // An export that fails (GeoPackage without GDAL; with it, one read to the end) gives its place back too.
    await (await c.get(`/api/export/shelters.gpkg?unit=${CITY}`)).arrayBuffer()
    expect(await until(() => held(c) === 0)).toBe(true)
    // And the database is free for the next one: the abandoned cursors let go of the connection.
    const after = await a.get(`/api/export/households.csv?unit=${CITY}`)
    expect(after.status).toBe(200)
    expect((await after.text()).split('\n').length).toBeGreaterThan(100)
    expect(await until(() => held() === 0)).toBe(true)
  })
})
