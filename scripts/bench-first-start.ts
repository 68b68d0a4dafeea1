/**
 * First-start benchmark: `npm start` (scripts/start.ts) on an empty embedded
 * data folder, as a newcomer runs it, timed from spawning the process to
 * /api/ready answering 200 (the map serves), and on to the demo storm's
 * history being written behind it (/api/ready no longer says "background").
 * Reference in the same run: a later start of the same folder. The stages are
 * read off the console's progress lines. Writes bench/first-start.md (or
 * --out). Uses a temporary folder and a free port; removes the folder after.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import { createServer } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { projectRoot } from '../core/config.ts'

// --clean-web: remove web/dist first, so the first start builds the web app as on a fresh clone.
const { values } = parseArgs({ options: { out: { type: 'string' }, keep: { type: 'boolean' }, 'clean-web': { type: 'boolean' } } })
if (values['clean-web']) fs.rmSync(path.join(projectRoot, 'web', 'dist'), { recursive: true, force: true })

const freePort = () => new Promise<number>((resolve, reject) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number }
    s.close(() => resolve(port))
  }).on('error', reject)
})

interface Start {
  readyS: number
  /** When the background work was done (null: none, or not within the wait). */
  doneS: number | null
  /** Console lines with the second each arrived. */
  lines: { s: number; text: string }[]
  loadBefore: number[]
  loadAfter: number[]
}

async function timeStart(dataDir: string): Promise<Start> {
  const port = await freePort()
  const loadBefore = os.loadavg()
  const t0 = performance.now()
  const since = () => (performance.now() - t0) / 1000
  // tsx as the npm script runs it, without npm in between.
  // Plain lines, as on a terminal: the stages below are read off them (piped, the server would write JSON lines).
  const env = { ...process.env, GRIDWATCH_DATA_DIR: dataDir, PORT: String(port), GRIDWATCH_LOG_FORMAT: 'text' }
  delete (env as NodeJS.ProcessEnv).DATABASE_URL // the embedded database: the demo a newcomer starts
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'scripts', 'start.ts')], {
    cwd: projectRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: Start['lines'] = []
  let exited = false
  child.on('exit', () => (exited = true))
  for (const stream of [child.stdout!, child.stderr!]) {
    let rest = ''
    stream.on('data', (b: Buffer) => {
      const parts = (rest + b.toString()).split(/\r?\n|\r/)
      rest = parts.pop()!
      for (const text of parts) if (text.trim()) lines.push({ s: since(), text })
    })
  }
  const ask = async () => {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/api/ready`)
      return { status: r.status, body: (await r.json()) as { stage?: string } }
    } catch {
      return null
    }
  }
  let readyS: number
  let doneS: number | null = null
  try {
    for (;;) {
      if (exited) throw new Error(`the server exited before it was ready:\n${lines.map((l) => l.text).join('\n')}`)
      const r = await ask()
      if (r?.status === 200) {
        readyS = since()
        if (r.body.stage !== 'background') doneS = readyS
        break
      }
      await new Promise((res) => setTimeout(res, 200))
    }
    while (doneS === null && since() < readyS + 600) {
      const r = await ask()
      if (r?.status === 200 && r.body.stage !== 'background') doneS = since()
      else await new Promise((res) => setTimeout(res, 500))
    }
  } finally {
    child.kill('SIGTERM')
    if (!exited) await new Promise((res) => child.once('exit', res))
  }
  return { readyS, doneS, lines, loadBefore, loadAfter: os.loadavg() }
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridwatch-first-start-'))
let first: Start
let later: Start
try {
  first = await timeStart(dataDir)
  later = await timeStart(dataDir)
} finally {
  if (!values.keep) fs.rmSync(dataDir, { recursive: true, force: true })
}

/** The last time a stage's progress line was printed, and its text there. */
const stage = (s: Start, pattern: RegExp) => s.lines.filter((l) => pattern.test(l.text)).at(-1)
const sec = (x: number | null | undefined) => (x == null ? '—' : x.toFixed(1))
const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ')
const stages: [string, RegExp][] = [
  ['web app built, beside the database (only when web/dist was missing or stale)', /web app built|building the web app.*done/],
  ['embedded PostGIS up', /embedded PostGIS: ready/],
  ['migrations applied', /migrations applied/],
  ['demo data generated', /generating demo data:.*households, .* grids in/],
  ['ready: the map serves', /running at/],
  ['demo storm history written', /demo storm history.*events/],
]
const lines = [
  '# First-start benchmark',
  '',
  `Run ${new Date().toISOString()} on ${os.cpus().length} cores: \`npm start\` (scripts/start.ts) on an empty embedded data folder${values['clean-web'] ? ' and no web build (as a fresh clone)' : ''}, then again on the same folder (the reference: a later start).`,
  `Load average ${load(first.loadBefore)} before the first start, ${load(first.loadAfter)} after it, ${load(later.loadAfter)} after the later one.`,
  '',
  '| | first start s | later start s |',
  '|---|---|---|',
  `| spawn → /api/ready 200 (the map serves) | **${sec(first.readyS)}** | ${sec(later.readyS)} |`,
  `| spawn → nothing left in the background | ${sec(first.doneS)} | ${sec(later.doneS)} |`,
  `| ratio first / later, to ready | ${(first.readyS / later.readyS).toFixed(1)} | 1 |`,
  '',
  'Stages of the first start (second at which the console printed the stage\'s last line):',
  '',
  '| stage | s | line |',
  '|---|---|---|',
  ...stages.flatMap(([name, re]) => {
    const l = stage(first, re)
    return l ? [`| ${name} | ${sec(l.s)} | ${l.text.replace(/\|/g, '/').slice(0, 160)} |`] : []
  }),
  '',
]
const out = values.out ?? path.join(projectRoot, 'bench', 'first-start.md')
fs.mkdirSync(path.dirname(out), { recursive: true })
fs.writeFileSync(out, lines.join('\n'))
console.log(lines.join('\n'))
