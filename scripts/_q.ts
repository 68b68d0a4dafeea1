import postgres from 'postgres'
import { tileLayerByName } from '../tiles/registry.ts'
import { mvtQuery } from '../tiles/sql.ts'
const sql = postgres(process.env.DATABASE_URL!, { onnotice: () => {} })
const [layer, z, x, y] = process.argv.slice(2)
const q = mvtQuery(tileLayerByName.get(layer)!, Number(z))!
const plan = await sql.unsafe(`EXPLAIN (ANALYZE, BUFFERS) ${q}`, [Number(z), Number(x), Number(y)])
console.log(plan.map((r: any) => r['QUERY PLAN']).join('\n'))
await sql.end()
