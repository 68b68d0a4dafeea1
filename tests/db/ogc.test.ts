import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { maskName, maskPhone } from '../../api/auth/mask.ts'
import { startServer, type RunningServer } from '../../api/server.ts'
import { THROTTLE } from '../../api/auth/throttle-rules.ts'
import { fetchFrom, freshAddress } from '../helpers/from-address.ts'
import { featureCount, features, gdalAvailable, ogrinfo } from '../helpers/gdal.ts'
import { loginAs, TEST_PASSWORD, type Client } from '../helpers/session.ts'
import { targets } from '../helpers/targets.ts'

const CITY = '530600000000'
const COLLECTIONS = ['grids', 'households', 'hazard_sites', 'shelters', 'routes', 'admin_units', 'reports']
const basic = (user: string, password = TEST_PASSWORD) => ({ Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` })

const haveGdal = gdalAvailable('OGC API suite')

for (const target of targets()) {
  describe.skipIf(!haveGdal)(`OGC API – Features on ${target.name}`, () => {
    let s: RunningServer
    let base: string
    let planner: Client
    let commander: Client
    /** GET with HTTP Basic as `who`. */
    const get = (path: string, who: Client, headers: Record<string, string> = {}) =>
      fetch(base + path, { headers: { ...basic(who.username), ...headers } })
    const oapif = () => `OAPIF:${base}/ogc`
    // GDAL 3.6 pages 10 at a time unless told; credentials as an open option reach every page.
    const gdalAs = (who: Client) => ['-ro', '-oo', 'PAGE_SIZE=1000', '-oo', `USERPWD=${who.username}:${TEST_PASSWORD}`]

    beforeAll(async () => {
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true })
      // GDAL and the links need the address as the client uses it.
      base = `http://127.0.0.1:${s.port}`
      planner = await loginAs(s, 'planner', CITY)
      commander = await loginAs(s, 'commander', CITY)
    })
    afterAll(() => s?.close())

    it('ogrinfo lists the six collections, logged in by user:password in the URL', async () => {
      const out = await ogrinfo(['-ro', '-so', `OAPIF:http://${planner.username}:${TEST_PASSWORD}@127.0.0.1:${s.port}/ogc`])
      for (const id of COLLECTIONS) expect(out).toMatch(new RegExp(`^\\d+: ${id} \\(title: `, 'm'))
      expect(out).toContain('农户')
    })

    it('ogrinfo counts households in a box as SQL does, and reads Chinese attributes and masked names', async () => {
      const [b] = await s.db.sql`SELECT ST_X(geom) AS x, ST_Y(geom) AS y FROM households ORDER BY id LIMIT 1 OFFSET 100`
      const box = [b.x - 0.02, b.y - 0.02, b.x + 0.03, b.y + 0.02] as number[]
      const [{ n }] = await s.db.sql`SELECT count(*)::int AS n FROM households WHERE ST_Intersects(geom, ST_MakeEnvelope(${box[0]}, ${box[1]}, ${box[2]}, ${box[3]}, 4326))`
      expect(n).toBeGreaterThan(10)
      const spat = ['-spat', ...box.map(String)]
      expect(featureCount(await ogrinfo([...gdalAs(planner), '-so', oapif(), 'households', ...spat]))).toBe(n)

      const [h] = await s.db.sql`SELECT h.code, h.householder, h.phone, v.name AS village FROM households h JOIN grids g ON g.id = h.grid_id
                                  JOIN admin_units v ON v.id = g.village_id WHERE h.phone IS NOT NULL ORDER BY h.id LIMIT 1 OFFSET 100`
      const where = ['-where', `code = '${h.code}'`]
      const [seenByPlanner] = features(await ogrinfo([...gdalAs(planner), oapif(), 'households', ...spat, ...where]))
      expect(seenByPlanner.village_name).toBe(h.village)
      expect(seenByPlanner.householder).toBe(maskName(h.householder))
      expect(seenByPlanner.phone).toBe(maskPhone(h.phone))
      expect(seenByPlanner.householder).not.toBe(h.householder)
      const [seenByCommander] = features(await ogrinfo([...gdalAs(commander), oapif(), 'households', ...spat, ...where]))
      expect(seenByCommander.householder).toBe(h.householder)
      expect(seenByCommander.phone).toBe(h.phone)
    })

    it('ogrinfo reads every collection in full: the count of the table, Chinese names intact', async () => {
      for (const [id, table] of [['hazard_sites', 'hazard_sites'], ['shelters', 'shelters'], ['routes', 'routes'], ['admin_units', 'admin_units'], ['grids', 'grids']]) {
        const [{ n }] = await s.db.sql`SELECT count(*)::int AS n FROM ${s.db.sql(table)}`
        expect(featureCount(await ogrinfo([...gdalAs(planner), '-so', oapif(), id])), id).toBe(n)
      }
      const [site] = await s.db.sql`SELECT code, name, type FROM hazard_sites ORDER BY id DESC LIMIT 1`
      const [f] = features(await ogrinfo([...gdalAs(planner), oapif(), 'hazard_sites', '-where', `code = '${site.code}'`]))
      expect(f).toMatchObject({ name: site.name, type: site.type })
    })

    it('serves the landing page, conformance, OpenAPI 3.0 and collection documents with absolute links', async () => {
      const landing = await get('/ogc', planner)
      expect(landing.status).toBe(200)
      expect(landing.headers.get('content-type')).toMatch(/^application\/json/)
      const l = await landing.json()
      const rels = Object.fromEntries(l.links.map((x: { rel: string; href: string }) => [x.rel, x.href]))
      expect(rels).toMatchObject({ self: `${base}/ogc?f=json`, 'service-desc': `${base}/ogc/api?f=json`, conformance: `${base}/ogc/conformance?f=json`, data: `${base}/ogc/collections?f=json` })

      const conf = await (await get('/ogc/conformance', planner)).json()
      expect(conf.conformsTo).toEqual(expect.arrayContaining([
        'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core',
        'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30',
        'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson',
      ]))

      const api = await get('/ogc/api', planner)
      expect(api.headers.get('content-type')).toBe('application/vnd.oai.openapi+json;version=3.0')
      const doc = await api.json()
      expect(doc.openapi).toMatch(/^3\.0\./)
      expect(doc.paths['/collections/households/items'].get.parameters.find((p: { name?: string }) => p.name === 'limit').schema).toMatchObject({ maximum: 10000, default: 100 })
      expect(Object.keys(doc.components.schemas.households_feature.properties.properties.properties)).toContain('householder')

      const cols = await (await get('/ogc/collections', planner)).json()
      expect(cols.collections.map((c: { id: string }) => c.id)).toEqual(COLLECTIONS)
      const one = await (await get('/ogc/collections/shelters', planner)).json()
      expect(one.extent.spatial.bbox[0]).toHaveLength(4)
      expect(one.links.find((x: { rel: string }) => x.rel === 'items').href).toBe(`${base}/ogc/collections/shelters/items?f=json`)
    })

    it('pages by limit and offset with next/prev links until every feature has come once, numberMatched = the count', async () => {
      const ids = (await s.db.sql`SELECT id FROM hazard_sites ORDER BY id`).map((r) => r.id as number)
      expect(ids.length).toBeGreaterThan(10)
      const seen: number[] = []
      let url: string | undefined = `${base}/ogc/collections/hazard_sites/items?limit=5`
      let pages = 0
      while (url) {
        const r: Response = await fetch(url, { headers: basic(planner.username) })
        expect(r.status).toBe(200)
        expect(r.headers.get('content-type')).toBe('application/geo+json')
        const page: { type: string; numberMatched: number; numberReturned: number; features: { id: number }[]; links: { rel: string; href: string }[] } = await r.json()
        expect(page.type).toBe('FeatureCollection')
        expect(page.numberMatched).toBe(ids.length)
        expect(page.numberReturned).toBe(page.features.length)
        const rel = (name: string): string | undefined => page.links.find((x) => x.rel === name)?.href
        expect(rel('self')).toContain('offset=')
        if (pages === 0) expect(rel('prev')).toBeUndefined()
        else expect(rel('prev')).toContain(`offset=${(pages - 1) * 5}`)
        seen.push(...page.features.map((f) => f.id))
        url = rel('next')
        pages++
        expect(pages).toBeLessThan(100)
      }
      expect(seen).toEqual(ids)
      expect(pages).toBe(Math.ceil(ids.length / 5))
      // Default page: 100.
      const first = await (await get('/ogc/collections/households/items', planner)).json()
      expect(first.numberReturned).toBe(100)
    })

    it('filters by bbox exactly as ST_Intersects does, for points and polygons', async () => {
      const [c] = await s.db.sql`SELECT ST_X(geom) AS x, ST_Y(geom) AS y FROM households ORDER BY id LIMIT 1 OFFSET 50`
      const box = [c.x - 0.01, c.y - 0.01, c.x + 0.01, c.y + 0.01]
      for (const [id, table] of [['households', 'households'], ['grids', 'grids']]) {
        const want = (await s.db.sql`SELECT id FROM ${s.db.sql(table)} WHERE ST_Intersects(geom, ST_MakeEnvelope(${box[0]}, ${box[1]}, ${box[2]}, ${box[3]}, 4326)) ORDER BY id`).map((r) => r.id)
        expect(want.length, id).toBeGreaterThan(0)
        const page = await (await get(`/ogc/collections/${id}/items?bbox=${box.join(',')}&limit=10000`, planner)).json()
        expect(page.features.map((f: { id: number }) => f.id), id).toEqual(want)
        expect(page.numberMatched).toBe(want.length)
      }
      // A box elsewhere on earth is empty, not an error; one crossing the antimeridian is two boxes.
      const empty = await (await get('/ogc/collections/households/items?bbox=-10,-10,-9,-9', planner)).json()
      expect(empty).toMatchObject({ numberMatched: 0, numberReturned: 0, features: [] })
      const wrap = await (await get('/ogc/collections/households/items?bbox=170,-90,110,90&limit=1', planner)).json()
      const [{ n }] = await s.db.sql`SELECT count(*)::int AS n FROM households`
      expect(wrap.numberMatched).toBe(n)
    })

    it('serves single features by id, masked for a planner, open to the commander', async () => {
      const [h] = await s.db.sql`SELECT id, householder, phone FROM households WHERE phone IS NOT NULL ORDER BY id LIMIT 1`
      const r = await get(`/ogc/collections/households/items/${h.id}`, planner)
      expect(r.status).toBe(200)
      expect(r.headers.get('content-type')).toBe('application/geo+json')
      const f = await r.json()
      expect(f).toMatchObject({ type: 'Feature', id: h.id, geometry: { type: 'Point' } })
      expect(f.properties.householder).toBe(maskName(h.householder))
      expect(f.properties.phone).toBe(maskPhone(h.phone))
      expect(f.links.find((x: { rel: string }) => x.rel === 'self').href).toBe(`${base}/ogc/collections/households/items/${h.id}?f=json`)
      const open = await (await get(`/ogc/collections/households/items/${h.id}`, commander)).json()
      expect(open.properties.householder).toBe(h.householder)
      // The session cookie works as well as Basic.
      const viaCookie = await (await planner.get(`/ogc/collections/households/items/${h.id}`)).json()
      expect(viaCookie.properties.householder).toBe(maskName(h.householder))
    })

    it('masks by scope too: township staff read names in their township only', async () => {
      const [inside] = await s.db.sql`SELECT h.id, h.householder, substr(g.code, 1, 9) || '000' AS township FROM households h JOIN grids g ON g.id = h.grid_id ORDER BY h.id LIMIT 1`
      const [outside] = await s.db.sql`SELECT h.id, h.householder FROM households h JOIN grids g ON g.id = h.grid_id
                                        WHERE substr(g.code, 1, 9) <> substr(${inside.township}, 1, 9) ORDER BY h.id LIMIT 1`
      const staff = await loginAs(s, 'township', inside.township)
      const a = await (await get(`/ogc/collections/households/items/${inside.id}`, staff)).json()
      const b = await (await get(`/ogc/collections/households/items/${outside.id}`, staff)).json()
      expect(a.properties.householder).toBe(inside.householder)
      expect(b.properties.householder).toBe(maskName(outside.householder))
    })

    it('serves features in CGCS2000 (EPSG:4490), EPSG:4326 and Web Mercator on request, and takes a box in each (Part 2)', async () => {
      const conf = await (await get('/ogc/conformance', planner)).json()
      expect(conf.conformsTo).toContain('http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs')
      const col = await (await get('/ogc/collections/shelters', planner)).json()
      expect(col.crs).toEqual(expect.arrayContaining(['http://www.opengis.net/def/crs/EPSG/0/4490', 'http://www.opengis.net/def/crs/EPSG/0/3857']))
      expect(col.storageCrs).toBe('http://www.opengis.net/def/crs/OGC/1.3/CRS84')
      type Page = { features: { id: number; geometry: { coordinates: number[] } }[]; links: { rel: string; href: string }[] }
      const page = async (q: string, want = 'http://www.opengis.net/def/crs/OGC/1.3/CRS84') => {
        const r = await get(`/ogc/collections/shelters/items?limit=50&${q}`, planner)
        expect(r.status, q).toBe(200)
        expect(r.headers.get('content-crs'), q).toBe(`<${want}>`)
        return (await r.json()) as Page
      }
      const lonLat = await page('')
      const cgcs = await page('crs=http://www.opengis.net/def/crs/EPSG/0/4490', 'http://www.opengis.net/def/crs/EPSG/0/4490')
      const merc = await page('crs=EPSG:3857', 'http://www.opengis.net/def/crs/EPSG/0/3857')
      expect(cgcs.features.map((f) => f.id)).toEqual(lonLat.features.map((f) => f.id))
      const [x, y] = lonLat.features[0].geometry.coordinates
      expect(cgcs.features[0].geometry.coordinates).toEqual([y, x])
      // The same point from PostGIS's own transform, to the centimetre.
      const [m] = await s.db.sql`SELECT ST_X(ST_Transform(ST_SetSRID(ST_MakePoint(${x}, ${y}), 4326), 3857)) AS x, ST_Y(ST_Transform(ST_SetSRID(ST_MakePoint(${x}, ${y}), 4326), 3857)) AS y`
      expect(merc.features[0].geometry.coordinates[0]).toBeCloseTo(m.x as number, 1)
      expect(merc.features[0].geometry.coordinates[1]).toBeCloseTo(m.y as number, 1)
      expect(cgcs.links.find((l) => l.rel === 'self')!.href).toContain('crs=http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F4490')
      // A box round the first shelter in each CRS selects the same shelters.
      const d = 0.02
      const ids = async (q: string) => (await page(q)).features.map((f) => f.id).sort((a, b) => a - b)
      const plain = await ids(`bbox=${x - d},${y - d},${x + d},${y + d}`)
      expect(plain).toContain(lonLat.features[0].id)
      expect(await ids(`bbox=${y - d},${x - d},${y + d},${x + d}&bbox-crs=EPSG:4490`)).toEqual(plain)
      const [lo] = await s.db.sql`SELECT ST_XMin(b) AS w, ST_YMin(b) AS s, ST_XMax(b) AS e, ST_YMax(b) AS n FROM
        (SELECT ST_Transform(ST_MakeEnvelope(${x - d}, ${y - d}, ${x + d}, ${y + d}, 4326), 3857) AS b) q`
      expect(await ids(`bbox=${lo.w},${lo.s},${lo.e},${lo.n}&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/3857`)).toEqual(plain)
      const one = await get(`/ogc/collections/shelters/items/${lonLat.features[0].id}?crs=EPSG:4490`, planner)
      expect(one.headers.get('content-crs')).toBe('<http://www.opengis.net/def/crs/EPSG/0/4490>')
      expect((await one.json()).geometry.coordinates).toEqual([y, x])
    })

    it('caps a limit above the maximum instead of refusing it (OGC API – Features Part 1, /req/core/fc-limit-response-1)', async () => {
      for (const limit of ['10001', '2000000000']) {
        const r = await get(`/ogc/collections/hazard_sites/items?limit=${limit}`, planner)
        expect(r.status, limit).toBe(200)
        const page = await r.json()
        expect(page.numberReturned).toBe(Math.min(page.numberMatched, 10000))
        expect(page.links.find((x: { rel: string }) => x.rel === 'self').href).toContain('limit=10000')
      }
      expect((await get('/ogc/collections/hazard_sites/items?limit=20000000000', planner)).status).toBe(400)
    })

    it('answers bad parameters, paths and types with 400/404/405/406 and a bilingual message', async () => {
      const cases: [string, number, string][] = [
        ['/ogc/collections/households/items?bbox=1,2,3', 400, 'bad_parameter'],
        ['/ogc/collections/households/items?bbox=a,b,c,d', 400, 'bad_parameter'],
        ['/ogc/collections/households/items?bbox=103,29,104,28', 400, 'bad_parameter'],
        ['/ogc/collections/households/items?bbox=181,0,182,1', 400, 'bad_parameter'],
        ['/ogc/collections/households/items?bbox=1,-91,2,0', 400, 'bad_parameter'],
        ['/ogc/collections/households/items?bbox=1,2,3,4,5', 400, 'bad_parameter'],
        ['/ogc/collections/households/items?limit=0', 400, 'bad_parameter'],
        ['/ogc/collections/households/items?limit=abc', 400, 'bad_parameter'],
        ['/ogc/collections/households/items?limit=1.5', 400, 'bad_parameter'],
        ['/ogc/collections/households/items?limit=', 400, 'bad_parameter'],
        ['/ogc/collections/households/items?limit=5&limit=6', 400, 'bad_parameter'],
        ['/ogc/collections/households/items?offset=-1', 400, 'bad_parameter'],
        ['/ogc/collections/households/items?datetime=yesterday', 400, 'bad_parameter'],
        ['/ogc/collections/households/items?datetime=../..', 400, 'bad_parameter'],
        ['/ogc/collections/households/items?householder=张', 400, 'unknown_parameter'],
        ['/ogc/collections/households/items?bbox-crs=x', 400, 'bad_parameter'],
        ['/ogc/collections/households/items?crs=EPSG:4214', 400, 'bad_parameter'],
        ['/ogc/collections/households/items?bbox=27.1,103.5,27.6,104&bbox-crs=EPSG:4326&bbox-crs=EPSG:4490', 400, 'bad_parameter'],
        ['/ogc/collections?limit=5', 400, 'unknown_parameter'],
        ['/ogc/collections/households/items?f=html', 400, 'bad_format'],
        ['/ogc/conformance?f=xml', 400, 'bad_format'],
        ['/ogc/collections/nope', 404, 'not_found'],
        ['/ogc/collections/nope/items', 404, 'not_found'],
        ['/ogc/collections/households/items/abc', 404, 'not_found'],
        ['/ogc/collections/households/items/0', 404, 'not_found'],
        ['/ogc/collections/households/items/99999999', 404, 'not_found'],
        ['/ogc/collections/households/items/1e3', 404, 'not_found'],
        ['/ogc/nothing', 404, 'not_found'],
      ]
      for (const [path, status, code] of cases) {
        const r = await get(path, planner)
        expect(r.status, path).toBe(status)
        const body = await r.json()
        expect(body.error.code, path).toBe(code)
        expect(body.error.zh, path).toBeTruthy()
        expect(body.error.en, path).toBeTruthy()
      }
      // Good values next to the bad: accepted.
      for (const path of ['/ogc/collections/households/items?limit=10000&offset=0&f=json', '/ogc/collections/households/items?bbox=103,27,0,104,28.5,100',
        '/ogc/collections/households/items?datetime=2026-07-01T00:00:00Z/..', '/ogc/collections/households/items?datetime=2026-07-01', '/ogc/collections/households/items?offset=99999999']) {
        expect((await get(path, planner)).status, path).toBe(200)
      }
      const html = await get('/ogc/collections', planner, { Accept: 'text/html' })
      expect(html.status).toBe(406)
      expect((await html.json()).error.code).toBe('not_acceptable')
      expect((await get('/ogc/collections', planner, { Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' })).status).toBe(200)
      expect((await get('/ogc/collections/households/items', planner, { Accept: 'application/geo+json' })).status).toBe(200)
      const post = await fetch(`${base}/ogc/collections/households/items`, { method: 'POST', headers: basic(planner.username) })
      expect(post.status).toBe(405)
    })

    it('requires a login: 401 with a Basic challenge, wrong passwords counted and audited, disabled and must-change accounts refused', async () => {
      const anon = await fetch(`${base}/ogc/collections`)
      expect(anon.status).toBe(401)
      expect(anon.headers.get('www-authenticate')).toMatch(/^Basic realm="gridwatch"/)
      expect((await anon.json()).error.en).toBeTruthy()

      const victim = await loginAs(s, 'viewer', CITY)
      const from = freshAddress()
      const wrong = await fetchFrom(from)(`${base}/ogc/collections`, { headers: basic(victim.username, 'wrong-password-9') })
      expect(wrong.status).toBe(401)
      expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic/)
      const failures = async () =>
        (await s.db.sql`SELECT failures FROM login_throttles WHERE scope = 'account_address' AND username = ${victim.username} AND place = ${from}`)[0]?.failures ?? 0
      expect(await failures()).toBe(1)
      const [{ n }] = await s.db.sql`SELECT count(*)::int AS n FROM audit_log WHERE action = 'login_failed' AND row_id = ${String(victim.userId)}`
      expect(n).toBe(1)
      // The right password then works, and the count starts again.
      expect((await fetchFrom(from)(`${base}/ogc/collections`, { headers: basic(victim.username) })).status).toBe(200)
      expect(await failures()).toBe(0)
      // Garbage in the header is no login.
      expect((await fetch(`${base}/ogc/collections`, { headers: { Authorization: 'Basic !!!' } })).status).toBe(401)

      await s.db.sql`UPDATE users SET disabled = true WHERE id = ${victim.userId}`
      expect((await fetch(`${base}/ogc/collections`, { headers: basic(victim.username) })).status).toBe(403)

      const fresh = await loginAs(s, 'planner', CITY)
      await s.db.sql`UPDATE users SET must_change_password = true WHERE id = ${fresh.userId}`
      const must = await fetch(`${base}/ogc/collections`, { headers: basic(fresh.username) })
      expect(must.status).toBe(403)
      expect((await must.json()).error.code).toBe('must_change_password')

      // Basic opens /ogc only: the rest of the API still wants the session.
      expect((await fetch(`${base}/api/units/${CITY}`, { headers: basic(planner.username) })).status).toBe(401)
      expect((await fetch(`${base}/tiles/grids.json`, { headers: basic(planner.username) })).status).toBe(401)
    })

    it('slows password guessing over HTTP Basic as the login form does: 429 with Retry-After, the same count', async () => {
      const victim = await loginAs(s, 'viewer', CITY)
      const get = fetchFrom(freshAddress())
      for (let i = 0; i < THROTTLE.place.free; i++) {
        expect((await get(`${base}/ogc/collections`, { headers: basic(victim.username, `wrong-password-${i}`) })).status).toBe(401)
      }
      for (const password of ['wrong-password-x', TEST_PASSWORD]) {
        const r = await get(`${base}/ogc/collections`, { headers: basic(victim.username, password) })
        expect(r.status).toBe(429)
        expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0)
        // No login box for a wait: QGIS would ask for a password the server will not check.
        expect(r.headers.get('www-authenticate')).toBeNull()
        expect((await r.json()).error.code).toBe('too_many_attempts')
      }
      // The login form from that address is held as well: one count for both.
      const form = await get(`${base}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: victim.username, password: TEST_PASSWORD }) })
      expect(form.status).toBe(429)
    })
  })
}
