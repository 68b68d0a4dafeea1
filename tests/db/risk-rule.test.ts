import { VectorTile } from '@mapbox/vector-tile'
import { PbfReader } from 'pbf'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gridRiskColour, riskShare } from '../../core/rules/risk.ts'
import { connect, type Database } from '../../db/connect.ts'
import { tileLayers } from '../../tiles/registry.ts'
import { detectEncoder, renderTile } from '../../tiles/service.ts'
import { tilesCovering } from '../../tiles/tile-math.ts'
import { targets } from '../helpers/targets.ts'

/**
 * The grid tiles carry each grid's shares of red and yellow households,
 * computed in SQL (tiles/registry.ts); the map colours grids from them by
 * core/rules/risk.ts. Here the tiles' counts and shares are held to the
 * households table and to riskShare, on the grids of the seeded county's z10
 * tiles, with each encoder the database has.
 */
for (const target of targets()) {
  describe(`the grid risk shares in the tiles on ${target.name}`, () => {
    let db: Database
    beforeAll(async () => {
      db = await connect({ databaseUrl: target.url })
    })
    afterAll(() => db.sql.end())

    it('are riskShare of the grid’s own households, grid by grid', async () => {
      const layer = tileLayers.find((l) => l.name === 'grids')!
      const counts = new Map((await db.sql<{ id: number; n: number; red: number; yellow: number }[]>`
        SELECT g.id, count(h.id)::int AS n, count(h.id) FILTER (WHERE h.risk_level = 'red')::int AS red,
               count(h.id) FILTER (WHERE h.risk_level = 'yellow')::int AS yellow
        FROM grids g LEFT JOIN households h ON h.grid_id = g.id WHERE g.kind = 'basic' GROUP BY g.id`).map((r) => [Number(r.id), r]))
      const [box] = await db.sql<{ w: number; s: number; e: number; n: number }[]>`
        SELECT ST_XMin(x) AS w, ST_YMin(x) AS s, ST_XMax(x) AS e, ST_YMax(x) AS n FROM (SELECT ST_Extent(geom) AS x FROM grids WHERE kind = 'basic') b`
      const encoders = [...new Set(['js', await detectEncoder(db)] as const)]
      const colours = new Set<string>()
      for (const encoder of encoders) {
        // z10 carries the shares only (the fill the map draws there); z11 the counts too.
        for (const z of [10, 11]) {
          const seen = new Set<number>()
          for (const t of tilesCovering([box.w, box.s, box.e, box.n], z)) {
            const l = new VectorTile(new PbfReader(await renderTile(db, layer, t, encoder))).layers.grids
            for (let i = 0; i < (l?.length ?? 0); i++) {
              const p = l.feature(i).properties as Record<string, number | string>
              const c = counts.get(Number(p.id))!
              const at = `grid ${p.id} z${z} (${encoder})`
              if (z > 10) expect({ households: p.households, red: p.red, yellow: p.yellow }, at).toEqual({ households: c.n, red: c.red, yellow: c.yellow })
              else expect(Object.keys(p).sort(), at).toEqual(['id', 'red_share', 'yellow_share'])
              expect(p.red_share, `${at} red share`).toBe(riskShare(c.red, c.n))
              expect(p.yellow_share, `${at} yellow share`).toBe(riskShare(c.yellow, c.n))
              colours.add(gridRiskColour({ red: Number(p.red_share), yellow: Number(p.yellow_share) }))
              seen.add(Number(p.id))
            }
          }
          // A grid smaller than a pixel may be dropped at z10: nearly all are there.
          expect(seen.size, `grids seen at z${z} (${encoder})`).toBeGreaterThan(counts.size * 0.9)
        }
      }
      // Fixtures that exercise the rule: grids of more than one colour.
      expect(colours.size).toBeGreaterThan(1)
    })
  })
}
