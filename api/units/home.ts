import type { Sql } from '../../db/connect.ts'
import type { SessionUser } from '../auth/guard.ts'

/**
 * The user's own area (the 12-digit admin code that leads their unit code) and its extent: the command map opens
 * there, and with it in the login's answer the map is made at once, not after a round trip to /api/units.
 */
export async function homeArea(sql: Sql, user: SessionUser): Promise<{ code: string; bbox: [number, number, number, number] } | null> {
  const code = user.unitCode.slice(0, 12)
  const [home] = await sql<{ bbox: [number, number, number, number] }[]>`
    SELECT json_build_array(ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom)) AS bbox
    FROM admin_units WHERE code = ${code}`
  return home ? { code, bbox: home.bbox } : null
}
