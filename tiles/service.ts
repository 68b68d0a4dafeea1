import { hash } from 'node:crypto'
import { promisify } from 'node:util'
import { gzip as gzipCb, gzipSync } from 'node:zlib'
import type { Database } from '../db/connect.ts'
import { HttpError } from '../core/errors.ts'
import { log } from '../core/log.ts'
import { TileCache, type CachedTile, type Change } from './cache.ts'
import { encodeTile, type FeatureRow } from './encode-js.ts'
import { tileLayerByName } from './registry.ts'
import type { MvtLayer, TileLayer } from './layer-types.ts'
import { featureQuery, mvtQuery } from './sql.ts'
import { isValidTile, tileBounds3857, type TileCoord } from './tile-math.ts'

const gzip = promisify(gzipCb)
const SYNC_GZIP_BYTES = 32 * 1024
// Below this a tile goes out as it is: gzip would save under half a TCP segment and
// cost 0.05–0.1 ms of a cold tile (zlib's set-up dominates; an empty tile grew to 20 bytes).
const GZIP_MIN_BYTES = 1024

export type Encoder = 'st_asmvt' | 'js'

/** Whether this database can make MVT itself (PGlite's PostGIS has no protobuf). */
export async function detectEncoder(db: Database): Promise<Encoder> {
  try {
    await db.sql`SELECT ST_AsMVT(t) FROM (SELECT 1 AS a, ST_AsMVTGeom(ST_Point(0, 0, 3857), ST_TileEnvelope(0, 0, 0)) AS geom) t`
    return 'st_asmvt'
  } catch {
    return 'js'
  }
}

/**
 * Makes the raw (uncompressed) tile with the given encoder. The statements are
 * prepared (postgres.js keeps one per layer and zoom band on each connection):
 * parsing and planning them anew was about half the time of a small tile.
 * The benchmark's SQL reference calls this same function, so both sides run
 * them alike; `prepare: false` is there for the benchmark to show the difference.
 */
export async function renderTile(
  db: Pick<Database, 'sql'>,
  layer: TileLayer,
  t: TileCoord,
  encoder: Encoder,
  { prepare = true, now = new Date() }: { prepare?: boolean; now?: Date } = {},
): Promise<Uint8Array> {
  const params = layer.clock ? [t.z, t.x, t.y, now.toISOString()] : [t.z, t.x, t.y]
  if (encoder === 'st_asmvt') {
    const q = mvtQuery(layer, t.z)
    if (!q) return new Uint8Array(0)
    const [row] = await db.sql.unsafe(q, params, { prepare })
    return row.mvt as Uint8Array
  }
  const layers: { layer: MvtLayer; rows: FeatureRow[] }[] = []
  for (const l of layer.layers) {
    const q = featureQuery(l, t.z)
    if (q) layers.push({ layer: l, rows: (await db.sql.unsafe(q, params, { prepare })) as unknown as FeatureRow[] })
  }
  return encodeTile(layers, tileBounds3857(t))
}

export class TileService {
  readonly cache: TileCache
  private pending = new Map<string, Promise<CachedTile>>()

  constructor(
    private db: Database,
    readonly encoder: Encoder,
    cacheBytes?: number,
    /** Now, for layers whose SQL depends on it (rain: how current it is). */
    private clock: () => Date = () => new Date(),
  ) {
    this.cache = new TileCache(cacheBytes)
  }

  static async create(db: Database, opts: { cacheBytes?: number; clock?: () => Date } = {}) {
    const service = new TileService(db, await detectEncoder(db), opts.cacheBytes, opts.clock)
    await db.listen('gridwatch_tiles', (payload) => {
      try {
        const dropped = service.cache.invalidate(JSON.parse(payload) as Change[])
        log.debug(`tiles: dropped ${dropped} cached tiles`)
      } catch (err) {
        // A message we cannot read could hide a change: drop everything rather than serve stale tiles.
        log.warn('tiles: unreadable change notice, clearing the tile cache', err)
        service.cache.clear()
      }
    })
    return service
  }

  layer(name: string): TileLayer {
    const layer = tileLayerByName.get(name)
    if (!layer) {
      throw new HttpError(404, 'unknown_layer', `没有名为 "${name}" 的图层`, `no tile layer named "${name}"; layers: ${[...tileLayerByName.keys()].join(', ')}`)
    }
    return layer
  }

  /**
   * `after`: the reader's mark (a WAL position after their own write, api/edge/read-your-writes.ts), so that a
   * tile made from a replica is no older than it; the change notices this process heard are always waited for.
   */
  async tile(name: string, t: TileCoord, after?: bigint): Promise<CachedTile> {
    const layer = this.layer(name)
    if (!isValidTile(t)) {
      throw new HttpError(400, 'bad_tile', `瓦片坐标无效：${t.z}/${t.x}/${t.y}`, `invalid tile ${t.z}/${t.x}/${t.y}: z must be 0–22 and x, y within 0…2^z−1`)
    }
    const key = TileCache.key(name, t.z, t.x, t.y)
    const cached = this.cache.get(key)
    if (cached) return cached
    // Concurrent requests for the same tile share one database query, unless
    // a change came in since that query started.
    const generation = this.cache.generation
    // A reader with a mark does not take a render begun without it (it may be older than their write).
    const pendingKey = after ? `${key}@${generation}@${after}` : `${key}@${generation}`
    let p = this.pending.get(pendingKey)
    if (!p) {
      p = this.make(layer, t, after).then((tile) => {
        this.cache.set(name, t.z, t.x, t.y, tile, generation)
        return tile
      })
      p.finally(() => this.pending.delete(pendingKey)).catch(() => {})
      this.pending.set(pendingKey, p)
    }
    return p
  }

  /**
   * Rendered on the read replica when it has replayed every change notice heard (db/replica.ts): a change's
   * notice drops the tiles it touches, and the tile made again must not come from before that change, or the
   * stale tile would be cached until the next change.
   */
  private async make(layer: TileLayer, t: TileCoord, after?: bigint): Promise<CachedTile> {
    const outOfRange = t.z < layer.minzoom || t.z > layer.maxzoom
    if (outOfRange) return packTile(new Uint8Array(0))
    const now = this.clock()
    return packTile(await this.db.reads.run(after, (sql) => renderTile({ sql }, layer, t, this.encoder, { now })))
  }
}

/** The finished tile as cached and sent: gzipped unless tiny, with its ETag. */
export async function packTile(raw: Uint8Array): Promise<CachedTile> {
  const etag = `"${hash('sha1', raw, 'base64url').slice(0, 20)}"`
  if (raw.length < GZIP_MIN_BYTES) return { body: Buffer.from(raw.buffer, raw.byteOffset, raw.length), gzipped: false, etag, bytes: raw.length }
  // Level 1: a fifth of level 6's CPU for tiles a few per cent larger.
  // Small tiles (most of them) are done inline: a thread-pool round trip costs more than the compression.
  const body = raw.length < SYNC_GZIP_BYTES ? gzipSync(raw, { level: 1 }) : await gzip(raw, { level: 1 })
  return { body, gzipped: true, etag, bytes: raw.length }
}
