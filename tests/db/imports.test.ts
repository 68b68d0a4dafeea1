/**
 * Imports (POST /api/import/{households|hazard_sites}) on both databases:
 * Chinese headers in GBK and UTF-8, XLSX, GeoJSON and a zipped Shapefile made
 * by GDAL, coordinates in GCJ-02; a round trip of our own exports; and bad
 * files, each answered with the rows at fault and nothing written.
 */
import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import ExcelJS from 'exceljs'
import gcoord from 'gcoord'
import iconv from 'iconv-lite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { gdalAvailable } from '../helpers/gdal.ts'
import { loginAs, type Client } from '../helpers/session.ts'
import { targets } from '../helpers/targets.ts'

const CITY = '530600000000'
const haveGdal = gdalAvailable('import suite (Shapefile)')
const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64')
const gcj = (lon: number, lat: number) => gcoord.transform([lon, lat], gcoord.WGS84, gcoord.GCJ02) as [number, number]

for (const target of targets()) {
  describe(`imports on ${target.name}`, () => {
    let s: RunningServer
    let commander: Client
    let township: Client
    let dir: string
    let town: string
    /** Two grids of the township (a point inside each), and one grid of another township. */
    let inside: { code: string; lon: number; lat: number }[]
    let outside: { code: string; lon: number; lat: number }
    const made: string[] = []

    const count = async (table: 'households' | 'hazard_sites') => (await s.db.sql`SELECT count(*)::int AS n FROM ${s.db.sql(table)}`)[0].n as number
    const post = (who: Client, target: string, body: Record<string, unknown>) => who.send('POST', `/api/import/${target}`, { crs: 'wgs84', ...body })
    async function expectErrors(r: Response, rows: number[], pattern?: RegExp) {
      const body = await r.json()
      expect(r.status, JSON.stringify(body).slice(0, 400)).toBe(400)
      expect(body.error.code).toBe('import_invalid')
      expect(body.errors.map((e: { row: number }) => e.row)).toEqual(rows)
      for (const e of body.errors) expect(e.zh && e.en).toBeTruthy()
      if (pattern) expect(body.errors.map((e: { en: string }) => e.en).join('\n')).toMatch(pattern)
      return body
    }

    beforeAll(async () => {
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true })
      dir = await mkdtemp(path.join(os.tmpdir(), 'gridwatch-import-test-'))
      const sql = s.db.sql
      const [t] = await sql`SELECT code FROM admin_units WHERE level = 'township' ORDER BY code LIMIT 1`
      town = t.code
      commander = await loginAs(s, 'commander', CITY)
      township = await loginAs(s, 'township', town)
      inside = (await sql`SELECT code, ST_X(label_point) AS lon, ST_Y(label_point) AS lat FROM grids
                          WHERE kind = 'basic' AND code LIKE ${town.slice(0, 9) + '%'} AND ST_Contains(geom, label_point) ORDER BY code LIMIT 2`) as never
      ;[outside] = (await sql`SELECT code, ST_X(label_point) AS lon, ST_Y(label_point) AS lat FROM grids
                              WHERE kind = 'basic' AND code NOT LIKE ${town.slice(0, 9) + '%'} AND ST_Contains(geom, label_point) ORDER BY code LIMIT 1`) as unknown as (typeof outside)[]
      expect(inside.length).toBe(2)
    })
    afterAll(async () => {
      if (made.length) {
        await s.db.sql`DELETE FROM households WHERE code = ANY(${made})`
        await s.db.sql`DELETE FROM hazard_sites WHERE code = ANY(${made})`
      }
      await s?.close()
      if (dir) await rm(dir, { recursive: true, force: true })
    })

    it('a GBK CSV with Chinese headers and GCJ-02 points: dry run reports by row and writes nothing; the import writes all, audited', async () => {
      const [a, b] = inside
      const csv = ['户主,电话,人口,独居老人,风险等级,经度,纬度',
        `张三,13800001111,3,1,红,${gcj(a.lon, a.lat).join(',')}`,
        `李四,,2,0,绿色,${gcj(b.lon, b.lat).join(',')}`].join('\r\n')
      const file = b64(iconv.encode(csv, 'gbk'))
      const before = await count('households')
      const dry = await post(township, 'households', { file, format: 'csv', crs: 'gcj02', filename: '台账.csv' })
      const report = await dry.json()
      expect(dry.status, JSON.stringify(report)).toBe(200)
      expect(report).toMatchObject({ ok: true, dryRun: true, rows: 2, inserted: 2, updated: 0 })
      expect(report.report.map((r: { row: number; grid: string }) => [r.row, r.grid])).toEqual([[2, a.code], [3, b.code]])
      expect(await count('households')).toBe(before)

      const r = await post(township, 'households', { file, format: 'csv', crs: 'gcj02', filename: '台账.csv', dryRun: false })
      const done = await r.json()
      expect(r.status, JSON.stringify(done)).toBe(200)
      expect(done).toMatchObject({ ok: true, dryRun: false, inserted: 2 })
      made.push(...done.report.map((x: { code: string }) => x.code))
      expect(await count('households')).toBe(before + 2)
      const rows = await s.db.sql`SELECT h.householder, h.phone, h.members, h.elderly_alone, h.risk_level, g.code AS grid, h.cadre_id,
                                         ST_Distance(h.geom::geography, ST_SetSRID(ST_MakePoint(${a.lon}, ${a.lat}), 4326)::geography) AS off
                                  FROM households h JOIN grids g ON g.id = h.grid_id WHERE h.code = ANY(${made}) ORDER BY h.code`
      const zs = rows.find((x) => x.householder === '张三')!
      // GCJ-02 went back to WGS84: within a metre of where the point was before the offset.
      expect(zs).toMatchObject({ phone: '13800001111', members: 3, elderly_alone: 1, risk_level: 'red', grid: a.code })
      expect(zs.off as number).toBeLessThan(1)
      expect(zs.cadre_id).not.toBeNull()
      expect(rows.find((x) => x.householder === '李四')!.risk_level).toBe('green')
      const [audit] = await s.db.sql`SELECT actor, after FROM audit_log WHERE action = 'import' AND table_name = 'households' ORDER BY id DESC LIMIT 1`
      expect(audit.actor).toBe(township.username)
      expect(audit.after).toMatchObject({ file: '台账.csv', crs: 'gcj02', inserted: 2 })
    })

    it('an XLSX ledger with a column mapping', async () => {
      const book = new ExcelJS.Workbook()
      const sheet = book.addWorksheet('台账')
      sheet.addRow(['户主姓名', '家庭人数', '风险', 'X坐标', 'Y坐标'])
      sheet.addRow(['王五', 4, '黄', inside[0].lon, inside[0].lat])
      const file = b64(Buffer.from(await book.xlsx.writeBuffer()))
      const mapping = { members: '家庭人数', lon: 'X坐标', lat: 'Y坐标' }
      const r = await post(township, 'households', { file, format: 'xlsx', mapping })
      const body = await r.json()
      expect(r.status, JSON.stringify(body)).toBe(200)
      expect(body.report).toEqual([{ row: 2, action: 'insert', code: expect.stringMatching(new RegExp(`^${inside[0].code}[0-9]{4}$`)), grid: inside[0].code }])
      // Without the mapping the columns are not found: named, at row 1.
      await expectErrors(await post(township, 'households', { file, format: 'xlsx' }), [1], /members, lon, lat/)
    })

    it('round trip: our own exports come back in with no errors and no change (CSV and XLSX households, GeoJSON hazard sites)', async () => {
      const codes = (await s.db.sql`SELECT h.code FROM households h JOIN grids g ON g.id = h.grid_id WHERE g.code LIKE ${town.slice(0, 9) + '%'} ORDER BY h.code`).map((r) => r.code as string)
      // Measures a spreadsheet would run as formulas: the export neutralises them (a leading quote), the import takes the quote off again.
      const evil = ['=HYPERLINK("http://x","y")', '@SUM(1)', '-1+2', "'=1+1"]
      const kept = await s.db.sql`SELECT code, measures FROM households WHERE code = ANY(${codes.slice(1, 1 + evil.length)}) ORDER BY code`
      for (const [i, h] of kept.entries()) await s.db.sql`UPDATE households SET measures = ${evil[i]} WHERE code = ${h.code}`
      try {
        await roundTrip(codes)
      } finally {
        for (const h of kept) await s.db.sql`UPDATE households SET measures = ${h.measures} WHERE code = ${h.code}`
      }
    })

    async function roundTrip(codes: string[]) {
      let csv = ''
      for (const fmt of ['csv', 'xlsx'] as const) {
        const ex = await commander.get(`/api/export/households.${fmt}?unit=${town}`)
        expect(ex.status).toBe(200)
        const n = Number(ex.headers.get('x-feature-count'))
        const bytes = Buffer.from(await ex.arrayBuffer())
        if (fmt === 'csv') csv = bytes.toString('utf8')
        const r = await post(township, 'households', { file: b64(bytes), format: fmt })
        const body = await r.json()
        expect(r.status, `${fmt}: ${JSON.stringify(body).slice(0, 400)}`).toBe(200)
        expect(body).toMatchObject({ rows: n, updated: n, inserted: 0 })
        // The same rows, and every value as stored: names, measures (Chinese), counts, risk, place.
        expect(body.report.map((x: { code: string }) => x.code).sort()).toEqual(codes)
        expect(body.report.filter((x: { changed: string[] }) => x.changed.length), fmt).toEqual([])
      }
      // The report sees a change: one name edited (in Chinese) in the exported file.
      const [first] = await s.db.sql`SELECT code, householder FROM households WHERE code = ${codes[0]}`
      expect(first.householder).toMatch(/[\u4e00-\u9fff]/)
      // The codes are in quotes after a tab there, so that Excel keeps them as text.
      const edited = csv.replace(new RegExp(`^(\\d+,"\\t${codes[0]}",)${first.householder},`, 'm'), '$1欧阳测试,')
      expect(edited).not.toBe(csv)
      const one = await (await post(township, 'households', { file: b64(edited), format: 'csv' })).json()
      expect(one.report.filter((x: { changed: string[] }) => x.changed.length).map((x: { code: string; changed: string[] }) => [x.code, x.changed])).toEqual([[codes[0], ['householder']]])
      const ex = await commander.get(`/api/export/hazard_sites.geojson?unit=${town}`)
      const n = Number(ex.headers.get('x-feature-count'))
      expect(n).toBeGreaterThan(0)
      const r = await post(township, 'hazard_sites', { file: b64(Buffer.from(await ex.arrayBuffer())), format: 'geojson' })
      const body = await r.json()
      expect(r.status, JSON.stringify(body).slice(0, 400)).toBe(200)
      expect(body).toMatchObject({ rows: n, updated: n, inserted: 0 })
    }

    it('refuses a code Excel turned into a number, or a code of the wrong kind: each by row and field, nothing written', async () => {
      const [a] = inside
      const before = [await count('households'), await count('hazard_sites')]
      const header = '户代码,户主,人口,风险等级,经度,纬度'
      const body = await expectErrors(await post(township, 'households', { format: 'csv', dryRun: false, file: b64('\uFEFF' + [header,
        `5.30602E+18,张三,3,红,${a.lon},${a.lat}`, // Excel's scientific notation: the last digits are gone
        `${a.code.slice(0, 12)},李四,3,红,${a.lon},${a.lat}`, // a village's code, not a household's
        `${a.code}00001,王五,3,红,${a.lon},${a.lat}`, // 20 digits
        `H-1,赵六,3,红,${a.lon},${a.lat}`,
        `${a.code}9991,钱七,3,红,${a.lon},${a.lat}`, // a good one
      ].join('\n')) }), [2, 3, 4, 5])
      const [sci, village] = body.errors
      expect(sci.zh).toMatch(/^第 2 行 户代码“5\.30602E\+18”：.*科学计数法/)
      expect(sci.en).toMatch(/^row 2 code "5\.30602E\+18": .*scientific notation/)
      expect(village.zh).toMatch(/^第 3 行 户代码“\d{12}”：.*19 位数字/)
      expect(village.en).toMatch(/^row 3 code "\d{12}": .*19 digits/)
      // XLSX: a code typed as a number keeps only 15 significant digits in Excel.
      const book = new ExcelJS.Workbook()
      const sheet = book.addWorksheet('台账')
      sheet.addRow(header.split(','))
      sheet.addRow([Number(`${a.code}0001`), '张三', 3, '红', a.lon, a.lat])
      sheet.addRow([`${a.code}9992`, '李四', 3, '红', a.lon, a.lat])
      const x = await expectErrors(await post(township, 'households', { format: 'xlsx', dryRun: false, file: b64(Buffer.from(await book.xlsx.writeBuffer())) }), [2])
      expect(x.errors[0].en).toMatch(/^row 2 code "5\.3\d*e\+18": .*scientific notation/)
      // A hazard site's code in scientific notation.
      await expectErrors(await post(township, 'hazard_sites', { format: 'csv', dryRun: false, file: b64(['统一编号,名称,类型,规模,经度,纬度',
        `5.30602E+11,测试滑坡,滑坡,小型,${a.lon},${a.lat}`, `${a.code.slice(0, 6)}DZ99991,测试崩塌,崩塌,小型,${a.lon},${a.lat}`].join('\n')) }), [2], /row 2 code "5\.30602E\+11": .*scientific notation/)
      expect([await count('households'), await count('hazard_sites')]).toEqual(before)
    })

    it.skipIf(!haveGdal)('hazard sites from a zipped Shapefile with Chinese fields', async () => {
      const gj = { type: 'FeatureCollection', features: [{ type: 'Feature', geometry: { type: 'Point', coordinates: [inside[1].lon, inside[1].lat] },
        properties: { 编号: `TEST${target.name}01`, 名称: '测试滑坡', 类型: '滑坡', 规模: '小型', people: 12 } }] }
      await writeFile(path.join(dir, 'in.geojson'), JSON.stringify(gj))
      const zip = path.join(dir, 'sites.shp.zip')
      execFileSync('ogr2ogr', ['-f', 'ESRI Shapefile', zip, path.join(dir, 'in.geojson'), '-lco', 'ENCODING=UTF-8'])
      const file = b64(await readFile(zip))
      const before = await count('hazard_sites')
      // A DBF field name holds 10 bytes (3 Chinese characters): longer names need the mapping.
      const r = await post(township, 'hazard_sites', { file, format: 'shp.zip', dryRun: false, mapping: { threatened_people: 'people' } })
      const body = await r.json()
      expect(r.status, JSON.stringify(body)).toBe(200)
      made.push(`TEST${target.name}01`)
      expect(await count('hazard_sites')).toBe(before + 1)
      const [site] = await s.db.sql`SELECT name, type, threatened_people, admin_code FROM hazard_sites WHERE code = ${`TEST${target.name}01`}`
      expect(site).toEqual({ name: '测试滑坡', type: '滑坡', threatened_people: 12, admin_code: inside[1].code.slice(0, 12) })
    })

    it('bad files: every bad row named by number, nothing written', async () => {
      const before = await count('households')
      const [a] = inside
      const csv = (lines: string[]) => b64('\uFEFF' + lines.join('\n'))
      const header = '户主,人口,风险等级,经度,纬度'
      // Wrong columns.
      await expectErrors(await post(township, 'households', { file: csv(['姓名,年龄,经度', '张三,3,104']), format: 'csv' }), [1], /required columns missing: members, risk_level, lat/)
      // Bad coordinates, values and row shapes, each on its line.
      const bad = await expectErrors(await post(township, 'households', { format: 'csv', file: csv([header,
        `甲,3,红,${a.lon},${a.lat}`, // fine
        `乙,3,红,abc,${a.lat}`, // not a number
        `丙,3,红,${a.lat},${a.lon}`, // swapped
        `丁,0,红,${a.lon},${a.lat}`, // members 0
        `戊,3,紫,${a.lon},${a.lat}`, // no such risk level
        `己,3,红,${a.lon}`, // a column short
        `庚,3,红,${outside.lon},${outside.lat}`, // another township's grid
        `辛,3,红,100,40`, // in China, in no grid
      ]) }), [3, 4, 5, 6, 7, 7, 8, 9])
      expect(bad.errors.find((e: { row: number }) => e.row === 8).en).toMatch(/outside your area/)
      expect(bad.errors.find((e: { row: number }) => e.row === 9).en).toMatch(/in no grid/)
      expect(bad.errors.find((e: { row: number }) => e.row === 4).en).toMatch(/not in China/)
      // Mixed encodings: one line saved as GBK in a UTF-8 file.
      const mixed = Buffer.concat([Buffer.from(`${header}\n甲,3,红,${a.lon},${a.lat}\n`), iconv.encode(`乙,3,红,${a.lon},${a.lat}\n`, 'gbk'),
        Buffer.from(`丙,3,红,${a.lon},${a.lat}\n`)])
      await expectErrors(await post(township, 'households', { file: b64(mixed), format: 'csv' }), [3], /GBK/)
      // A GBK file read as UTF-8 because the user said so: every Chinese line named.
      await expectErrors(await post(township, 'households', { file: b64(iconv.encode(`${header}\n甲,3,红,${a.lon},${a.lat}`, 'gbk')), format: 'csv', encoding: 'utf-8' }), [1, 2])
      // Masked names from a planner's export, a code twice.
      await expectErrors(await post(township, 'households', { format: 'csv', file: csv(['户代码,' + header,
        `${a.code}9981,张**,3,红,${a.lon},${a.lat}`, `${a.code}9982,李四,3,红,${a.lon},${a.lat}`, `${a.code}9982,王五,3,红,${a.lon},${a.lat}`]) }), [2, 4], /masked|repeats/)
      // GeoJSON that is not points.
      await expectErrors(await post(township, 'hazard_sites', { format: 'geojson', file: b64(JSON.stringify({ type: 'FeatureCollection', features: [
        { type: 'Feature', geometry: { type: 'LineString', coordinates: [[a.lon, a.lat], [a.lon + 0.01, a.lat]] }, properties: { code: 'L1', name: '线', type: '滑坡', scale: '小型' } }] })) }), [1], /not a point/)
      expect(await count('households')).toBe(before)
      // Bodies the schema refuses, roles that may not.
      expect((await post(township, 'households', { file: csv([header]), format: 'shp.zip' })).status).toBe(400)
      expect((await post(township, 'households', { file: csv([header]), format: 'csv', crs: 'bd09' })).status).toBe(400)
      expect((await post(township, 'households', { file: '***', format: 'csv' })).status).toBe(400)
      const planner = await loginAs(s, 'planner', CITY)
      expect((await post(planner, 'households', { file: csv([header]), format: 'csv' })).status).toBe(403)
    })
  })
}
