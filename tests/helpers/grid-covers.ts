import type { Sql } from '../../db/connect.ts'
import { writeTx } from '../../db/write.ts'
import { findVillage, loadCover } from '../../api/grid-editor/cover.ts'
import { describe } from '../../api/grid-editor/preview.ts'
import { storedCover, writeCover } from '../../api/grid-editor/save.ts'

/**
 * Puts every village a suite redrew back to its seeded cover (version 0),
 * households back in their grids, as a restore through the API does. The
 * suites share one database: later ones (seed invariants, tiles) check the
 * seed as it was made.
 */
export async function restoreSeedCovers(sql: Sql) {
  const villages = await sql<{ code: string }[]>`
    SELECT DISTINCT a.code FROM grid_cover_versions v JOIN admin_units a ON a.id = v.village_id ORDER BY a.code`
  for (const { code } of villages) {
    await writeTx(sql, { id: null, username: 'test:restore', role: 'admin' }, async (tx) => {
      const village = await findVillage(tx, code, true)
      const grids = await storedCover(tx, village, 0)
      if (!grids) return
      const cover = await loadCover(tx, village)
      await writeCover(tx, cover, await describe(tx, cover, grids), { op: 'restore', version: 0 }, { exact: true })
    })
  }
}
