/**
 * GET /api/analysis: the analyses and their parameters (for the planners' panel);
 * GET /api/analysis/{name}?unit=CODE&…: one analysis for one area (table, totals,
 * totals per child unit, GeoJSON layer). Files of the same result come from
 * /api/export/analysis/{name}.{format} (api/routes/exports.ts).
 */
import { Hono } from 'hono'
import { z } from 'zod'
import { authorize } from '../auth/guard.ts'
import type { Sql } from '../db/connect.ts'
import { HttpError } from '../errors.ts'
import { analyses, analysisIds, isAnalysisId } from '../analysis/catalog.ts'
import { analysisRequest, runAnalysis } from '../analysis/run.ts'

export const unknownAnalysis = (name: string) =>
  new HttpError(404, 'unknown_analysis', `没有这个分析：${name}（可用：${analysisIds.join('、')}）`, `no such analysis: ${name} (analyses: ${analysisIds.join(', ')})`)

export function analysisRoutes(sql: Sql) {
  const app = new Hono()

  app.get('/api/analysis', (c) => {
    authorize(c, 'data.export')
    return c.json(analysisIds.map((id) => {
      const a = analyses[id]
      return { id, zh: a.zh, en: a.en, geometry: a.geometry, fields: a.fields, totalsZh: a.totalsZh, params: z.toJSONSchema(a.params, { io: 'input' }) }
    }))
  })

  app.get('/api/analysis/:name', async (c) => {
    const name = c.req.param('name')
    // Role first: someone who may not run analyses learns nothing more from a 404.
    authorize(c, 'data.export')
    if (!isAnalysisId(name)) throw unknownAnalysis(name)
    const a = analyses[name]
    const { user, unit, params, layer } = await analysisRequest(c, sql, a)
    const result = await runAnalysis(sql, user, a, layer, unit)
    c.header('Cache-Control', 'no-store')
    return c.json({ analysis: name, zh: a.zh, en: a.en, unit, params, ...result })
  })
  return app
}
