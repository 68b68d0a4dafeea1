import type { Tx } from '../../db/write.ts'
import { HttpError } from '../../core/errors.ts'
import { coverVersion, loadCover, type Cover, type CoverGrid, type Village } from './cover.ts'
import type { Preview } from './preview.ts'

export const conflict = (yours: number, current: number, last: Record<string, unknown> | undefined) =>
  Object.assign(
    new HttpError(409, 'cover_conflict', `本村网格已被他人保存（当前版本 ${current}，您编辑的版本 ${yours}），请刷新后重做修改`,
      `someone saved this village's grids meanwhile (now version ${current}, you started from ${yours}); reload and redo your change`),
    { details: { yours, current, last } },
  )

/** 409 unless the village's cover is still at `version` (the village row is locked by the caller). */
export async function expectVersion(tx: Tx, village: Village, version: number) {
  const current = await coverVersion(tx, village.id)
  if (current !== version) {
    const [last] = await tx`SELECT version, at, actor, operation, summary FROM grid_cover_versions
                            WHERE village_id = ${village.id} AND version = ${current}`
    throw conflict(version, current, last)
  }
}

/**
 * Writes a previewed cover in the caller's transaction: new grids (codes and
 * names in the seed's pattern, or the stored code on restore), moved
 * geometries, households' grid and micro-grid, grid workers and rain rows of
 * removed grids, removed grids, and the version row with the whole cover
 * before and after. Roll-ups and tile invalidation follow from the
 * households and grids triggers (migrations 002, 007).
 */
export async function writeCover(tx: Tx, before: Cover, p: Preview, operation: unknown, opts: { exact?: boolean } = {}): Promise<{ version: number; codes: Record<string, string> }> {
  const village = before.village
  if (!p.valid) {
    throw Object.assign(new HttpError(422, 'invalid_cover', `修改后的网格无效：${p.problems.map((x) => x.zh).join('；')}`,
      `the grids after the change are not valid: ${p.problems.map((x) => x.en).join('; ')}`), { details: { problems: p.problems } })
  }
  const codes: Record<string, string> = {}
  for (const g of before.grids) codes[g.key] = g.code!
  const ids = new Map<string, number>()
  for (const r of await tx`SELECT id, code FROM grids WHERE village_id = ${village.id}`) ids.set(r.code as string, r.id as number)

  // Codes for new grids: the stored one on restore when it is free, else the next number under the parent.
  const taken = new Set(ids.keys())
  const nextCode = (prefix: string, width: number) => {
    let n = Math.max(0, ...[...taken].filter((c) => c.length === prefix.length + width && c.startsWith(prefix)).map((c) => Number(c.slice(prefix.length))))
    let code: string
    do code = prefix + String(++n).padStart(width, '0')
    while (taken.has(code))
    taken.add(code)
    return code
  }
  const isCode = (g: CoverGrid) => (g.kind === 'basic' ? /^[0-9]{15}$/ : /^[0-9]{17}$/).test(g.key)

  const basic = p.grids.filter((g) => g.kind === 'basic')
  const micro = p.grids.filter((g) => g.kind === 'micro')
  const insertGrid = async (g: CoverGrid, code: string, name: string, parentId: number | null) => {
    const [r] = await tx`
      INSERT INTO grids (code, name, kind, parent_id, village_id, geom, label_point)
      SELECT ${code}, ${name}, ${g.kind}, ${parentId}, ${village.id}, ST_Multi(x), ST_PointOnSurface(x)
      FROM (SELECT ST_SetSRID(ST_GeomFromGeoJSON(${JSON.stringify(g.geom)}), 4326) AS x) s RETURNING id`
    ids.set(code, r.id as number)
    codes[g.key] = code
  }
  for (const g of basic) {
    if (ids.has(g.key)) continue
    const code = isCode(g) && !taken.has(g.key) ? (taken.add(g.key), g.key) : nextCode(village.code, 3)
    await insertGrid(g, code, g.code === g.key ? g.name : g.name || `${village.name}第${Number(code.slice(12))}网格`, null)
  }
  for (const g of micro) {
    if (ids.has(g.key)) continue
    const parentCode = codes[g.parent!]
    const parent = basic.find((b) => b.key === g.parent)!
    const code = isCode(g) && g.key.startsWith(parentCode) && !taken.has(g.key) ? (taken.add(g.key), g.key) : nextCode(parentCode, 2)
    const parentName = codes[parent.key] === parent.key || parent.code ? parent.name : parent.name
    await insertGrid(g, code, isCode(g) ? g.name : `${parentName}${Number(code.slice(15))}号微网格`, ids.get(parentCode)!)
  }

  // Moved grids (existing rows whose geometry or parent changed): the grids the preview found moved,
  // and the micro-grids of those. A grid that did not move keeps its stored geometry rather than the
  // settled copy (the same within 1e-9°): its micro-grids, kept as stored, stay inside it exactly.
  // `exact` (a restore): every grid takes the stored version's geometry, to the last digit.
  const movedGrids = new Set(p.changed)
  const parentBefore = new Map(before.grids.map((b) => [b.key, b.parent]))
  const existing = p.grids.filter((g) => ids.has(g.key) && parentBefore.has(g.key)
    && (opts.exact || movedGrids.has(g.key) || (g.parent !== null && movedGrids.has(g.parent)) || parentBefore.get(g.key) !== g.parent))
  if (existing.length) {
    await tx`
      UPDATE grids g SET geom = ST_Multi(n.geom), label_point = ST_PointOnSurface(n.geom),
             parent_id = n.parent_id, version = g.version + 1, updated_at = now()
      FROM (SELECT x ->> 'code' AS code, (x ->> 'parent_id')::int AS parent_id, ST_SetSRID(ST_GeomFromGeoJSON(x ->> 'geom'), 4326) AS geom
            FROM jsonb_array_elements(${tx.json(existing.map((g) => ({ code: g.key, parent_id: g.parent ? ids.get(codes[g.parent]) : null, geom: g.geom })) as never)}::jsonb) x) n
      WHERE g.code = n.code AND (NOT ST_Equals(g.geom, n.geom) OR g.parent_id IS DISTINCT FROM n.parent_id)`
  }

  // Households: one statement, so the roll-up trigger runs once.
  const moved = p.moves.map((m) => ({ id: m.id, grid: ids.get(codes[m.newGrid]), micro: ids.get(codes[m.newMicro]) }))
  if (moved.length) {
    await tx`
      UPDATE households h SET grid_id = (x ->> 'grid')::int, micro_grid_id = (x ->> 'micro')::int, version = h.version + 1
      FROM jsonb_array_elements(${tx.json(moved as never)}::jsonb) x WHERE h.id = (x ->> 'id')::int`
  }

  // Removed grids: their workers go to the grid now holding the removed grid's label point.
  const removed = p.removed.map((k) => ids.get(k)!).filter(Boolean)
  if (removed.length) {
    await tx`
      UPDATE grid_workers w SET grid_id = (
        SELECT n.id FROM grids n WHERE n.village_id = ${village.id} AND n.kind = o.kind AND NOT n.id = ANY(${removed}::int[])
        ORDER BY ST_Distance(n.geom, o.label_point), n.id LIMIT 1)
      FROM grids o WHERE o.id = w.grid_id AND o.id = ANY(${removed}::int[])`
    await tx`DELETE FROM rain_state WHERE kind = 'grid' AND unit_id = ANY(${removed}::int[])`.catch(() => {})
    await tx`DELETE FROM household_rollups WHERE level IN ('grid', 'micro') AND unit_id = ANY(${removed}::int[])`
    await tx`DELETE FROM grids WHERE id = ANY(${removed}::int[]) AND kind = 'micro'`
    await tx`DELETE FROM grids WHERE id = ANY(${removed}::int[])`
  }
  // Grids with no household still get a roll-up row (as refresh_household_rollups does), so they have a colour.
  await tx`INSERT INTO household_rollups (level, unit_id)
           SELECT CASE WHEN kind = 'basic' THEN 'grid' ELSE 'micro' END, id FROM grids WHERE village_id = ${village.id}
           ON CONFLICT DO NOTHING`

  const after = await loadCover(tx, village)
  const version = before.version + 1
  const summary = {
    added: p.added.map((k) => codes[k]), changed: p.changed.map((k) => codes[k]), removed: p.removed,
    households_moved: p.moves.filter((m) => m.grid !== m.newGrid).length, micro_moved: p.moves.length,
  }
  const snapshot = (c: Cover) => c.grids.map(({ code, name, kind, parent, geom }) => ({ code, name, kind, parent, geom }))
  await tx`
    INSERT INTO grid_cover_versions (village_id, version, actor, actor_id, actor_role, operation, summary, before, after)
    SELECT ${village.id}, ${version}, a ->> 'username', (a ->> 'id')::int, a ->> 'role',
           ${tx.json(operation as never)}, ${tx.json(summary as never)}, ${tx.json(snapshot(before) as never)}, ${tx.json(snapshot(after) as never)}
    FROM audit_actor() a`
  return { version, codes }
}

/** A stored version's cover (n = 0: as it was before the first save), as preview grids keyed by code. */
export async function storedCover(tx: Tx, village: Village, n: number): Promise<CoverGrid[] | null> {
  const [r] = n === 0
    ? await tx`SELECT before AS grids FROM grid_cover_versions WHERE village_id = ${village.id} AND version = 1`
    : await tx`SELECT after AS grids FROM grid_cover_versions WHERE village_id = ${village.id} AND version = ${n}`
  if (!r) return null
  return (r.grids as Omit<CoverGrid, 'key'>[]).map((g) => ({ ...g, key: g.code! }))
}
