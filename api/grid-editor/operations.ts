import { HttpError } from '../errors.ts'
import { checkInputGeometry } from './check.ts'
import { DIGITS, GRID_SIZE, settle, type Cover, type CoverGrid, type Geo, type Piece, type Q } from './cover.ts'
import type { Operation } from './input.ts'

const unknownGrid = (code: string) =>
  new HttpError(404, 'unknown_grid', `本村没有网格 ${code}`, `no grid ${code} in this village`)

/** Where a new basic grid's micro-grids come from: the old grids it was cut from. */
export interface Proposal {
  /** The basic grids after the change, covering the village. */
  basic: Map<string, Geo>
  /** New keys → the provisional name shown in the preview. */
  names: Map<string, string>
}

/**
 * The village's basic grids after `op`, covering it with no gap and no
 * overlap (gw_settle_cover does the clipping and gap filling); 4xx for input
 * that cannot be applied (unknown grid, invalid or outside polygon, a line
 * that does not cut, grids that are not neighbours).
 */
export async function propose(q: Q, cover: Cover, op: Operation): Promise<Proposal> {
  const basics = cover.grids.filter((g) => g.kind === 'basic')
  const byCode = new Map(basics.map((g) => [g.code!, g]))
  const need = (code: string) => byCode.get(code) ?? (() => { throw unknownGrid(code) })()
  const outline = cover.village.geom
  const others = (skip: Set<string>): Piece[] => basics.filter((g) => !skip.has(g.key)).map((g) => ({ key: g.key, geom: g.geom }))
  const nextName = newGridNamer(cover)
  const names = new Map<string, string>()

  let pieces: Piece[]
  switch (op.op) {
    case 'reshape': {
      need(op.grid)
      await checkInputGeometry(q, outline, op.geometry, { zh: '新边界', en: 'the new boundary' })
      // Listed first so that the edited grid wins every overlap.
      pieces = [{ key: op.grid, geom: op.geometry, fixed: true }, ...others(new Set([op.grid]))]
      break
    }
    case 'add': {
      await checkInputGeometry(q, outline, op.geometry, { zh: '新网格', en: 'the new grid' })
      names.set('new-1', op.name ?? nextName())
      pieces = [{ key: 'new-1', geom: op.geometry, fixed: true }, ...others(new Set())]
      break
    }
    case 'delete': {
      need(op.grid)
      if (basics.length < 2) throw new HttpError(400, 'last_grid', '不能删除村里唯一的网格', 'cannot delete the only grid of the village')
      // Its area is a gap now: settle gives it to the neighbours along the longest shared edge.
      pieces = others(new Set([op.grid]))
      break
    }
    case 'merge': {
      const codes = [...new Set(op.grids)]
      if (codes.length < 2) throw new HttpError(400, 'merge_one', '合并至少需要两个不同的网格', 'a merge needs at least two different grids')
      const geoms = codes.map((c) => need(c).geom)
      // Neighbours share an edge (boundaries meet in a line), not just a corner; the set must be connected.
      const edges = await q`
        WITH g AS (SELECT i, ST_SetSRID(ST_GeomFromGeoJSON(t), 4326) AS geom FROM unnest(${geoms.map((g) => JSON.stringify(g))}::text[]) WITH ORDINALITY u(t, i))
        SELECT a.i::int AS a, b.i::int AS b FROM g a JOIN g b ON a.i < b.i AND a.geom && b.geom
        WHERE ST_Relate(a.geom, b.geom, '****1****') OR ST_Relate(a.geom, b.geom, '2********')`
      const reached = new Set([1])
      for (let grew = true; grew; ) {
        grew = false
        for (const e of edges) {
          if (reached.has(e.a as number) !== reached.has(e.b as number)) {
            reached.add(e.a as number).add(e.b as number)
            grew = true
          }
        }
      }
      if (reached.size < codes.length) {
        throw new HttpError(400, 'not_neighbours', `网格 ${codes.join('、')} 不相邻，不能合并`, `grids ${codes.join(', ')} are not neighbours and cannot be merged`)
      }
      const [m] = await q`
        SELECT ST_AsGeoJSON(ST_Union(ST_SetSRID(ST_GeomFromGeoJSON(g), 4326), ${GRID_SIZE}::float8), ${DIGITS})::json AS geom
        FROM unnest(${geoms.map((g) => JSON.stringify(g))}::text[]) g`
      pieces = [{ key: codes[0], geom: m.geom as Geo, fixed: true }, ...others(new Set(codes))]
      break
    }
    case 'split': {
      const g = need(op.grid)
      const parts = await q`
        SELECT ST_AsGeoJSON(d.geom, ${DIGITS})::json AS geom, ST_Area(d.geom) AS area
        FROM ST_Dump(ST_CollectionExtract(ST_Split(ST_SetSRID(ST_GeomFromGeoJSON(${JSON.stringify(g.geom)}), 4326),
                                                   ST_SetSRID(ST_GeomFromGeoJSON(${JSON.stringify(op.line)}), 4326)), 3)) d
        ORDER BY area DESC`
      // Parts under 1% of the grid (a sliver the grid carried, a corner the line clipped) are not new
      // grids: left out, settle gives them to whoever borders them.
      const total = parts.reduce((a, p) => a + (p.area as number), 0)
      parts.splice(0, parts.length, ...parts.filter((p) => (p.area as number) >= total / 100))
      if (parts.length < 2) {
        throw new HttpError(400, 'line_does_not_split', `分割线没有把网格 ${op.grid} 分成两块（须完全穿过网格）`,
          `the line does not cut grid ${op.grid} in two (it must cross the grid from side to side)`)
      }
      // The largest part keeps the grid's code; each other part is a new grid.
      pieces = [{ key: op.grid, geom: parts[0].geom as Geo }]
      parts.slice(1).forEach((p, i) => {
        names.set(`new-${i + 1}`, nextName())
        pieces.push({ key: `new-${i + 1}`, geom: p.geom as Geo })
      })
      pieces.push(...others(new Set([op.grid])))
      break
    }
  }
  return { basic: await settle(q, outline, pieces), names }
}

/** Names for new grids in the seed's pattern (村名第N网格), N after the highest in use. */
export function newGridNamer(cover: Cover) {
  let n = Math.max(0, ...cover.grids.filter((g) => g.kind === 'basic').map((g) => Number(g.code!.slice(12)) || 0))
  return () => `${cover.village.name}第${++n}网格`
}

/** Whether a grid's geometry moved by more than rounding (Hausdorff distance, degrees). */
export async function changedKeys(q: Q, before: Map<string, Geo>, after: Map<string, Geo>): Promise<Set<string>> {
  const pairs = [...after].filter(([k]) => before.has(k)).map(([k, g]) => ({ key: k, a: before.get(k), b: g }))
  const rows = pairs.length
    ? await q`
        SELECT x ->> 'key' AS key
        FROM jsonb_array_elements(${q.json(pairs as never)}::jsonb) x
        WHERE ST_HausdorffDistance(ST_GeomFromGeoJSON(x ->> 'a'), ST_GeomFromGeoJSON(x ->> 'b')) > 1e-8`
    : []
  const changed = new Set(rows.map((r) => r.key as string))
  for (const k of after.keys()) if (!before.has(k)) changed.add(k)
  return changed
}

/**
 * Micro-grids for the new basic cover. Grids that did not move keep theirs.
 * A moved grid keeps its own micro-grids clipped to its new shape, the area it
 * gained going to the adjacent one; a new grid gets the parts of the old
 * micro-grids now inside it as new micro-grids (their codes must start with
 * the new grid's code). A grid with none gets one micro-grid covering it.
 */
export async function recutMicro(q: Q, cover: Cover, basic: Map<string, Geo>, changed: Set<string>): Promise<CoverGrid[]> {
  const micros = cover.grids.filter((g) => g.kind === 'micro')
  const out: CoverGrid[] = []
  for (const [key, geom] of basic) {
    if (!changed.has(key)) {
      out.push(...micros.filter((m) => m.parent === key))
      continue
    }
    const isNew = !cover.grids.some((g) => g.key === key)
    let pieces: Piece[]
    if (!isNew) pieces = micros.filter((m) => m.parent === key).map((m) => ({ key: m.key, geom: m.geom }))
    else {
      const near = await q`
        SELECT x ->> 'key' AS key FROM jsonb_array_elements(${q.json(micros.map((m) => ({ key: m.key, geom: m.geom })) as never)}::jsonb) x
        WHERE ST_Relate(ST_GeomFromGeoJSON(x ->> 'geom'), ST_GeomFromGeoJSON(${JSON.stringify(geom)}), '2********')`
      const keys = new Set(near.map((r) => r.key as string))
      pieces = micros.filter((m) => keys.has(m.key)).map((m, i) => ({ key: `${key}/new-${i + 1}`, geom: m.geom }))
    }
    const settled = pieces.length ? await settle(q, geom, pieces) : new Map<string, Geo>()
    if (!settled.size) settled.set(`${key}/new-1`, geom)
    let n = 0
    for (const [mk, mg] of settled) {
      const old = micros.find((m) => m.key === mk)
      out.push(old ? { ...old, geom: mg } : { key: mk, code: null, name: `${++n}号微网格`, kind: 'micro', parent: key, geom: mg })
    }
  }
  return out
}
