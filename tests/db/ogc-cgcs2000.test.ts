/**
 * GDAL reads every OGC API collection in CGCS2000 (EPSG:4490) with a personal access token and no cookie
 * (issue #22). GDAL 3.6's OAPIF driver has no CRS open option, so it is read as GDAL can: its GeoJSON driver
 * on the items URL with `crs=…4490`, the token in a header (GDAL_HTTP_HEADERS) or as the Basic password
 * (GDAL_HTTP_AUTH + GDAL_HTTP_USERPWD, as QGIS's authentication manager sends it). GDAL's own HTTP trace
 * (CPL_CURL_VERBOSE) shows what it sent and got: the token and no cookie; `Content-Crs` naming 4490. The
 * coordinates GDAL reads are PostGIS's, latitude first, as EPSG:4490 orders its axes. GDAL 3.6's GeoJSON
 * driver takes any GeoJSON as longitude first, so a desktop user turns them with PROJ's axisswap on the way
 * in (the recipe in api/README.md): the file made so is PostGIS's longitude/latitude, labelled EPSG:4490.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { layers, type LayerId } from '../../api/datasets.ts'
import { gdalAvailable, ogrinfo } from '../helpers/gdal.ts'
import { loginAs, type Client } from '../helpers/session.ts'
import { targets } from '../helpers/targets.ts'

const CITY = '530600000000'
const CGCS2000 = 'http://www.opengis.net/def/crs/EPSG/0/4490'
const haveGdal = gdalAvailable('OGC CGCS2000 suite')
const PAGE = 25
const ogr2ogr = promisify(execFile)

/** Each feature ogrinfo printed: its `id` attribute and the numbers of its geometry's WKT, in order. */
function readFeatures(out: string) {
  const list: { id: number; coords: number[] }[] = []
  for (const line of out.split('\n')) {
    if (/^OGRFeature\(/.test(line)) list.push({ id: NaN, coords: [] })
    const last = list.at(-1)
    if (!last) continue
    const id = /^ {2}id \(Integer(?:64)?\) = (\d+)$/.exec(line)
    if (id) last.id = Number(id[1])
    if (/^ {2}(POINT|LINESTRING|POLYGON|MULTIPOLYGON|MULTILINESTRING|MULTIPOINT) /.test(line)) last.coords = (line.match(/-?\d+(\.\d+)?(e-?\d+)?/g) ?? []).map(Number)
  }
  return list
}

/** A GeoJSON geometry's coordinates, flattened. */
const flat = (c: unknown): number[] => (Array.isArray(c) ? c.flatMap(flat) : [c as number])

for (const target of targets()) {
  describe.skipIf(!haveGdal)(`GDAL reads every OGC collection in EPSG:4490 with a token on ${target.name}`, () => {
    let s: RunningServer
    let planner: Client
    let token: string
    let dir: string
    const undo: (() => Promise<unknown>)[] = []

    beforeAll(async () => {
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true })
      planner = await loginAs(s, 'planner', CITY)
      dir = await mkdtemp(path.join(os.tmpdir(), 'ogc-4490-'))
      const r = await planner.send('POST', '/api/tokens', { name: 'GDAL' })
      expect(r.status).toBe(201)
      token = (await r.json()).token
      // Every collection has something to read: a problem report if the fixtures hold none.
      const [{ n }] = await s.db.sql`SELECT count(*)::int AS n FROM reports`
      if (n === 0) {
        const [g] = await s.db.sql`SELECT code, substr(code, 1, 12) AS village, ST_X(ST_PointOnSurface(geom)) AS x, ST_Y(ST_PointOnSurface(geom)) AS y
                                   FROM grids WHERE kind = 'basic' ORDER BY code LIMIT 1`
        const [rep] = await s.db.sql`
          INSERT INTO reports (type, urgency, geom, grid_code, level, unit_code, state, reported_by_name, reported_at, received_at, level_since)
          VALUES ('road_cut', 'urgent', ST_SetSRID(ST_MakePoint(${g.x}, ${g.y}), 4326), ${g.code}, 'township', ${g.village}, 'reported', '测试', now(), now(), now())
          RETURNING id`
        undo.push(() => s.db.sql`DELETE FROM reports WHERE id = ${rep.id}`)
      }
    })
    afterAll(async () => {
      for (const u of undo.reverse()) await u()
      await s?.close()
      if (dir) await rm(dir, { recursive: true, force: true })
    })

    /** ogrinfo on one collection's first page in EPSG:4490, with GDAL's HTTP trace. */
    const itemsUrl = (id: string) => `GeoJSON:${s.url}/ogc/collections/${id}/items?crs=${encodeURIComponent(CGCS2000)}&limit=${PAGE}&f=json`
    const read = (id: string, auth: string[]) => ogrinfo(['-ro', '-al', ...auth, '--config', 'CPL_CURL_VERBOSE', 'YES', itemsUrl(id)])

    it('lists the collections to the token, and each offers EPSG:4490', async () => {
      const r = await fetch(`${s.url}/ogc/collections?f=json`, { headers: { Authorization: `Bearer ${token}` } })
      expect(r.status).toBe(200)
      const { collections } = (await r.json()) as { collections: { id: string; crs: string[] }[] }
      expect(collections.map((c) => c.id).sort()).toEqual(Object.keys(layers).sort())
      for (const c of collections) expect(c.crs, c.id).toContain(CGCS2000)
      // Without the token (and without a cookie): nothing.
      expect((await fetch(`${s.url}/ogc/collections/shelters/items?crs=${encodeURIComponent(CGCS2000)}&f=json`)).status).toBe(401)
    })

    for (const id of Object.keys(layers) as LayerId[]) {
      it(`${id}: GDAL reads the page in EPSG:4490, latitude first, as PostGIS has it; the token in a header, and as the Basic password`, async () => {
        const layer = layers[id]
        const header = await read(id, ['--config', 'GDAL_HTTP_HEADERS', `Authorization: Bearer ${token}`])
        const basic = await read(id, ['--config', 'GDAL_HTTP_AUTH', 'BASIC', '--config', 'GDAL_HTTP_USERPWD', `${planner.username}:${token}`])
        for (const [how, out] of [['header', header], ['basic', basic]] as const) {
          // What GDAL sent and got (curl's trace: "> " opens the request, "< " marks each response header). Tested
          // line by line, not printed whole on a failure: the trace holds the token.
          const has = (re: RegExp) => re.test(out)
          const label = `${id} ${how}: ${out.split('\n').filter((l) => /^(ERROR|< HTTP|< content-crs)/i.test(l)).join(' | ')}`
          expect(has(/^ERROR \d+/m), label).toBe(false)
          expect(has(/^< HTTP\/1\.1 200/m), label).toBe(true)
          expect(has(new RegExp(`^< content-crs: <${CGCS2000.replace(/\./g, '\\.')}>\\s*$`, 'mi')), label).toBe(true)
          expect(has(/^Cookie:/mi), label).toBe(false)
          expect(has(how === 'header' ? /^Authorization: Bearer gw_/m : /^Authorization: Basic /m), label).toBe(true)
          const got = readFeatures(out)
          expect(got.length, `${id} ${how}`).toBeGreaterThan(0)
          expect(got.length).toBeLessThanOrEqual(PAGE)
          const rows = await s.db.sql.unsafe<{ id: number; g: string }[]>(
            `SELECT ${layer.idExpr} AS id, ST_AsGeoJSON(${layer.geomExpr}, 7) AS g FROM ${layer.from} WHERE ${layer.idExpr} = ANY($1::int[])`, [got.map((f) => f.id)])
          expect(rows.length, `${id} ${how}`).toBe(got.length)
          const byId = new Map(rows.map((r) => [Number(r.id), JSON.parse(r.g) as { coordinates: unknown }]))
          for (const f of got) {
            // PostGIS's lon, lat pairs, turned to lat, lon.
            const lonLat = flat(byId.get(f.id)!.coordinates)
            const latLon = lonLat.map((_, k) => lonLat[k % 2 === 0 ? k + 1 : k - 1])
            expect(f.coords.length, `${id} ${f.id}`).toBe(latLon.length)
            const worst = Math.max(...f.coords.map((v, k) => Math.abs(v - latLon[k])))
            expect(worst, `${id} ${f.id}`).toBeLessThan(1e-7)
            // Latitude first, here (about 23–29° N, 97–106° E).
            expect(f.coords[0], `${id} ${f.id}`).toBeLessThan(60)
            expect(f.coords[1], `${id} ${f.id}`).toBeGreaterThan(60)
          }
          if (how !== 'header') continue
          // Into a GeoPackage as a desktop user would: axes turned by PROJ, labelled CGCS2000; GDAL then reads PostGIS's numbers.
          const gpkg = path.join(dir, `${target.name}-${id}.gpkg`)
          await ogr2ogr('ogr2ogr', ['-f', 'GPKG', gpkg, itemsUrl(id), '--config', 'GDAL_HTTP_HEADERS', `Authorization: Bearer ${token}`,
            '-s_srs', 'EPSG:4490', '-t_srs', 'EPSG:4490', '-ct', '+proj=axisswap +order=2,1', '-nln', id])
          const back = await ogrinfo(['-ro', '-al', gpkg])
          expect(back).toMatch(/ID\["EPSG",4490\]\]\s*Data axis to CRS axis mapping: 2,1/)
          const inFile = readFeatures(back)
          expect(inFile.map((f) => f.id).sort(), id).toEqual(got.map((f) => f.id).sort())
          for (const f of inFile) {
            const lonLat = flat(byId.get(f.id)!.coordinates)
            expect(Math.max(...f.coords.map((v, k) => Math.abs(v - lonLat[k]))), `${id} ${f.id} in the GeoPackage`).toBeLessThan(1e-7)
          }
        }
      })
    }

    it('refuses GDAL with a wrong token, and with the token under another name', async () => {
      const wrong = await read('shelters', ['--config', 'GDAL_HTTP_HEADERS', `Authorization: Bearer gw_${'x'.repeat(43)}`]).catch((e: { stdout?: string; stderr?: string }) => `${e.stdout}${e.stderr}`)
      expect(/^< HTTP\/1\.1 401/m.test(wrong)).toBe(true)
      expect(readFeatures(wrong)).toEqual([])
      const other = await read('shelters', ['--config', 'GDAL_HTTP_AUTH', 'BASIC', '--config', 'GDAL_HTTP_USERPWD', `someone:${token}`]).catch((e: { stdout?: string; stderr?: string }) => `${e.stdout}${e.stderr}`)
      expect(/^< HTTP\/1\.1 401/m.test(other)).toBe(true)
      expect(readFeatures(other)).toEqual([])
    })
  })
}
