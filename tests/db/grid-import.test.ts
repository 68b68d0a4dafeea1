/**
 * Importing grids (POST /api/import/grids) on both databases: a village's
 * cover as GeoJSON in GCJ-02 with two grids merged (dry run, then save as a
 * version), a township's as a zipped Shapefile made by GDAL with a Chinese
 * grid name (one village changed, one not); bad files answered by feature
 * number with nothing written; role scope and stale versions.
 */
import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import gcoord from 'gcoord'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { restoreSeedCovers } from '../helpers/grid-covers.ts'
import type { Sql } from '../../db/connect.ts'
import { startServer, type RunningServer } from '../../api/server.ts'
import { expectInvariants } from '../helpers/cover-invariants.ts'
import { gdalAvailable } from '../helpers/gdal.ts'
import { loginAs, type Client } from '../helpers/session.ts'
import { targets } from '../helpers/targets.ts'

const haveGdal = gdalAvailable('grid import suite (Shapefile)')
const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64')
type Feature = { type: 'Feature'; properties: Record<string, unknown>; geometry: { type: string; coordinates: unknown } }
/** Keys of basic grids (codes of 15 digits, or new-N) among a preview's keys, micro-grids left out. */
const basicKeys = (keys: string[]) => keys.filter((k) => /^([0-9]{15}|new-[0-9]+)$/.test(k))
const collection = (features: Feature[]) => JSON.stringify({ type: 'FeatureCollection', features })

for (const target of targets()) {
  describe(`grid import on ${target.name}`, () => {
    let s: RunningServer
    let sql: Sql
    let town: string
    /** Two villages of the township: `a` is changed by the imports, `b` only re-sent as it is. */
    let a: { id: number; code: string }
    let b: { id: number; code: string }
    let township: Client
    let otherTownship: Client
    let dir: string

    /** A village's basic grids as features, in code order. */
    const coverOf = async (villageId: number): Promise<Feature[]> => {
      const rows = await sql`SELECT code, name, ST_AsGeoJSON(geom, 10)::json AS geom FROM grids WHERE village_id = ${villageId} AND kind = 'basic' ORDER BY code`
      return rows.map((r) => ({ type: 'Feature', properties: { 网格编码: r.code, 网格名称: r.name }, geometry: r.geom as Feature['geometry'] }))
    }
    const versionOf = async (villageId: number) =>
      (await sql`SELECT coalesce(max(version), 0)::int AS v FROM grid_cover_versions WHERE village_id = ${villageId}`)[0].v as number
    /** What an import must leave untouched when it fails: versions, grids and households of the township. */
    const state = async () => (await sql`
      SELECT (SELECT count(*)::int FROM grid_cover_versions) AS versions,
             (SELECT string_agg(code || ':' || version, ',' ORDER BY code) FROM grids WHERE code LIKE ${town.slice(0, 9) + '%'}) AS grids,
             (SELECT string_agg(h.id || ':' || h.grid_id || ':' || h.micro_grid_id, ',' ORDER BY h.id) FROM households h
              JOIN grids g ON g.id = h.grid_id WHERE g.code LIKE ${town.slice(0, 9) + '%'}) AS households`)[0]
    const post = (who: Client, body: Record<string, unknown>) => who.send('POST', '/api/import/grids', { crs: 'wgs84', format: 'geojson', ...body })
    async function expectErrors(r: Response, rows: number[], pattern: RegExp) {
      const body = await r.json()
      expect(r.status, JSON.stringify(body).slice(0, 600)).toBe(400)
      expect(body.error.code).toBe('import_invalid')
      expect(body.errors.map((e: { row: number }) => e.row)).toEqual(rows)
      for (const e of body.errors) expect(e.zh && e.en).toBeTruthy()
      expect(body.errors.map((e: { en: string }) => e.en).join('\n')).toMatch(pattern)
      return body
    }
    /** Two grids of the village that share an edge. */
    const neighbours = async (villageId: number) => (await sql`
      SELECT x.code AS a, y.code AS b FROM grids x JOIN grids y ON x.village_id = y.village_id AND x.code < y.code AND x.kind = 'basic' AND y.kind = 'basic'
      WHERE x.village_id = ${villageId} AND ST_Relate(x.geom, y.geom, '****1****') ORDER BY x.code, y.code LIMIT 1`)[0] as { a: string; b: string }

    beforeAll(async () => {
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true })
      sql = s.db.sql
      dir = await mkdtemp(path.join(os.tmpdir(), 'gridwatch-grid-import-'))
      // The township with the most villages; its last two villages with households (the editor suites take the first and the last).
      const [t] = await sql`SELECT substr(code, 1, 9) || '000' AS code FROM admin_units WHERE level = 'village' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`
      town = t.code as string
      const vs = await sql`
        SELECT v.id, v.code FROM admin_units v JOIN grids g ON g.village_id = v.id AND g.kind = 'basic'
        WHERE v.level = 'village' AND v.code LIKE ${town.slice(0, 9) + '%'}
        GROUP BY v.id, v.code HAVING count(*) >= 4 ORDER BY v.code`
      expect(vs.length).toBeGreaterThanOrEqual(2)
      ;[a, b] = [vs[vs.length - 2], vs[vs.length - 1]] as unknown as [typeof a, typeof b]
      const [other] = await sql`SELECT code FROM admin_units WHERE level = 'township' AND code <> ${town} ORDER BY code LIMIT 1`
      ;[township, otherTownship] = await Promise.all([loginAs(s, 'township', town), loginAs(s, 'township', other.code as string)])
    })
    afterAll(async () => {
      if (s) await restoreSeedCovers(s.db.sql)
      await s?.close()
      if (dir) await rm(dir, { recursive: true, force: true })
    })

    it('imports a village from GeoJSON in GCJ-02 with two grids merged: the dry run previews, the save writes one version', async () => {
      const pair = await neighbours(a.id)
      const features = await coverOf(a.id)
      const [merged] = await sql`
        SELECT ST_AsGeoJSON(ST_Union(geom), 10)::json AS g FROM grids WHERE code IN (${pair.a}, ${pair.b})`
      const file = features.filter((f) => f.properties.网格编码 !== pair.b).map((f) => (f.properties.网格编码 === pair.a ? { ...f, geometry: merged.g } : f))
      // As a township's Amap-based tool would export it: every vertex in GCJ-02.
      // (gcoord converts a GeoJSON geometry in place: a copy, so `merged` stays WGS84 for the check below.)
      const gcj = file.map((f) => ({ ...f, geometry: gcoord.transform(structuredClone(f.geometry) as never, gcoord.WGS84, gcoord.GCJ02) as unknown as Feature['geometry'] }))
      const before = await state()
      const version = await versionOf(a.id)
      const [moving] = await sql`SELECT count(*)::int AS n FROM households h JOIN grids g ON g.id = h.grid_id WHERE g.code = ${pair.b}`

      const dry = await post(township, { unit: a.code, crs: 'gcj02', file: b64(collection(gcj)), filename: 'cover.geojson' })
      const d = await dry.json()
      expect(dry.status, JSON.stringify(d).slice(0, 600)).toBe(200)
      expect(d).toMatchObject({ ok: true, dryRun: true, unit: { code: a.code } })
      expect(d.villages).toHaveLength(1)
      expect(d.villages[0]).toMatchObject({ code: a.code, version, unchanged: false, valid: true, grids: features.length - 1, households_moved: moving.n })
      // Removed: the merged-away grid and its micro-grids (the merged grid's micro-grids are re-cut).
      expect(basicKeys(d.villages[0].removed)).toEqual([pair.b])
      expect(d.villages[0].changed).toContain(pair.a)
      if (moving.n) expect(d.villages[0].flows).toContainEqual({ from: pair.b, to: pair.a, households: moving.n })
      expect(d.villages[0].counts.find((c: { key: string }) => c.key === pair.a)).toMatchObject({ kind: 'basic' })
      expect(await state()).toEqual(before)

      // A save needs the versions the dry run answered.
      const noVersions = await post(township, { unit: a.code, crs: 'gcj02', file: b64(collection(gcj)), dryRun: false })
      expect(noVersions.status).toBe(400)
      expect((await noVersions.json()).error.code).toBe('versions_needed')
      const stale = await post(township, { unit: a.code, crs: 'gcj02', file: b64(collection(gcj)), dryRun: false, versions: { [a.code]: version + 5 } })
      expect(stale.status).toBe(409)
      expect(await state()).toEqual(before)

      const saved = await post(township, { unit: a.code, crs: 'gcj02', file: b64(collection(gcj)), filename: 'cover.geojson', dryRun: false, versions: { [a.code]: version } })
      const r = await saved.json()
      expect(saved.status, JSON.stringify(r).slice(0, 600)).toBe(200)
      expect(r.villages[0]).toMatchObject({ code: a.code, saved: version + 1 })
      const [v] = await sql`SELECT actor, operation, summary FROM grid_cover_versions WHERE village_id = ${a.id} AND version = ${version + 1}`
      expect(v).toMatchObject({ actor: township.username, operation: { op: 'import', file: 'cover.geojson', crs: 'gcj02' } })
      expect(basicKeys(v.summary.removed)).toEqual([pair.b])
      const [gone] = await sql`SELECT count(*)::int AS n FROM grids WHERE code = ${pair.b}`
      expect(gone.n).toBe(0)
      // The merged grid is where the file put it: GCJ-02 converted back to within a metre of the union.
      const [m] = await sql`SELECT ST_HausdorffDistance(geom, ST_SetSRID(ST_GeomFromGeoJSON(${JSON.stringify(merged.g)}), 4326)) AS d FROM grids WHERE code = ${pair.a}`
      expect(m.d).toBeLessThan(1e-5)
      await expectInvariants(sql, a.id)
      const [audit] = await sql`SELECT after FROM audit_log WHERE action = 'import' AND table_name = 'grids' ORDER BY id DESC LIMIT 1`
      expect(audit.after).toMatchObject({ unit: a.code, versions: { [a.code]: version + 1 } })
    })

    it.skipIf(!haveGdal)('imports a township from a zipped Shapefile: a new grid with a Chinese name in one village, the other unchanged', async () => {
      const fa = await coverOf(a.id)
      const fb = await coverOf(b.id)
      // Village a: its last grid comes without a code, so it is a new grid replacing the old one.
      const last = fa[fa.length - 1]
      const replaced = last.properties.网格编码 as string
      // DBF field names are 10 bytes at most, so a Shapefile's are short English ones: code, name, village.
      const file = [...fa.slice(0, -1), { ...last, properties: { 网格名称: '导入测试网格', 行政村编码: a.code } }, ...fb]
        .map((f) => ({ ...f, properties: { code: f.properties.网格编码 ?? null, name: f.properties.网格名称, village: f.properties.行政村编码 ?? (f.properties.网格编码 as string).slice(0, 12) } }))
      await writeFile(path.join(dir, 'grids.geojson'), collection(file))
      execFileSync('ogr2ogr', ['-f', 'ESRI Shapefile', '-lco', 'ENCODING=UTF-8', path.join(dir, 'grids.shp'), path.join(dir, 'grids.geojson')], { stdio: 'ignore' })
      execFileSync('zip', ['-j', '-q', path.join(dir, 'grids.zip'), ...['shp', 'shx', 'dbf', 'prj', 'cpg'].map((e) => path.join(dir, `grids.${e}`))])
      const zip = await readFile(path.join(dir, 'grids.zip'))
      const versions = { [a.code]: await versionOf(a.id), [b.code]: await versionOf(b.id) }
      const bVersion = versions[b.code]

      const dry = await post(township, { unit: town, format: 'shp.zip', file: b64(zip) })
      const d = await dry.json()
      expect(dry.status, JSON.stringify(d).slice(0, 600)).toBe(200)
      expect(d.villages.map((v: { code: string; unchanged: boolean }) => [v.code, v.unchanged])).toEqual([[a.code, false], [b.code, true]])
      expect([basicKeys(d.villages[0].removed), basicKeys(d.villages[0].added)]).toEqual([[replaced], ['new-1']])

      const saved = await post(township, { unit: town, format: 'shp.zip', file: b64(zip), filename: 'grids.zip', dryRun: false, versions })
      const r = await saved.json()
      expect(saved.status, JSON.stringify(r).slice(0, 600)).toBe(200)
      expect(r.villages.map((v: { saved: number | null }) => v.saved)).toEqual([versions[a.code] + 1, null])
      const [g] = await sql`SELECT code, name FROM grids WHERE village_id = ${a.id} AND kind = 'basic' AND name = '导入测试网格'`
      expect(g.code).toMatch(new RegExp(`^${a.code}[0-9]{3}$`))
      expect(await versionOf(b.id)).toBe(bVersion)
      // The new grid's micro-grids are the old grid's, not slivers of its neighbours' taken across the edge.
      const [small] = await sql`SELECT count(*)::int AS n FROM grids WHERE village_id = ${a.id} AND kind = 'micro' AND ST_Area(geom) < 1e-8`
      expect(small.n).toBe(0)
      await expectInvariants(sql, a.id)
      await expectInvariants(sql, b.id)
    })

    it('answers bad files by feature number and writes nothing', async () => {
      const features = await coverOf(a.id)
      const pair = await neighbours(a.id)
      const ia = features.findIndex((f) => f.properties.网格编码 === pair.a)
      const ib = features.findIndex((f) => f.properties.网格编码 === pair.b)
      const before = await state()
      const send = (fs: Feature[] | string, extra: Record<string, unknown> = {}) => post(township, { unit: a.code, file: b64(typeof fs === 'string' ? fs : collection(fs)), ...extra })
      const replace = (i: number, f: Partial<Feature>) => features.map((x, j) => (j === i ? { ...x, ...f } : x))

      await expectErrors(await send('{"type": "FeatureCollection", "features": ['), [1], /not valid JSON/)
      await expectErrors(await send('{"type": "Feature"}'), [1], /not a GeoJSON FeatureCollection/)
      await expectErrors(await send([]), [1], /no features/)
      await expectErrors(await send(replace(1, { geometry: { type: 'Point', coordinates: [104, 28] } })), [2], /feature 2: not a polygon \(Point\)/)
      // A bow-tie inside the village: self-intersecting.
      const [bow] = await sql`SELECT ST_X(label_point) AS x, ST_Y(label_point) AS y FROM grids WHERE code = ${pair.a}`
      const d = 1e-4
      const bowtie = { type: 'Polygon', coordinates: [[[bow.x - d, bow.y - d], [bow.x + d, bow.y + d], [bow.x + d, bow.y - d], [bow.x - d, bow.y + d], [bow.x - d, bow.y - d]]] }
      await expectErrors(await send([...features, { type: 'Feature', properties: {}, geometry: bowtie }]), [features.length + 1], /invalid geometry/)
      // Unclosed ring, projected coordinates, a code of 5 digits, a repeated code.
      await expectErrors(await send(replace(0, { geometry: { type: 'Polygon', coordinates: [[[104, 28], [104.1, 28], [104.1, 28.1], [104, 28.1]]] } })), [1], /feature 1: malformed geometry.*not closed/)
      await expectErrors(await send(replace(0, { geometry: { type: 'Polygon', coordinates: [[[500000, 3100000], [501000, 3100000], [501000, 3101000], [500000, 3100000]]] } })), [1], /not longitude\/latitude/)
      await expectErrors(await send(replace(0, { properties: { 网格编码: '12345' } })), [1], /must be 15 digits/)
      await expectErrors(await send([...features, features[0]]), [features.length + 1], /repeats feature 1/)
      // A grid left out: its area is a gap, named by the features around it.
      const gap = await send(features.filter((_, i) => i !== ib))
      const gb = await gap.json()
      expect(gap.status).toBe(400)
      expect(gb.errors.some((e: { en: string }) => /a gap no grid covers next to features .*[0-9]|part of the village no feature covers/.test(e.en))).toBe(true)
      // A grid grown 100 m into its neighbour: an overlap naming both features.
      const [grown] = await sql`
        SELECT ST_AsGeoJSON(ST_Intersection(ST_Buffer(g.geom, 0.001), v.geom), 10)::json AS g
        FROM grids g JOIN admin_units v ON v.id = g.village_id WHERE g.code = ${pair.a}`
      const ov = await send(replace(ia, { geometry: grown.g }))
      const ob = await ov.json()
      expect(ov.status).toBe(400)
      expect(ob.errors.map((e: { en: string }) => e.en).join('\n')).toMatch(new RegExp(`feature ${Math.max(ia, ib) + 1}: overlaps feature ${Math.min(ia, ib) + 1}`))
      // A feature moved 0.05° east: outside its village (and a gap where it was).
      const shift = (c: unknown): unknown => (typeof (c as number[])[0] === 'number' ? [(c as number[])[0] + 0.05, (c as number[])[1]] : (c as unknown[]).map(shift))
      const out = await send(replace(0, { geometry: { ...features[0].geometry, coordinates: shift(features[0].geometry.coordinates) } }))
      const outBody = await out.json()
      expect(out.status).toBe(400)
      expect(outBody.errors.find((e: { row: number }) => e.row === 1)?.en).toMatch(/feature 1: lies outside its village/)
      const [foreign] = await sql`SELECT code FROM admin_units WHERE level = 'village' AND code NOT LIKE ${town.slice(0, 9) + '%'} ORDER BY code LIMIT 1`
      await expectErrors(await send(features.map((f, i) => (i === 0 ? { ...f, properties: { 行政村编码: foreign.code } } : f)), { unit: town }), [1], /outside the import's unit/)
      expect(await state()).toEqual(before)
    })

    it('keeps to the role scope: another township 403, a unit that is not a village or township 400', async () => {
      const features = await coverOf(a.id)
      const r = await post(otherTownship, { unit: a.code, file: b64(collection(features)) })
      expect(r.status).toBe(403)
      const county = await post(township, { unit: town.slice(0, 6) + '000000', file: b64(collection(features)) })
      expect(county.status).toBe(403)
      const [grid] = await sql`SELECT code FROM grids WHERE village_id = ${a.id} AND kind = 'basic' LIMIT 1`
      const bad = await post(township, { unit: (grid.code as string).slice(0, 12).replace(/.{3}$/, '999'), file: b64(collection(features)) })
      expect(bad.status).toBe(400)
      expect((await bad.json()).error.zh).toBeTruthy()
    })
  })
}
