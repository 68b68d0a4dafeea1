/**
 * POST /api/print {unit, format, size, orientation, title?, bbox?, layers?, lang?, analysis?}
 * → 202 {id, stage, percent}; GET /api/print/{id} → progress; GET
 * /api/print/{id}/file → the PNG or PDF once done. Roles with data.export
 * (print maps are exports), `unit` in scope; only the job's owner sees it.
 * Jobs wait for a place (api/limits/work.ts): past the limits, 429.
 */
import { Hono, type Context } from 'hono'
import { z } from 'zod'
import { authorize } from '../auth/guard.ts'
import type { Sql } from '../../db/connect.ts'
import { auditEvent, writeTx } from '../../db/write.ts'
import { HttpError } from '../../core/errors.ts'
import { catalog, isCatalogId } from '../analysis/catalog.ts'
import { takePlace, type WorkLimiters } from '../limits/work.ts'
import { chromiumPath, progressOf, type PrintJobs } from '../print/render.ts'
import { readJson } from '../validate.ts'
import { printStageWords } from '../words.ts'
import { requireUnit } from '../units/known.ts'

const lon = z.number().min(-180).max(180)
const lat = z.number().min(-90).max(90)
/** The map's layer groups (web/src/map/style.ts layerGroups; the print test keeps the two lists equal). */
export const printLayerGroups = ['grids', 'microGrids', 'households', 'hazards', 'shelters', 'routes', 'labels', 'basemap', 'evacuation', 'reports'] as const

const body = z.strictObject({
  unit: z.string().regex(/^[0-9]{12}$/, 'a 12-digit admin code'),
  format: z.enum(['png', 'pdf']),
  size: z.enum(['a4', 'a3']).default('a4'),
  orientation: z.enum(['landscape', 'portrait']).default('landscape'),
  title: z.string().max(60).optional(),
  bbox: z.tuple([lon, lat, lon, lat]).refine((b) => b[0] < b[2] && b[1] < b[3], 'west < east and south < north').optional(),
  layers: z.array(z.enum(printLayerGroups)).max(printLayerGroups.length).optional(),
  lang: z.enum(['zh', 'en']).default('zh'),
  analysis: z.strictObject({ name: z.string(), params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}) }).optional(),
})

export function printRoutes(sql: Sql, jobs: PrintJobs, limits: WorkLimiters) {
  const app = new Hono()
  app.post('/api/print', async (c) => {
    authorize(c, 'data.export')
    const req = await readJson(c, body)
    const user = authorize(c, 'data.export', req.unit)
    if (req.analysis) {
      const { name, params } = req.analysis
      if (!isCatalogId(name)) throw new HttpError(400, 'bad_input', `没有这个分析：${name}`, `no such analysis: ${name}`)
      // Checked here as the analysis route will check them, so a bad parameter is a 400 now, not a failed job later.
      const p = catalog[name].params.safeParse(Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])))
      if (!p.success) {
        const where = p.error.issues.map((i: { path: PropertyKey[]; message: string }) => `${i.path.join('.')}: ${i.message}`).join('; ')
        throw new HttpError(400, 'bad_input', `分析参数有误：${where}`, `invalid analysis parameters: ${where}`)
      }
    }
    await requireUnit(sql, req.unit)
    if (!chromiumPath()) throw new HttpError(503, 'chromium_missing', '服务器未安装 Chromium，无法出图', 'Chromium is not installed on the server, so maps cannot be printed')
    if (!jobs.ready()) throw new HttpError(503, 'print_unavailable', '服务器尚未就绪，暂不能出图', 'the server is not ready to print yet')
    const place = takePlace(c, limits, 'print', user.id)
    try {
      await writeTx(sql, user, (tx) => auditEvent(tx, { action: 'export', table: 'print', after: req }))
    } catch (e) {
      place.release()
      throw e
    }
    return c.json(progressOf(jobs.start(place, user.id, req)), 202)
  })

  const own = (c: Context) => {
    const user = authorize(c, 'data.export')
    const job = jobs.get(c.req.param('id') ?? '')
    if (!job || job.userId !== user.id) throw new HttpError(404, 'not_found', '没有这个出图任务（或已过期）', 'no such print job (or it has expired)')
    return job
  }
  app.get('/api/print/:id', (c) => c.json(progressOf(own(c))))
  app.get('/api/print/:id/file', (c) => {
    const job = own(c)
    if (job.stage !== 'done') throw new HttpError(409, 'not_ready', `出图尚未完成（${printStageWords[job.stage].zh}）`, `the print is not ready (${printStageWords[job.stage].en})`)
    return new Response(new Uint8Array(job.file!), { headers: { 'Content-Type': job.type!, 'Content-Disposition': `attachment; filename="${job.name}"`, 'Cache-Control': 'no-store' } })
  })
  return app
}
