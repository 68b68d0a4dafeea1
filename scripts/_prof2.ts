import { startServer } from '../api/server.ts'
import { tileLayers } from '../tiles/registry.ts'
import { renderTile } from '../tiles/service.ts'
import { tilesCovering } from '../tiles/tile-math.ts'
const server = await startServer({ port: 0, seedScale: 'demo' })
const { sql } = server.db
const encoder = server.tiles.encoder
const points = await sql<{ lon: number; lat: number }[]>`
  (SELECT ST_X(g.label_point) AS lon, ST_Y(g.label_point) AS lat FROM grids g
   JOIN household_rollups r ON r.level = 'grid' AND r.unit_id = g.id ORDER BY r.households DESC, g.id LIMIT 3)
  UNION ALL
  (SELECT ST_X(a.label_point), ST_Y(a.label_point) FROM admin_units a
   JOIN household_rollups r ON r.level = 'county' AND r.unit_id = a.id WHERE r.households > 0 ORDER BY a.code)`
const res: any[] = []
const seen = new Set<string>()
for (let z = 5; z <= 16; z++) for (const p of points) {
  const [t] = tilesCovering([p.lon, p.lat, p.lon, p.lat], z)
  for (const layer of tileLayers) {
    if (z < layer.minzoom || z > layer.maxzoom) continue
    const key = `${layer.name}/${z}/${t.x}/${t.y}`
    if (seen.has(key)) continue; seen.add(key)
    const times: number[] = []; let bytes = 0
    for (let i = 0; i < 3; i++) { const t0 = performance.now(); bytes = (await renderTile(server.db, layer, t, encoder)).length; times.push(performance.now() - t0) }
    res.push({ key, ms: times.sort((a, b) => a - b)[1], bytes })
  }
}
res.sort((a, b) => b.ms - a.ms)
console.log('encoder', encoder, 'tiles', res.length)
for (const r of res.slice(0, 60)) console.log(r.key, r.ms.toFixed(1), r.bytes)
process.exit(0)
