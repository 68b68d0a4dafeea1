/**
 * GET /api/export/{layer}.{geojson|csv|gpkg|shp.zip|xlsx}?unit=CODE: a layer
 * of one area as a file, for roles with data.export inside their scope, names
 * masked as the records API masks them. Text formats stream straight from the
 * database cursor; GeoPackage and Shapefile are made on disk by GDAL first.
 * Each download holds a place (api/limits/work.ts) until its body ends, fails
 * or its client goes away; past the limits, 429.
 */
import { finished, Readable } from 'node:stream'
import { Hono, type Context } from 'hono'
import { z } from 'zod'
import { authorize, requireUser, type SessionUser } from '../auth/guard.ts'
import { queryObject } from '../validate.ts'
import { scopePrefix } from '../../core/units.ts'
import type { Sql } from '../../db/connect.ts'
import type { Reads } from '../../db/replica.ts'
import { readAfterOf } from '../edge/read-your-writes.ts'
import { auditEvent, writeTx } from '../../db/write.ts'
import { HttpError } from '../../core/errors.ts'
import { takePlace, type WorkLimiters } from '../limits/work.ts'
import { countIn, isLayerId, layerIds, layers, type Layer } from '../datasets.ts'
import { catalog, isCatalogId } from '../analysis/catalog.ts'
import { analysisRequest } from '../analysis/run.ts'
import { unknownAnalysis } from './analysis.ts'
import { gdalExport } from '../export/gdal.ts'
import { exportRows } from '../export/source.ts'
import { csvText, geojsonText } from '../export/text.ts'
import { xlsxStream } from '../export/xlsx.ts'
import { crsSuffix, exportCrsIds, type ExportCrs } from '../export/crs.ts'
import { requireUnit } from '../units/known.ts'

export const exportFormats = ['geojson', 'csv', 'gpkg', 'shp.zip', 'xlsx'] as const
type Format = (typeof exportFormats)[number]

const contentTypes: Record<Format, string> = {
  geojson: 'application/geo+json',
  csv: 'text/csv; charset=utf-8',
  gpkg: 'application/geopackage+sqlite3',
  'shp.zip': 'application/zip',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
}

const querySchema = z.strictObject({
  unit: z.string().regex(/^[0-9]{12}$/, 'a 12-digit admin code (city, county, township or village)').optional(),
  crs: z.enum(exportCrsIds).optional(),
})

/**
 * The primary pool first (the audit row of each export), then `reads`: where the rows are read (the read replica
 * when caught up, db/replica.ts; chosen once per file, so its count and rows agree. A replica lost mid-file cuts that file).
 */
export function exportRoutes(sql: Sql, reads: Reads, limits: WorkLimiters) {
  const app = new Hono()

  /** The file of a layer (a data layer or an analysis result) for a unit, with its count ahead for progress. */
  async function sendFile(c: Context, user: SessionUser, layer: Layer, format: Format, unit: string, name: string, audit: Record<string, unknown>, crs: ExportCrs = 'EPSG:4326') {
    const prefix = scopePrefix(unit)
    if (format === 'geojson' && crs !== 'EPSG:4326') {
      throw new HttpError(400, 'bad_crs', 'GeoJSON 按 RFC 7946 只用 WGS84 经纬度；其他坐标系请导出 GeoPackage、Shapefile、CSV 或 Excel',
        'GeoJSON is WGS84 longitude/latitude by RFC 7946; for another CRS export GeoPackage, Shapefile, CSV or Excel')
    }
    // The count ahead picks the pool the rows come from too (a replica that fails it is passed over for the primary).
    const count = () => reads.run(readAfterOf(c), async (rsql) => ({ rsql, headers: await headersFor(rsql, layer, format, prefix, unit, name, crsSuffix(crs)) }))
    // A HEAD takes nothing out: the headers only, no place, no audit.
    if (c.req.method === 'HEAD') return new Response(null, { status: 200, headers: (await count()).headers })
    const place = takePlace(c, limits, 'exports', user.id)
    try {
      // Who took which data out, and where: exports can carry names and phone numbers.
      await writeTx(sql, user, (tx) => auditEvent(tx, { action: 'export', table: layer.id, after: { unit, format, ...(crs === 'EPSG:4326' ? {} : { crs }), ...audit } }))
      const { rsql, headers } = await count()
      const rows = (wkt = false) => exportRows(rsql, layer, user, prefix, { wkt, crs })
      let body: Readable
      if (format === 'geojson') body = Readable.from(geojsonText(layer, rows()), { objectMode: false })
      else if (format === 'csv') body = Readable.from(csvText(layer, rows(true), { excel: true, wkt: true, crs }), { objectMode: false })
      else if (format === 'xlsx') body = xlsxStream(layer, rows(), undefined, crs)
      else {
        const made = await gdalExport(layer, rows(true), format, crs)
        headers['Content-Length'] = String(made.size)
        body = made.stream
      }
      // Read to the end, failed, or cancelled by a client gone away: the place is free again.
      finished(body, () => place.release())
      return new Response(Readable.toWeb(body) as ReadableStream, { status: 200, headers })
    } catch (e) {
      place.release()
      throw e
    }
  }

  async function headersFor(rsql: Sql, layer: Layer, format: Format, prefix: string, unit: string, name: string, suffix = '') {
    // How many features are coming, before the first: a client shows progress against it (the size is not known ahead).
    const n = await countIn(rsql, layer, prefix)
    const headers: Record<string, string> = {
      'X-Feature-Count': String(n),
      'Access-Control-Expose-Headers': 'X-Feature-Count',
      'Content-Type': contentTypes[format],
      'Content-Disposition': `attachment; filename="${name}-${unit}${suffix}.${format}"`,
      'Cache-Control': 'no-store',
    }
    return headers
  }

  const splitFile = (file: string) => /^([a-z_]+)\.(.+)$/.exec(file)
  const checkFormat = (ext: string): Format => {
    if (!exportFormats.includes(ext as Format)) {
      throw new HttpError(400, 'bad_format', `不支持的导出格式：.${ext}（可用：${exportFormats.join('、')}）`, `unsupported export format .${ext} (formats: ${exportFormats.join(', ')})`)
    }
    return ext as Format
  }

  // An analysis result as a file: the same query, parameters and masking as GET /api/analysis/{name}.
  app.get('/api/export/analysis/:file', async (c) => {
    authorize(c, 'data.export')
    const file = c.req.param('file')
    const m = splitFile(file)
    if (!m || !isCatalogId(m[1])) throw unknownAnalysis(m?.[1] ?? file)
    const format = checkFormat(m[2])
    const a = catalog[m[1]]
    const { user, unit, params, layerOn } = await analysisRequest(sql, requireUser(c), { analysis: a, query: queryObject(c) })
    // A hexagon analysis bins households read from the primary; its rows may then come from a caught-up replica.
    const layer = await layerOn(sql)
    return sendFile(c, user, layer, format, unit.code, a.id, { analysis: a.id, params })
  })

  app.get('/api/export/:file', async (c) => {
    // Role first: someone who may not export learns nothing more from a 400 or 404.
    const user = authorize(c, 'data.export')
    const file = c.req.param('file')
    const m = splitFile(file)
    if (!m || !isLayerId(m[1])) {
      throw new HttpError(404, 'unknown_layer', `没有这个图层：${file}（可用：${layerIds.join('、')}）`, `no such layer: ${file} (layers: ${layerIds.join(', ')})`)
    }
    const format = checkFormat(m[2])
    const layer = layers[m[1]]
    const q = querySchema.safeParse(queryObject(c))
    if (!q.success) {
      const where = q.error.issues.map((i) => `${i.path.join('.') || i.message}: ${i.message}`).join('; ')
      throw new HttpError(400, 'bad_input', `参数有误：${where}`, `invalid parameters: ${where}`)
    }
    // The area: the one asked for (inside the user's scope), else the user's own.
    const unit = q.data.unit ?? (user.unitCode.length === 12 ? user.unitCode : user.unitCode.slice(0, 12))
    authorize(c, 'data.export', unit)
    await requireUnit(sql, unit)
    return sendFile(c, user, layer, format, unit, layer.id, {}, q.data.crs)
  })
  return app
}
