import fs from 'node:fs'
import path from 'node:path'

/**
 * What of the embedded demo's first start is not finished, kept as a file in
 * its data folder: 'seed' while the demo data is generated, 'storm' while the
 * storm history is written (in the background, after the map already serves).
 * A start that finds it does that part again, so a first start stopped half-way
 * (Ctrl-C, a crash) never leaves a demo with half its data for good.
 */
export type DemoPending = 'seed' | 'storm'

const file = (dataDir: string) => path.join(dataDir, 'gridwatch-demo-pending')

export function readDemoPending(dataDir: string | undefined): DemoPending | null {
  if (!dataDir) return null
  try {
    const v = fs.readFileSync(file(dataDir), 'utf8').trim()
    return v === 'seed' || v === 'storm' ? v : null
  } catch {
    return null
  }
}

export function markDemoPending(dataDir: string | undefined, what: DemoPending | null) {
  if (!dataDir) return
  if (what) fs.writeFileSync(file(dataDir), what)
  else fs.rmSync(file(dataDir), { force: true })
}
