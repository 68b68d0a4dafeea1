import { checkCover, type Problem } from './cover-problems.ts'
import { withoutJit, type Cover, type CoverGrid, type Geo, type Q } from './cover.ts'
import { changedKeys, propose, recutMicro } from './operations.ts'
import type { Operation } from './input.ts'

export interface Assignment {
  id: number
  code: string
  grid: string
  micro: string | null
  newGrid: string
  newMicro: string
}

export interface Guidance {
  basic: { min: number; max: number }
  micro: { min: number; max: number }
}

export interface GridCount {
  key: string
  kind: 'basic' | 'micro'
  parent: string | null
  before: number
  after: number
  /** 'low' / 'high' against the size guidance, 'ok' inside it. */
  size: 'low' | 'ok' | 'high'
}

export interface Preview {
  grids: CoverGrid[]
  changed: string[]
  added: string[]
  removed: string[]
  /** Households whose grid or micro-grid changes. */
  moves: Assignment[]
  /** Households moving, per (from grid → to grid). */
  flows: { from: string; to: string; households: number }[]
  counts: GridCount[]
  guidance: Guidance
  problems: Problem[]
  valid: boolean
  /** Every household's assignment after the change (the save writes these). */
  assignments: Assignment[]
}

export async function guidance(q: Q): Promise<Guidance> {
  const rows = await q`SELECT kind, min, max FROM grid_size_guidance`
  const g = Object.fromEntries(rows.map((r) => [r.kind, { min: r.min as number, max: r.max as number }]))
  return { basic: g.basic ?? { min: 60, max: 100 }, micro: g.micro ?? { min: 10, max: 30 } }
}

/**
 * Each household of the village in the grid and micro-grid of `grids` that
 * holds it. Only households of `affected` grids (old codes: moved, removed,
 * or with micro-grids re-cut) can change; the others keep theirs. A household
 * still inside its old grid keeps it (no flip on a shared edge); one that no
 * grid holds (on the village edge, within the tolerance) goes to the nearest.
 * The join runs grid by grid so PostGIS reuses each polygon's prepared form.
 */
export async function assign(q: Q, villageId: number, grids: CoverGrid[], affected: Set<string>): Promise<Assignment[]> {
  const rows = await q`
    WITH c AS MATERIALIZED (
      SELECT x ->> 'key' AS key, x ->> 'kind' AS kind, x ->> 'parent' AS parent,
             ST_SetSRID(ST_GeomFromGeoJSON(x ->> 'geom'), 4326) AS geom
      FROM jsonb_array_elements(${q.json(grids.map(({ key, kind, parent, geom }) => ({ key, kind, parent, geom })) as never)}::jsonb) x),
    h AS MATERIALIZED (
      SELECT h.id, h.code, h.geom, g.code AS grid, m.code AS micro, g.code = ANY(${[...affected]}::text[]) AS affected
      FROM households h JOIN grids g ON g.id = h.grid_id LEFT JOIN grids m ON m.id = h.micro_grid_id
      WHERE g.village_id = ${villageId}),
    hit AS (
      SELECT DISTINCT ON (h.id) h.id, c.key
      FROM c JOIN h ON h.affected AND c.kind = 'basic' AND ST_Intersects(c.geom, h.geom)
      ORDER BY h.id, c.key = h.grid DESC, c.key),
    hb AS (
      SELECT h.*, coalesce(hit.key,
        (SELECT c.key FROM c WHERE c.kind = 'basic' ORDER BY ST_Distance(c.geom, h.geom), c.key LIMIT 1)) AS new_grid
      FROM h LEFT JOIN hit ON hit.id = h.id WHERE h.affected),
    mhit AS (
      SELECT DISTINCT ON (hb.id) hb.id, c.key
      FROM c JOIN hb ON c.kind = 'micro' AND c.parent = hb.new_grid AND ST_Intersects(c.geom, hb.geom)
      ORDER BY hb.id, c.key = hb.micro DESC, c.key)
    SELECT hb.id, hb.code, hb.grid, hb.micro, hb.new_grid AS "newGrid", coalesce(mhit.key,
      (SELECT c.key FROM c WHERE c.kind = 'micro' AND c.parent = hb.new_grid ORDER BY ST_Distance(c.geom, hb.geom), c.key LIMIT 1)) AS "newMicro"
    FROM hb LEFT JOIN mhit ON mhit.id = hb.id
    UNION ALL
    SELECT id, code, grid, micro, grid, micro FROM h WHERE NOT affected
    ORDER BY 1`
  return rows as unknown as Assignment[]
}

export function sizeOf(n: number, g: { min: number; max: number }): GridCount['size'] {
  return n < g.min ? 'low' : n > g.max ? 'high' : 'ok'
}

/**
 * The cover after `op` and the grids it moves. A change of basic grids
 * settles them and re-cuts the micro-grids of the grids that moved; a change
 * of micro-grids settles those of their grid and leaves every basic grid as it is.
 */
export async function apply(q: Q, cover: Cover, op: Operation): Promise<{ grids: CoverGrid[]; changed: Set<string> }> {
  await withoutJit(q)
  const proposal = await propose(q, cover, op)
  const level = (g: CoverGrid) => (proposal.parent ? g.kind === 'micro' && g.parent === proposal.parent : g.kind === 'basic')
  const before = new Map(cover.grids.filter(level).map((g) => [g.key, g.geom]))
  const changed = await changedKeys(q, before, proposal.grids)
  const kind = proposal.parent ? 'micro' : 'basic'
  const proposed: CoverGrid[] = [...proposal.grids].map(([key, geom]) => {
    const old = cover.grids.find((g) => g.key === key)
    return old ? { ...old, geom } : { key, code: null, name: proposal.names.get(key) ?? key, kind, parent: proposal.parent, geom }
  })
  if (proposal.parent) return { grids: [...cover.grids.filter((g) => !level(g)), ...proposed], changed }
  const micro = await recutMicro(q, cover, proposal.grids, changed)
  return { grids: [...proposed, ...micro], changed }
}

/** What `op` would do to the village's cover, nothing written. */
export async function preview(q: Q, cover: Cover, op: Operation): Promise<Preview> {
  const r = await apply(q, cover, op)
  return describe(q, cover, r.grids, r.changed)
}

/** The preview of going from `cover` to `grids` (an operation's result, or a stored version for restore). */
export async function describe(q: Q, cover: Cover, grids: CoverGrid[], changed?: Set<string>): Promise<Preview> {
  await withoutJit(q)
  const beforeKeys = new Set(cover.grids.map((g) => g.key))
  const afterKeys = new Set(grids.map((g) => g.key))
  if (!changed) {
    const before = new Map(cover.grids.map((g) => [g.key, g.geom] as [string, Geo]))
    changed = await changedKeys(q, before, new Map(grids.map((g) => [g.key, g.geom])))
  }
  // Old basic grids whose households may move: moved or removed, or a micro-grid of theirs moved, went or came.
  const parentOf = new Map([...cover.grids, ...grids].map((g) => [g.key, g.parent]))
  const affected = new Set<string>()
  for (const k of [...changed, ...[...beforeKeys].filter((k) => !afterKeys.has(k))]) {
    const basicKey = parentOf.get(k) ?? k
    if (beforeKeys.has(basicKey)) affected.add(basicKey)
  }
  // Where those households can go: the affected grids, the moved and new ones, with their micro-grids.
  // Only these go to the database for the point-in-polygon (a 59-grid village's reshape: assign 117 ->
  // 69 ms in one run, the same answer; bench/grid-editor.md); every other household keeps its grid.
  const moving = new Set([...changed].map((k) => parentOf.get(k) ?? k))
  const targets = grids.filter((g) => {
    const basicKey = g.kind === 'basic' ? g.key : g.parent!
    return affected.has(basicKey) || moving.has(basicKey)
  })
  const [problems, assignments, guide] = [
    await checkCover(q, cover.village.geom, grids, moving),
    await assign(q, cover.village.id, targets, affected),
    await guidance(q),
  ]
  const moves = assignments.filter((a) => a.grid !== a.newGrid || a.micro !== a.newMicro)
  const flows = new Map<string, { from: string; to: string; households: number }>()
  for (const m of moves) {
    if (m.grid === m.newGrid) continue
    const k = `${m.grid}>${m.newGrid}`
    const f = flows.get(k) ?? { from: m.grid, to: m.newGrid, households: 0 }
    f.households++
    flows.set(k, f)
  }
  const tally = (pick: (a: Assignment) => string | null) => {
    const t = new Map<string, number>()
    for (const a of assignments) {
      const k = pick(a)
      if (k) t.set(k, (t.get(k) ?? 0) + 1)
    }
    return t
  }
  const [bg, bm, ag, am] = [tally((a) => a.grid), tally((a) => a.micro), tally((a) => a.newGrid), tally((a) => a.newMicro)]
  const counts: GridCount[] = grids.map((g) => {
    const after = (g.kind === 'basic' ? ag : am).get(g.key) ?? 0
    return { key: g.key, kind: g.kind, parent: g.parent, before: (g.kind === 'basic' ? bg : bm).get(g.key) ?? 0, after, size: sizeOf(after, guide[g.kind]) }
  })
  const hard = problems.filter((p) => p.code !== 'gap' || (p.area ?? 0) > 0)
  return {
    grids,
    changed: [...changed].filter((k) => beforeKeys.has(k)),
    added: [...afterKeys].filter((k) => !beforeKeys.has(k)),
    removed: [...beforeKeys].filter((k) => !afterKeys.has(k)),
    moves,
    flows: [...flows.values()].sort((a, b) => b.households - a.households),
    counts,
    guidance: guide,
    problems,
    valid: hard.length === 0,
    assignments,
  }
}
