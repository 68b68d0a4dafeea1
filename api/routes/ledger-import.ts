/**
 * POST /api/import/{households|hazard_sites}: a township's own spreadsheet or
 * GIS file in, as JSON (the API takes JSON only, with the CSRF token) holding
 * the file in base64. Dry run answers the report by row and writes nothing;
 * otherwise all rows or none. Any bad row: 400 `import_invalid` with every
 * error by row number, nothing written.
 */
import { Hono } from 'hono'
import { z } from 'zod'
import { authorize } from '../auth/guard.ts'
import type { Sql } from '../../db/connect.ts'
import { errorBody } from '../../core/errors.ts'
import { readJson } from '../validate.ts'
import { hazardSpecs, householdSpecs, parseSheet } from '../ledger-import/columns.ts'
import { readFile } from '../ledger-import/read.ts'
import { runImport } from '../ledger-import/run.ts'

/** 24 MB of file, as base64 (a third more): 200,000 ledger rows fit. */
const MAX_BASE64 = 32 * 2 ** 20

const body = (formats: [string, ...string[]]) => z.strictObject({
  file: z.string().min(1).max(MAX_BASE64).regex(/^[A-Za-z0-9+/=\r\n]+$/, 'base64'),
  filename: z.string().max(200).default('upload'),
  format: z.enum(formats),
  crs: z.enum(['wgs84', 'cgcs2000', 'gcj02']),
  encoding: z.enum(['auto', 'utf-8', 'gbk']).default('auto'),
  mapping: z.record(z.string().max(60), z.string().max(100)).default({}),
  dryRun: z.boolean().default(true),
})

const kinds = {
  households: { action: 'household.edit' as const, specs: householdSpecs, schema: body(['csv', 'xlsx']) },
  hazard_sites: { action: 'grid.edit' as const, specs: hazardSpecs, schema: body(['csv', 'geojson', 'shp.zip']) },
}

export function importRoutes(sql: Sql) {
  const app = new Hono()
  for (const [target, k] of Object.entries(kinds) as [keyof typeof kinds, (typeof kinds)[keyof typeof kinds]][]) {
    app.post(`/api/import/${target}`, async (c) => {
      const user = authorize(c, k.action)
      const req = await readJson(c, k.schema)
      const sheet = await readFile(Buffer.from(req.file, 'base64'), req.format as never, req.encoding)
      const { rows, errors } = parseSheet(sheet, k.specs, req.mapping, req.crs)
      const r = await runImport(sql, user, target, rows, errors, { dryRun: req.dryRun, file: req.filename, crs: req.crs })
      if (!r.ok) {
        const n = r.errors.length
        return c.json({
          ...errorBody('import_invalid', `文件有 ${n} 处错误，未写入任何数据：${r.errors.slice(0, 3).map((e) => e.zh).join('；')}`,
            `the file has ${n} error(s); nothing was written: ${r.errors.slice(0, 3).map((e) => e.en).join('; ')}`),
          errors: r.errors,
        }, 400)
      }
      return c.json(r)
    })
  }
  return app
}
