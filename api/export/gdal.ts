/**
 * GeoPackage and zipped Shapefile through GDAL's ogr2ogr (gdal-bin). No npm
 * writer fits: @ngageoint/geopackage needs better-sqlite3 ≥ 13 (which does not
 * run on Node 20) or else holds the whole database in memory (sql.js), and
 * shp-write builds everything in memory and writes DBF text a UTF-16 unit per
 * byte, so Chinese is lost. GDAL is the reference for both formats (.prj,
 * .cpg "UTF-8", field widths grown to fit, a .shp.zip written directly).
 *
 * The rows go to a typed CSV on disk (a .csvt names each column's type, so
 * an all-empty column keeps its type and an empty export keeps its schema),
 * then ogr2ogr converts it; the result is streamed out and the folder removed.
 * Times: GeoPackage stores them in UTC (its standard: GDAL warns on anything
 * else, readers show them in their zone); a Shapefile keeps a date without
 * time, so it gets the Beijing day from a Beijing time.
 */
import { spawn } from 'node:child_process'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { HttpError } from '../../core/errors.ts'
import type { FieldType, Layer, Row } from '../datasets.ts'
import { tableColumns } from './source.ts'
import type { ExportCrs } from './crs.ts'
import { csvText } from './text.ts'

export type GdalFormat = 'gpkg' | 'shp.zip'

const csvtType: Record<FieldType, string> = {
  integer: 'Integer', number: 'Real', string: 'String', boolean: 'Integer(Boolean)', 'date-time': 'DateTime',
}

const gdalMissing = () =>
  new HttpError(503, 'gdal_missing', '服务器未安装 GDAL（gdal-bin），无法导出 GeoPackage/Shapefile；可先导出 GeoJSON 或 CSV',
    'GDAL (gdal-bin) is not installed on the server, so GeoPackage/Shapefile exports are unavailable; GeoJSON and CSV are')

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    p.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)))
    p.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? gdalMissing() : e))
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err}`))))
  })
}

/** A DBF text field holds at most 254 bytes. */
const MAX_WIDTH = 254

/** The rows as they pass, noting the longest text of each string field. */
async function* measured(layer: Layer, batches: AsyncIterable<Row[]>, widths: Map<string, number>): AsyncGenerator<Row[]> {
  const text = layer.fields.filter((f) => f.type === 'string').map((f) => f.name)
  for await (const rows of batches) {
    for (const r of rows) {
      for (const name of text) {
        const v = r[name]
        if (v != null) widths.set(name, Math.max(widths.get(name) ?? 1, Buffer.byteLength(String(v))))
      }
    }
    yield rows
  }
}

function csvtOf(c: { name: string; type: FieldType }, widths: Map<string, number>) {
  if (c.name === 'wkt') return 'WKT'
  if (c.type === 'string') return `String(${Math.min(widths.get(c.name) ?? 1, MAX_WIDTH)})`
  return csvtType[c.type]
}

/** The file, made; its stream removes the work folder when read to the end, failed or abandoned. */
export async function gdalExport(layer: Layer, batches: AsyncIterable<Row[]>, format: GdalFormat, crs: ExportCrs = 'EPSG:4326'): Promise<{ stream: Readable; size: number }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gridwatch-export-'))
  try {
    const src = path.join(dir, `${layer.id}.csv`)
    const cols = tableColumns(layer, true, crs)
    // Each text field as wide as its longest value (in UTF-8 bytes, as a DBF counts): the .csvt, written after the rows.
    const widths = new Map<string, number>()
    await pipeline(Readable.from(csvText(layer, measured(layer, batches, widths), { excel: false, wkt: true, utc: format === 'gpkg', crs }), { objectMode: false }), createWriteStream(src))
    await writeFile(path.join(dir, `${layer.id}.csvt`), cols.map((c) => `"${csvtOf(c, widths)}"`).join(',') + '\n')
    const out = path.join(dir, format === 'gpkg' ? `${layer.id}.gpkg` : `${layer.id}.shp.zip`)
    const geom = layer.geometry === 'Point'
      ? ['-oo', `X_POSSIBLE_NAMES=${cols.at(-2)!.name}`, '-oo', `Y_POSSIBLE_NAMES=${cols.at(-1)!.name}`]
      // A line or polygon is its geometry: the point on it (lon, lat) that tables carry would only repeat it.
      : ['-oo', 'GEOM_POSSIBLE_NAMES=wkt', '-oo', 'KEEP_GEOM_COLUMNS=NO', '-nlt', layer.geometry.toUpperCase(), '-select', layer.fields.map((f) => f.name).join(',')]
    await run('ogr2ogr', [
      '-f', format === 'gpkg' ? 'GPKG' : 'ESRI Shapefile', out, src, ...geom,
      // The rows are already in the CRS (CGCS2000 has WGS84's numbers here): it is named, not transformed; .prj and srs follow.
      '-a_srs', crs, '-nln', layer.id,
      ...(format === 'gpkg' ? [] : ['-lco', 'ENCODING=UTF-8']),
    ])
    const { size } = await stat(out)
    const stream = createReadStream(out)
    stream.once('close', () => void rm(dir, { recursive: true, force: true }))
    return { stream, size }
  } catch (e) {
    await rm(dir, { recursive: true, force: true })
    throw e
  }
}
