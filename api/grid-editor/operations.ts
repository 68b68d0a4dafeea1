import { HttpError } from '../../core/errors.ts'
import { AREA_TOLERANCE, checkInputGeometry } from './cover-problems.ts'
import { DIGITS, GRID_SIZE, settle, type Cover, type CoverGrid, type Geo, type Piece, type Q } from './cover.ts'
import type { Operation } from './input.ts'

const unknownGrid = (code: string) =>
  new HttpError(404, 'unknown_grid', `本村没有网格 ${code}`, `no grid ${code} in this village`)

/** Where a new basic grid's micro-grids come from: the old grids it was cut from. */
export interface Proposal {
  /** Basic grids (parent null) or the micro-grids of one grid (its key). */
  parent: string | null
  /** The grids of that level after the change, covering their container (the village, or the parent grid). */
  grids: Map<string, Geo>
  /** New keys → the provisional name shown in the preview. */
  names: Map<string, string>
}

/** Whether an operation is on micro-grids (17-digit codes, or an add inside a grid). */
export function microParent(cover: Cover, op: Operation): string | null {
  const first = op.op === 'merge' ? op.grids[0] : op.op === 'add' ? op.parent : op.grid
  if (!first) return null
  if (first.length === 15) return op.op === 'add' ? first : null
  const m = cover.grids.find((g) => g.kind === 'micro' && g.code === first)
  if (!m) throw unknownGrid(first)
  return m.parent
}

/**
 * One level of the village's cover after `op`: its basic grids, or the
 * micro-grids of one grid, covering the village or that grid with no gap and
 * no overlap (gw_settle_cover does the clipping and gap filling); 4xx for
 * input that cannot be applied (unknown grid, invalid or outside polygon, a
 * line that does not cut, grids that are not neighbours, micro-grids of two
 * grids).
 */
export async function propose(q: Q, cover: Cover, op: Operation): Promise<Proposal> {
  const parent = microParent(cover, op)
  const container = parent ? cover.grids.find((g) => g.key === parent && g.kind === 'basic') : undefined
  if (parent && !container) throw unknownGrid(parent)
  const siblings = cover.grids.filter((g) => (parent ? g.kind === 'micro' && g.parent === parent : g.kind === 'basic'))
  const byCode = new Map(siblings.map((g) => [g.code!, g]))
  const need = (code: string) => byCode.get(code) ?? (() => {
    throw parent && code.length === 17
      ? new HttpError(400, 'not_siblings', `微网格 ${code} 不属于网格 ${parent}，只能在同一网格内修改微网格`, `micro-grid ${code} is not of grid ${parent}: micro-grids are changed within one grid`)
      : unknownGrid(code)
  })()
  const outline = container ? container.geom : cover.village.geom
  const inside = container ? { zh: '所属网格', en: 'its grid', code: 'outside_parent' } : undefined
  const others = (skip: Set<string>): Piece[] => siblings.filter((g) => !skip.has(g.key)).map((g) => ({ key: g.key, geom: g.geom }))
  let n = 0
  const basicName = newGridNamer(cover)
  const nextName = parent ? () => `${container!.name}新微网格${++n}` : basicName
  const newKey = (i: number) => (parent ? `${parent}/new-${i}` : `new-${i}`)
  const names = new Map<string, string>()
  const what = parent ? { zh: '微网格', en: 'micro-grid' } : { zh: '网格', en: 'grid' }

  let pieces: Piece[]
  switch (op.op) {
    case 'reshape': {
      need(op.grid)
      await checkInputGeometry(q, outline, op.geometry, { zh: '新边界', en: 'the new boundary' }, inside)
      // Listed first so that the edited grid wins every overlap.
      pieces = [{ key: op.grid, geom: op.geometry, fixed: true }, ...others(new Set([op.grid]))]
      break
    }
    case 'add': {
      await checkInputGeometry(q, outline, op.geometry, { zh: `新${what.zh}`, en: `the new ${what.en}` }, inside)
      names.set(newKey(1), op.name ?? nextName())
      pieces = [{ key: newKey(1), geom: op.geometry, fixed: true }, ...others(new Set())]
      break
    }
    case 'delete': {
      need(op.grid)
      if (siblings.length < 2) {
        throw new HttpError(400, 'last_grid', parent ? `不能删除网格 ${parent} 唯一的微网格` : '不能删除村里唯一的网格',
          parent ? `cannot delete the only micro-grid of grid ${parent}` : 'cannot delete the only grid of the village')
      }
      // Its area is a gap now: settle gives it to the neighbours along the longest shared edge.
      pieces = others(new Set([op.grid]))
      break
    }
    case 'merge': {
      const codes = [...new Set(op.grids)]
      if (codes.length < 2) throw new HttpError(400, 'merge_one', `合并至少需要两个不同的${what.zh}`, `a merge needs at least two different ${what.en}s`)
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
        throw new HttpError(400, 'not_neighbours', `${what.zh} ${codes.join('、')} 不相邻，不能合并`, `${what.en}s ${codes.join(', ')} are not neighbours and cannot be merged`)
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
        throw new HttpError(400, 'line_does_not_split', `分割线没有把${what.zh} ${op.grid} 分成两块（须完全穿过${what.zh}）`,
          `the line does not cut ${what.en} ${op.grid} in two (it must cross the ${what.en} from side to side)`)
      }
      // The largest part keeps the grid's code; each other part is a new grid.
      pieces = [{ key: op.grid, geom: parts[0].geom as Geo }]
      parts.slice(1).forEach((p, i) => {
        names.set(newKey(i + 1), nextName())
        pieces.push({ key: newKey(i + 1), geom: p.geom as Geo })
      })
      pieces.push(...others(new Set([op.grid])))
      break
    }
  }
  return { parent, grids: await settle(q, outline, pieces), names }
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
        WHERE ST_Relate(ST_GeomFromGeoJSON(x ->> 'geom'), ST_GeomFromGeoJSON(${JSON.stringify(geom)}), '2********')
          -- Not the slivers an old micro-grid has across the new grid's edge (rounding between GIS
          -- programs): they would be micro-grids of no size; settle gives them to their neighbour.
          AND ST_Area(ST_Intersection(ST_GeomFromGeoJSON(x ->> 'geom'), ST_GeomFromGeoJSON(${JSON.stringify(geom)}), ${GRID_SIZE}::float8)) > ${AREA_TOLERANCE * 100}`
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
