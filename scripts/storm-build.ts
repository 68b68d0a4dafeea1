/**
 * Writes a synthetic storm file (data/storms/*.json) from a seeded database:
 * stations over the county outline, forecasts for its townships. The shipped
 * data/storms/zhaoyang-july.json was made with
 *   DATABASE_URL=… (demo scale, --seed 1) npx tsx scripts/storm-build.ts
 * Uses DATABASE_URL, else the embedded database (or the socket of a running one).
 */
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { config, projectRoot } from '../core/config.ts'
import { connect } from '../db/connect.ts'
import { runningEmbeddedUrl } from '../db/embedded.ts'
import { buildStorm } from '../data/storms/build.ts'

const { values } = parseArgs({
  options: { county: { type: 'string', default: '530602' }, seed: { type: 'string', default: '1' }, out: { type: 'string' }, spacing: { type: 'string', default: '6' } },
})
const db = config.databaseUrl ? await connect() : await connect({ databaseUrl: runningEmbeddedUrl(config.dataDir) ?? null, quiet: true })
try {
  const storm = await buildStorm(db.sql, { county: values.county!, seed: Number(values.seed), spacingKm: Number(values.spacing) })
  const out = values.out ?? path.join(projectRoot, 'data', 'storms', 'zhaoyang-july.json')
  // One line per hour and per forecast: diffs of a regenerated file stay readable.
  const lines = [
    '{',
    `  "name": ${JSON.stringify(storm.name)}, "county": ${JSON.stringify(storm.county)}, "seed": ${storm.seed},`,
    '  "stations": [',
    storm.stations.map((s) => `    ${JSON.stringify(s)}`).join(',\n'),
    '  ],',
    '  "hours": [',
    storm.hours.map((h) => `    ${JSON.stringify(h)}`).join(',\n'),
    '  ],',
    '  "forecasts": [',
    storm.forecasts.map((f) => `    ${JSON.stringify(f)}`).join(',\n'),
    '  ]',
    '}',
  ]
  fs.writeFileSync(out, lines.join('\n') + '\n')
  console.log(`wrote ${path.relative(process.cwd(), out)}: ${storm.stations.length} stations, ${storm.hours.length} hours, ${storm.forecasts.length} forecasts`)
} finally {
  await db.close()
}
