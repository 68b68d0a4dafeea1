import { HttpError } from '../core/errors.ts'
import { isValidTile, MAX_ZOOM, type TileCoord } from './tile-math.ts'

export interface TilePath extends TileCoord {
  layer: string
}

const PATH = /^\/tiles\/([^/?#]+)\/([^/?#]+)\/([^/?#]+)\/([^/?#]+)$/
const FILE = /^([^.]+)\.(\w+)$/
const LAYER = /^[a-z_]+$/
/** Whole numbers without leading zeros or signs; eight digits is more than any zoom's tiles. */
const NUM = /^(0|[1-9][0-9]{0,7})$/

/**
 * A tile's path, `/tiles/{layer}/{z}/{x}/{y}.mvt`, read and checked in one
 * place for both ways a tile is served (api/tile-fast-path.ts, api/routes/tiles.ts):
 * its parts, or the error that says what is wrong with it. Returned, not
 * thrown: the fast path hands such a request on to Hono without the cost of
 * an exception, and the route throws it. Whether the layer exists is the
 * tile service's to say (tiles/service.ts `layer`).
 */
export function parseTilePath(path: string): TilePath | HttpError {
  const p = PATH.exec(path)
  if (!p) return new HttpError(404, 'not_found', `没有这个瓦片地址：${path.slice(0, 100)}（应为 /tiles/{图层}/{z}/{x}/{y}.mvt）`, `not a tile path: ${path.slice(0, 100)} (expected /tiles/{layer}/{z}/{x}/{y}.mvt)`)
  const [, layer, z, x, file] = p
  const f = FILE.exec(file)
  if (!f || f[2] !== 'mvt') return new HttpError(404, 'bad_extension', `瓦片须以 .mvt 结尾：${file}`, `tiles end in .mvt, got "${file}"`)
  if (!LAYER.test(layer)) return new HttpError(404, 'unknown_layer', `没有这个图层：${layer}`, `no tile layer named "${layer}"`)
  const y = f[1]
  if (![z, x, y].every((v) => NUM.test(v))) {
    return new HttpError(400, 'bad_tile', `瓦片坐标须为非负整数：${z}/${x}/${y}`, `tile coordinates must be whole numbers ≥ 0, got ${z}/${x}/${y}`)
  }
  const t = { layer, z: Number(z), x: Number(x), y: Number(y) }
  if (!isValidTile(t)) {
    return new HttpError(400, 'bad_tile', `瓦片坐标无效：${z}/${x}/${y}`, `invalid tile ${z}/${x}/${y}: z must be 0–${MAX_ZOOM} and x, y within 0…2^z−1`)
  }
  return t
}
