/**
 * An analysis as a job with progress. A long one (`inParts`: shelter_distance)
 * is run city-wide one county at a time, each part the same one-pass
 * runAnalysis, and the parts are put together exactly as the whole would have
 * come out (totals add up, each part is one row of the per-unit totals, the
 * worst rows of all parts sorted by the analysis's own order). Others, and
 * smaller areas, are one part: cutting them costs more than it shows (each
 * part pays the fixed cost again: bench/analysis.md). A job waits for its
 * place (api/limits/work.ts) as `queued` with its `position`; a client polls
 * it for `done` of `total` parts, then reads the answer. Finished jobs are
 * kept ten minutes.
 */
import { randomBytes } from 'node:crypto'
import type { SessionUser } from '../auth/guard.ts'
import { scopePrefix } from '../../core/units.ts'
import type { Sql } from '../../db/connect.ts'
import type { Place } from '../limits/work-limiter.ts'
import { log } from '../../core/log.ts'
import { analysisLayerOn, type Analysis } from './catalog.ts'
import { ROW_CUT, runAnalysis } from './run.ts'

type Answer = Awaited<ReturnType<typeof runAnalysis>>
export interface AnalysisJob {
  id: string; userId: number; stage: 'queued' | 'running' | 'done' | 'failed'; done: number; total: number; at: number
  error?: string; result?: Answer & Record<string, unknown>
  place: Place
}

const jobs = new Map<string, AnalysisJob>()
const KEEP_MS = 10 * 60_000
const childLevel: Record<string, string | undefined> = { city: 'county' }
/** Per-unit codes are cut to this length at each level (as runAnalysis groups them). */
const childLength: Record<string, number> = { city: 6 }

export const getAnalysisJob = (id: string) => jobs.get(id)
export const jobProgress = (j: AnalysisJob) => ({
  id: j.id, stage: j.stage, position: j.stage === 'queued' ? j.place.position() || null : null,
  done: j.done, total: j.total, percent: j.total ? Math.round((100 * j.done) / j.total) : 0, error: j.error ?? null,
})

/**
 * A comparator for an analysis's SQL order ("a.x DESC NULLS FIRST, a.y = 'red' DESC, a.id"), with
 * PostgreSQL's rules: ascending puts nulls last, descending first, false before true.
 */
export function rowOrder(order: string): (x: Record<string, unknown>, y: Record<string, unknown>) => number {
  const terms = order.split(',').map((t) => {
    const m = /^a\.(\w+)(?: = '([^']*)')?( DESC)?(?: NULLS (FIRST|LAST))?$/.exec(t.trim())
    if (!m) throw new Error(`an order term this comparator cannot read: ${t}`)
    const desc = Boolean(m[3])
    return { field: m[1], equals: m[2], desc, nullsFirst: m[4] ? m[4] === 'FIRST' : desc }
  })
  return (x, y) => {
    for (const t of terms) {
      let a = x[t.field]
      let b = y[t.field]
      if (t.equals !== undefined) {
        a = a === null || a === undefined ? null : a === t.equals
        b = b === null || b === undefined ? null : b === t.equals
      }
      const an = a === null || a === undefined
      const bn = b === null || b === undefined
      if (an || bn) {
        if (an && bn) continue
        return an === t.nullsFirst ? -1 : 1
      }
      const c = typeof a === 'string' ? (a < (b as string) ? -1 : a > (b as string) ? 1 : 0) : Number(a) - Number(b)
      if (c !== 0) return t.desc ? -c : c
    }
    return 0
  }
}

/** The analysis for `unit`, part by part; `onPart` hears each part done. Only a city is cut (into counties). */
export async function runInParts(sql: Sql, user: SessionUser, a: Analysis, params: unknown, unit: { code: string; level: string }, onPart: (done: number, total: number) => void): Promise<Answer> {
  const level = a.inParts ? childLevel[unit.level] : undefined
  const parts = level
    ? (await sql`SELECT code, name, level FROM admin_units WHERE level = ${level} AND starts_with(code, ${scopePrefix(unit.code)}) ORDER BY code`) as unknown as { code: string; name: string; level: string }[]
    : []
  if (!parts.length) {
    onPart(0, 1)
    const r = await runAnalysis(sql, user, a, await analysisLayerOn(sql, a, params, scopePrefix(unit.code)), unit)
    onPart(1, 1)
    return r
  }
  onPart(0, parts.length)
  const answers: Answer[] = []
  for (const [i, part] of parts.entries()) {
    answers.push(await runAnalysis(sql, user, a, await analysisLayerOn(sql, a, params, scopePrefix(part.code)), part))
    onPart(i + 1, parts.length)
  }
  const keys = Object.keys(a.totals)
  const totals = Object.fromEntries(keys.map((k) => [k, answers.reduce((t, r) => t + r.totals[k], 0)]))
  // A part with no row has no per-unit line, as in the one-statement answer.
  const byUnit = parts.flatMap((p, i) => (answers[i].rows.length ? [{ ...answers[i].totals, code: p.code.slice(0, childLength[unit.level]), name: p.name }] : []))
  const order = rowOrder(a.order)
  const all = answers.flatMap((r) => r.rows.map((row, j) => ({ row, feature: r.geojson.features[j] })))
  all.sort((x, y) => order(x.row, y.row))
  const truncated = all.length > ROW_CUT || answers.some((r) => r.truncated)
  const kept = all.slice(0, ROW_CUT)
  return {
    ...answers[0], totals, byUnit, truncated, rows: kept.map((k) => k.row),
    geojson: { type: 'FeatureCollection' as const, features: kept.map((k) => k.feature) },
  }
}

/** A job in the place given: it runs when the place's turn comes and gives it back when it ends, however it ends. */
export function startAnalysisJob(sql: Sql, user: SessionUser, a: Analysis, params: unknown, unit: { code: string; level: string }, extra: Record<string, unknown>, place: Place): AnalysisJob {
  for (const [id, j] of jobs) if ((j.stage === 'done' || j.stage === 'failed') && Date.now() - j.at > KEEP_MS) jobs.delete(id)
  const job: AnalysisJob = { id: randomBytes(12).toString('hex'), userId: user.id, stage: place.position() ? 'queued' : 'running', done: 0, total: 1, at: Date.now(), place }
  jobs.set(job.id, job)
  place.ready
    .then(() => {
      job.stage = 'running'
      return runInParts(sql, user, a, params, unit, (done, total) => Object.assign(job, { done, total }))
    })
    .then(
      (r) => Object.assign(job, { stage: 'done', result: { ...extra, ...r } }),
      (e: Error) => {
        Object.assign(job, { stage: 'failed', error: e.message })
        log.warn(`analysis job ${job.id} failed: ${e.message}`)
      },
    )
    .finally(() => {
      job.at = Date.now()
      place.release()
    })
  return job
}
