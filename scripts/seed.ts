import { parseArgs } from 'node:util'
import { connect, seedPool } from '../db/connect.ts'
import { progress } from '../core/log.ts'
import { migrate } from '../data/migrate.ts'
import { seed } from '../data/seed/generate.ts'
import { scales } from '../data/seed/scales.ts'
import { seedDemoStorm } from '../api/demo/storm.ts'

const usage = 'npm run seed -- --scale demo|full|province|test [--seed N]'
const { values } = parseArgs({
  options: { scale: { type: 'string', default: 'demo' }, seed: { type: 'string', default: '1' }, help: { type: 'boolean' } },
})
if (values.help) {
  console.log(usage)
  process.exit(0)
}
const scale = scales[values.scale!]
if (!scale) {
  console.error(`未知规模 / unknown --scale "${values.scale}". Usage: ${usage}`)
  process.exit(2)
}
const seedValue = Number(values.seed)
if (!Number.isInteger(seedValue) || seedValue < 1) {
  console.error(`--seed 须为正整数 / --seed must be a positive whole number, got "${values.seed}"`)
  process.exit(2)
}

const db = await connect()
try {
  await migrate(db.sql)
  const p = progress(`seed ${scale.name} (${db.kind})`)
  const pool = seedPool(db)
  const summary = await seed(pool.sql, {
    scale,
    seed: seedValue,
    parallel: db.kind === 'postgis' ? 2 : 1,
    onProgress: (m) => p.update(m),
  }).finally(() => pool.end())
  p.done(`done in ${summary.seconds.toFixed(1)} s`)
  if (scale.name !== 'test') {
    const h = progress('演示暴雨历史 / demo storm history')
    const r = await seedDemoStorm(db.sql, (m) => h.update(m))
    h.done('events' in r ? `${r.events} events` : r.skipped)
  }
  console.log(JSON.stringify(summary, null, 2))
} finally {
  await db.close()
}
