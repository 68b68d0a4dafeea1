import { VectorTile } from '@mapbox/vector-tile'
import { PbfReader } from 'pbf'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, type Database } from '../../db/connect.ts'
import { tileLayers } from '../../tiles/registry.ts'
import { detectEncoder, renderTile } from '../../tiles/service.ts'
import { tilesCovering, type TileCoord } from '../../tiles/tile-math.ts'
import { targets } from '../helpers/targets.ts'

const decode = (buf: Uint8Array) => new VectorTile(new PbfReader(buf))

function features(buf: Uint8Array, layer: string) {
  const l = decode(buf).layers[layer]
  if (!l) return []
  return Array.from({ length: l.length }, (_, i) => l.feature(i))
}

/** Signed ring area (shoelace) in tile pixels: > 0 for an exterior ring per the MVT spec. */
function signedArea(ring: { x: number; y: number }[]) {
  let a = 0
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) a += (ring[j].x - ring[i].x) * (ring[j].y + ring[i].y)
  return a / 2
}

for (const target of targets()) {
  describe(`tiles on ${target.name}`, () => {
    let db: Database
    let densest: TileCoord
    beforeAll(async () => {
      db = await connect({ databaseUrl: target.url })
      // The z14 tile holding the most households: the hardest one.
      const [d] = await db.sql`SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat FROM households h
        JOIN (SELECT grid_id FROM households GROUP BY grid_id ORDER BY count(*) DESC, grid_id LIMIT 1) g USING (grid_id) LIMIT 1`
      ;[densest] = tilesCovering([d.lon, d.lat, d.lon, d.lat], 14)
    })
    afterAll(() => db.sql.end())

    it('makes every layer at every zoom, decodable, with the fields its TileJSON names', async () => {
      for (const layer of tileLayers) {
        for (let z = layer.minzoom; z <= layer.maxzoom; z++) {
          const t = { z, x: densest.x >> (14 - z), y: densest.y >> (14 - z) }
          const buf = await renderTile(db, layer, z <= 14 ? t : { z, x: densest.x << (z - 14), y: densest.y << (z - 14) }, 'js')
          for (const l of layer.layers) {
            for (const f of features(buf, l.name)) {
              for (const key of Object.keys(f.properties)) expect(Object.keys(l.fields)).toContain(key)
            }
          }
        }
      }
    })

    it('shows every household of a z14 tile as one point, and aggregates below z13', async () => {
      const households = tileLayers.find((l) => l.name === 'households')!
      const buf = await renderTile(db, households, densest, 'js')
      const got = features(buf, 'households')
      const [n] = await db.sql`SELECT count(*)::int AS n FROM households WHERE geom_3857 && ST_TileEnvelope(${densest.z}, ${densest.x}, ${densest.y})`
      const inside = got.filter((f) => {
        const [[p]] = f.loadGeometry()
        return p.x >= 0 && p.x < 4096 && p.y >= 0 && p.y < 4096
      })
      expect(inside.length).toBe(n.n)
      expect(n.n).toBeGreaterThan(0)
      const agg = features(await renderTile(db, households, { z: 10, x: densest.x >> 4, y: densest.y >> 4 }, 'js'), 'households')
      expect(agg.length).toBeGreaterThan(0)
      for (const f of agg) expect(f.properties.agg).toBe('village')
      const total = agg.reduce((s, f) => s + Number(f.properties.households), 0)
      expect(total).toBeGreaterThan(n.n)
    })

    it('writes exterior rings clockwise on screen, as the MVT spec wants', async () => {
      const grids = tileLayers.find((l) => l.name === 'grids')!
      const fs = features(await renderTile(db, grids, { z: 12, x: densest.x >> 2, y: densest.y >> 2 }, 'js'), 'grids')
      expect(fs.length).toBeGreaterThan(0)
      for (const f of fs) expect(signedArea(f.loadGeometry()[0])).toBeGreaterThan(0)
    })

    it('keeps the densest tiles small', async () => {
      for (const layer of tileLayers) {
        for (const z of [layer.minzoom, 12, 14]) {
          if (z < layer.minzoom || z > layer.maxzoom) continue
          const buf = await renderTile(db, layer, { z, x: densest.x >> (14 - z), y: densest.y >> (14 - z) }, 'js')
          expect(buf.length).toBeLessThan(500 * 1024)
        }
      }
    })

    // Issue #17: the full city's densest z10 tile holds ~1,700 grid polygons; with every column it was
    // 215 KB and the slowest tile of all. At z10 a grid carries what the map draws there and no more.
    it('keeps a z10 grids tile to the id and the red/yellow shares, ~50 bytes a grid', async () => {
      const grids = tileLayers.find((l) => l.name === 'grids')!
      const [box] = await db.sql<{ w: number; s: number; e: number; n: number }[]>`
        SELECT ST_XMin(x) AS w, ST_YMin(x) AS s, ST_XMax(x) AS e, ST_YMax(x) AS n FROM (SELECT ST_Extent(geom) AS x FROM grids WHERE kind = 'basic') b`
      const encoders = [...new Set(['js', await detectEncoder(db)] as const)]
      let total = 0
      for (const encoder of encoders) {
        for (const t of tilesCovering([box.w, box.s, box.e, box.n], 10)) {
          const z10 = await renderTile(db, grids, t, encoder)
          const fs = features(z10, 'grids')
          total += fs.length
          for (const f of fs) expect(Object.keys(f.properties).sort()).toEqual(['id', 'red_share', 'yellow_share'])
          expect(z10.length, `z10 ${t.x}/${t.y} (${encoder}): ${fs.length} grids`).toBeLessThanOrEqual(200 + 64 * fs.length)
          // The same grids at z11 carry their names and counts: the z10 tile is the lighter by far.
          let z11 = 0
          for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) z11 += (await renderTile(db, grids, { z: 11, x: 2 * t.x + dx, y: 2 * t.y + dy }, encoder)).length
          if (fs.length > 50) expect(z10.length, `z10 ${t.x}/${t.y} against its z11 tiles`).toBeLessThan(z11 * 0.6)
        }
      }
      expect(total).toBeGreaterThan(50)
    })

    it('makes the same features with ST_AsMVT as with the JS encoder (where the database has protobuf)', async () => {
      if ((await detectEncoder(db)) !== 'st_asmvt') {
        expect(target.name).toBe('embedded') // PGlite's PostGIS has no protobuf; a real PostGIS must
        return
      }
      for (const layer of tileLayers) {
        for (const z of [layer.minzoom, 12, 14, 16]) {
          if (z < layer.minzoom || z > layer.maxzoom) continue
          const t = z <= 14 ? { z, x: densest.x >> (14 - z), y: densest.y >> (14 - z) } : { z, x: densest.x << (z - 14), y: densest.y << (z - 14) }
          const a = await renderTile(db, layer, t, 'st_asmvt')
          const b = await renderTile(db, layer, t, 'js')
          for (const l of layer.layers) {
            const fa = features(a, l.name), fb = features(b, l.name)
            const byId = new Map(fb.map((f) => [f.id, f]))
            expect(fb.length, `${layer.name}/${l.name} z${z}`).toBe(fa.length)
            for (const f of fa) {
              const g = byId.get(f.id)!
              expect(g, `${l.name} feature ${f.id} at z${z}`).toBeDefined()
              expect(g.properties).toEqual(f.properties)
              expect(g.type).toBe(f.type)
              if (f.type === 1) expect(g.loadGeometry()).toEqual(f.loadGeometry())
              if (f.type === 3) {
                const area = (x: typeof f) => x.loadGeometry().reduce((s, r) => s + signedArea(r), 0)
                // The encoders snap vertices to the tile grid each their own way: each vertex may move by
                // up to √½ unit, so the areas may differ by that much times the outline's length.
                const perimeter = f.loadGeometry().reduce((s, r) => s + r.reduce((p, v, i) => (i ? p + Math.hypot(v.x - r[i - 1].x, v.y - r[i - 1].y) : p), 0), 0)
                expect(Math.abs(area(g) - area(f)), `${l.name} feature ${f.id} at z${z}`).toBeLessThanOrEqual(Math.max(8, Math.abs(area(f)) * 0.02, perimeter * 0.71))
              }
            }
          }
        }
      }
    })
  })
}
