/**
 * Published MapLibre styles (issue #22): /styles/{name}.json and its sprite, for QGIS's vector-tile
 * connection and other MapLibre apps. The style passes MapLibre's own validator, draws the grids with the
 * map's fill expression, names only tiles that answer (with the token QGIS put in the style's URL), a
 * sprite whose rectangles lie in its PNG, and tiles GDAL reads; nobody without a session or token reads it.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { validateStyleMin } from '@maplibre/maplibre-gl-style-spec'
import type { StyleSpecification, VectorSourceSpecification } from '@maplibre/maplibre-gl-style-spec'
import { PNG } from 'pngjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../../api/server.ts'
import { styleRoutes } from '../../api/routes/styles.ts'
import { commandMapLayers, gridFillColor } from '../../core/map-style/command-map.ts'
import { mapIcons } from '../../core/map-style/icons.ts'
import { tilesCovering } from '../../tiles/tile-math.ts'
import { features, gdalAvailable, ogrinfo } from '../helpers/gdal.ts'
import { loginAs, type Client } from '../helpers/session.ts'
import { targets } from '../helpers/targets.ts'

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` })
const stranger = () => `gw_${randomBytes(32).toString('base64url')}`
type Sprite = Record<string, { x: number; y: number; width: number; height: number; pixelRatio: number }>

/** Width and height from a PNG's IHDR, after checking the signature. */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true)
  expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR')
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) }
}

const fill = (url: string, t: { z: number; x: number; y: number }) => url.replace('{z}', String(t.z)).replace('{x}', String(t.x)).replace('{y}', String(t.y))

for (const target of targets()) {
  describe(`published map style on ${target.name}`, () => {
    let s: RunningServer
    let staff: Client
    let secret: string
    /** A household's place: every source has a tile there. */
    let at: [number, number]
    const get = (p: string, headers: Record<string, string> = {}, method = 'GET') => fetch(p.startsWith('http') ? p : s.url + p, { method, headers })
    const style = async (query = '', headers: Record<string, string> = bearer(secret)) => {
      const r = await get(`/styles/gridwatch.json${query}`, headers)
      expect(r.status, await r.clone().text()).toBe(200)
      return (await r.json()) as StyleSpecification
    }

    beforeAll(async () => {
      s = await startServer({ port: 0, databaseUrl: target.url, seedScale: false, quiet: true, proxy: { publicOrigin: null, trust: { kind: 'none' } } })
      const [t] = await s.db.sql`SELECT substr(g.code, 1, 9) || '000' AS code FROM households h JOIN grids g ON g.id = h.grid_id
                                 GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`
      const [h] = await s.db.sql`SELECT ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat FROM households h JOIN grids g ON g.id = h.grid_id
                                 WHERE g.code LIKE ${(t.code as string).slice(0, 9) + '%'} ORDER BY h.id LIMIT 1`
      at = [h.lon, h.lat]
      staff = await loginAs(s, 'township', t.code)
      const r = await staff.send('POST', '/api/tokens', { name: '样式测试' })
      expect(r.status).toBe(201)
      secret = (await r.json()).token
    })
    afterAll(async () => {
      if (s) await s.db.sql`DELETE FROM access_tokens WHERE user_id = ${staff?.userId ?? 0}`
      await s?.close()
    })

    it('is a style MapLibre\'s validator accepts, with the map\'s layers and its grid fill, no text and no glyphs', async () => {
      const st = await style()
      expect(validateStyleMin(st)).toEqual([])
      const ids = st.layers.map((l) => l.id)
      for (const id of ['grids-fill', 'grids-line', 'households', 'household-agg-total', 'hazards', 'hazards-agg', 'shelters', 'routes', 'admin-line', 'evac-routes']) expect(ids).toContain(id)
      // The same layers, in the same order, as the map's (less text-only and live-state ones).
      const mapIds = commandMapLayers({ basemap: false }).map((l) => l.id)
      expect(ids).toEqual(mapIds.filter((id) => ids.includes(id)))
      const grids = st.layers.find((l) => l.id === 'grids-fill')!
      expect(grids.type === 'fill' && grids.paint?.['fill-color']).toEqual(gridFillColor('risk'))
      expect(st.glyphs).toBeUndefined()
      expect(JSON.stringify(st.layers)).not.toContain('"text-')
      expect(st.layers.find((l) => l.id === 'micro-grids-line')?.layout).toMatchObject({ visibility: 'none' })
      // Absolute URLs at the address the connection reached (no public origin configured), no token given none.
      const here = `http://(127\\.0\\.0\\.1|\\[::1\\]):${s.port}`
      expect(st.sprite).toMatch(new RegExp(`^${here}/styles/sprites/gridwatch$`))
      for (const src of Object.values(st.sources) as VectorSourceSpecification[]) {
        expect(src.tiles?.[0]).toMatch(new RegExp(`^${here}/tiles/[a-z]+/\\{z\\}/\\{x\\}/\\{y\\}\\.mvt$`))
      }
    })

    it('carries a token given in its URL into every tile and sprite URL, and each of them answers with it alone', async () => {
      const st = await style(`?access_token=${secret}`, {})
      const sources = Object.entries(st.sources) as [string, VectorSourceSpecification][]
      expect(sources.map(([id]) => id).sort()).toEqual(['admin', 'evac', 'grids', 'hazards', 'households', 'routes', 'shelters'])
      for (const [id, src] of sources) {
        const url = src.tiles![0]
        expect(url).toContain(`?access_token=${secret}`)
        const z = Math.min(Math.max(13, src.minzoom ?? 0), src.maxzoom ?? 22)
        const tile = fill(url, tilesCovering([...at, ...at], z)[0])
        const r = await get(tile)
        expect([200, 204], `${id} ${tile}`).toContain(r.status)
        if (r.status === 200) expect(r.headers.get('content-type')).toBe('application/vnd.mapbox-vector-tile')
        // The same URL without the token is refused.
        expect((await get(tile.replace(/\?.*$/, ''))).status, id).toBe(401)
      }
      // Sprite files the way MapLibre and QGIS make them: suffix on the path, the query kept.
      const base = new URL(st.sprite as string)
      expect(base.searchParams.get('access_token')).toBe(secret)
      for (const suffix of ['.json', '.png', '@2x.json', '@2x.png']) {
        const u = new URL(base)
        u.pathname += suffix
        expect((await get(u.href)).status, suffix).toBe(200)
      }
      expect((await get(`/styles/gridwatch.json?access_token=${secret}`)).headers.get('cache-control')).toBe('private, no-store')
    })

    it('has a sprite at 1× and 2× whose rectangles lie inside its PNG, each with its icon drawn', async () => {
      const st = await style()
      const used = new Set(mapIcons.map((i) => i.name))
      for (const [suffix, ratio] of [['', 1], ['@2x', 2]] as const) {
        const index = (await (await get(`/styles/sprites/gridwatch${suffix}.json`, bearer(secret))).json()) as Sprite
        const pngAnswer = await get(`/styles/sprites/gridwatch${suffix}.png`, bearer(secret))
        expect(pngAnswer.headers.get('content-type')).toBe('image/png')
        const png = Buffer.from(await pngAnswer.arrayBuffer())
        const { width, height } = pngSize(png)
        const pixels = PNG.sync.read(png)
        expect([pixels.width, pixels.height]).toEqual([width, height])
        expect(new Set(Object.keys(index))).toEqual(used)
        for (const [name, r] of Object.entries(index)) {
          expect(r.pixelRatio, name).toBe(ratio)
          expect(r.x >= 0 && r.y >= 0 && r.x + r.width <= width && r.y + r.height <= height, `${name} ${JSON.stringify(r)} in ${width}×${height}`).toBe(true)
          expect(r.width, name).toBe(mapIcons.find((i) => i.name === name)!.size * ratio)
          // Drawn: the middle of the icon is opaque.
          const mid = ((r.y + (r.height >> 1)) * width + r.x + (r.width >> 1)) * 4
          expect(pixels.data[mid + 3], name).toBe(255)
        }
      }
      // Every icon a layer names is in the sprite.
      const named = JSON.stringify(st.layers.map((l) => ('layout' in l ? l.layout?.['icon-image' as never] : undefined)))
      expect(named).toContain('"shelter"')
      expect(named).toContain('"hazard-"')
    })

    it('names tiles GDAL\'s MVT driver reads, with the source layers the style draws', async () => {
      if (!gdalAvailable('published style')) return
      const st = await style(`?access_token=${secret}`, {})
      const src = st.sources.grids as VectorSourceSpecification
      const z = 13
      const tile = fill(src.tiles![0], tilesCovering([...at, ...at], z)[0])
      const r = await get(tile, { 'Accept-Encoding': 'identity' })
      expect(r.status).toBe(200)
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-style-'))
      const file = path.join(dir, `${z}.mvt`)
      fs.writeFileSync(file, Buffer.from(await r.arrayBuffer()))
      try {
        const out = await ogrinfo(['-ro', '-al', '-oo', `Z=${z}`, file, 'grids'])
        const feats = features(out)
        expect(feats.length).toBeGreaterThan(0)
        // The fields the style's grid fill reads.
        expect(Object.keys(feats[0])).toEqual(expect.arrayContaining(['red_share', 'yellow_share']))
        const sourceLayers = new Set(st.layers.filter((l) => 'source' in l && l.source === 'grids').map((l) => ('source-layer' in l ? l['source-layer'] : '')))
        const listed = await ogrinfo(['-ro', '-so', '-q', file])
        for (const name of sourceLayers) if (name === 'grids') expect(listed).toContain(name)
      } finally {
        fs.rmSync(dir, { recursive: true, force: true })
      }
    })

    it('answers a session as well, without a token in its URLs', async () => {
      const r = await staff.get('/styles/gridwatch.json')
      expect(r.status).toBe(200)
      expect(JSON.stringify(await r.json())).not.toContain('access_token')
      expect((await staff.get('/styles/sprites/gridwatch@2x.png')).status).toBe(200)
    })

    it('refuses without a session or token, a wrong token, unknown names, writes and path tricks', async () => {
      for (const p of ['/styles/gridwatch.json', '/styles/sprites/gridwatch.json', '/styles/sprites/gridwatch@2x.png']) {
        expect((await get(p, {})).status, p).toBe(401)
        expect((await get(p, bearer(stranger()))).status, p).toBe(401)
        expect((await get(`${p}?access_token=${stranger()}`, {})).status, p).toBe(401)
      }
      const unknown = await get('/styles/nope.json', bearer(secret))
      expect(unknown.status).toBe(404)
      const body = await unknown.json()
      expect(body.error.code).toBe('unknown_style')
      expect(JSON.stringify(body)).toContain('gridwatch')
      for (const p of ['/styles/gridwatch', '/styles/GRIDWATCH.json', '/styles/..%2F..%2Fapi%2Ftokens', '/styles/%2e%2e%2fpackage.json', '/styles/sprites/other.png', '/styles/sprites/gridwatch@3x.png', '/styles/sprites/..%2Fgridwatch.json']) {
        expect((await get(p, bearer(secret))).status, p).toBe(404)
      }
      // A dot-segment leaves /styles/ before any route sees it: the token in the query then counts for nothing.
      expect((await get(`/styles/%2e%2e/api/tokens?access_token=${secret}`, {})).status).toBe(401)
      expect((await get('/styles/gridwatch.json%00', bearer(secret))).status).toBe(400)
      const write = await fetch(`${s.url}/styles/gridwatch.json`, { method: 'POST', headers: { ...bearer(secret), 'Content-Type': 'application/json' }, body: '{}' })
      expect(write.status).toBe(403)
      expect((await write.json()).error.code).toBe('token_read_only')
      // A forged forwarded host never becomes a URL in the style (no proxy trusted here).
      const forged = await style('', { ...bearer(secret), 'X-Forwarded-Host': 'evil.example', 'X-Forwarded-Proto': 'https' })
      expect(JSON.stringify(forged)).not.toContain('evil.example')
    })
  })
}

describe('published style origin', () => {
  it('is the configured public origin, whatever Host the request names', async () => {
    const app = styleRoutes(() => [103, 27, 105, 28], { publicOrigin: 'https://gridwatch.example.org', trust: { kind: 'none' } })
    const r = await app.request('http://evil.example/styles/gridwatch.json', { headers: { Host: 'evil.example', 'X-Forwarded-Host': 'evil.example' } })
    expect(r.status).toBe(200)
    const st = (await r.json()) as StyleSpecification
    expect(st.sprite).toBe('https://gridwatch.example.org/styles/sprites/gridwatch')
    for (const src of Object.values(st.sources) as VectorSourceSpecification[]) expect(src.tiles![0].startsWith('https://gridwatch.example.org/tiles/')).toBe(true)
    expect(JSON.stringify(st)).not.toContain('evil.example')
  })
})
