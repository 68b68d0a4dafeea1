/**
 * GET /api/analysis: the analyses and their parameters (for the planners' panel);
 * GET /api/analysis/{name}?unit=CODE&…: one analysis for one area (table, totals,
 * totals per child unit, GeoJSON layer); POST /api/analysis/{name}/jobs?… the
 * same as a job with progress by parts, GET /api/analysis/jobs/{id} its progress
 * and, once done, its answer. Files of the same result come from
 * /api/export/analysis/{name}.{format} (api/routes/exports.ts).
 */
import { Hono } from 'hono'
import { z } from 'zod'
import { authorize, requireUser } from '../auth/guard.ts'
import { queryObject } from '../validate.ts'
import type { Sql } from '../../db/connect.ts'
import type { Reads } from '../../db/replica.ts'
import { readAfterOf } from '../edge/read-your-writes.ts'
import { HttpError } from '../../core/errors.ts'
import { catalog, catalogIds, isCatalogId } from '../analysis/catalog.ts'
import { analysisRequest, runAnalysis } from '../analysis/run.ts'
import { getAnalysisJob, jobProgress, startAnalysisJob } from '../analysis/jobs.ts'
import { takePlace, type WorkLimiters } from '../limits/work.ts'

export const unknownAnalysis = (name: string) =>
  new HttpError(404, 'unknown_analysis', `没有这个分析：${name}（可用：${catalogIds.join('、')}）`, `no such analysis: ${name} (analyses: ${catalogIds.join(', ')})`)

/** `reads`: where the analyses themselves run (the read replica when caught up, db/replica.ts). */
export function analysisRoutes(sql: Sql, reads: Reads, limits: WorkLimiters) {
  const app = new Hono()

  app.get('/api/analysis', (c) => {
    authorize(c, 'data.export')
    return c.json(catalogIds.map((id) => {
      const a = catalog[id]
      return { id, zh: a.zh, en: a.en, geometry: a.geometry, fields: a.fields, totalsZh: a.totalsZh, params: z.toJSONSchema(a.params, { io: 'input' }) }
    }))
  })

  app.get('/api/analysis/:name', async (c) => {
    const name = c.req.param('name')
    // Role first: someone who may not run analyses learns nothing more from a 404.
    authorize(c, 'data.export')
    if (!isCatalogId(name)) throw unknownAnalysis(name)
    const a = catalog[name]
    const { user, unit, params, layerOn } = await analysisRequest(sql, requireUser(c), { analysis: a, query: queryObject(c) })
    const result = await reads.run(readAfterOf(c), async (rsql) => runAnalysis(rsql, user, a, await layerOn(rsql), unit))
    c.header('Cache-Control', 'no-store')
    return c.json({ analysis: name, zh: a.zh, en: a.en, unit, params, ...result })
  })
  // The same analysis as a job, for areas where it takes a while: a place in the queue, progress by parts (counties, townships), then the answer.
  app.post('/api/analysis/:name/jobs', async (c) => {
    const name = c.req.param('name')
    authorize(c, 'data.export')
    if (!isCatalogId(name)) throw unknownAnalysis(name)
    const a = catalog[name]
    const { user, unit, params } = await analysisRequest(sql, requireUser(c), { analysis: a, query: queryObject(c) })
    const place = takePlace(c, limits, 'analysis', user.id)
    // Where it runs is chosen now: the job sees at least what the asker had written when they asked.
    const job = startAnalysisJob(await reads.pick(readAfterOf(c)), user, a, params, unit, { analysis: name, zh: a.zh, en: a.en, unit, params }, place)
    return c.json(jobProgress(job), 202)
  })
  app.get('/api/analysis/jobs/:id', (c) => {
    const user = authorize(c, 'data.export')
    const job = getAnalysisJob(c.req.param('id'))
    if (!job || job.userId !== user.id) throw new HttpError(404, 'not_found', '没有这个分析任务（或已过期）', 'no such analysis job (or it has expired)')
    c.header('Cache-Control', 'no-store')
    return c.json({ ...jobProgress(job), result: job.stage === 'done' ? job.result : null })
  })
  return app
}
