import type { WallState } from './useWallState.ts'

export interface Focus { code: string; name: string; bbox: [number, number, number, number]; following: boolean }

/**
 * Which county the wall shows on its `turn`-th look: the one where things are
 * worst when anything is wrong anywhere (the first such on a tie, so the map
 * does not flip between equals), else each county in turn.
 */
export function chooseFocus(counties: WallState['counties'], turn: number): Focus | null {
  if (!counties.length) return null
  const worst = counties.reduce((a, b) => (b.severity > a.severity ? b : a))
  const c = worst.severity > 0 ? worst : counties[turn % counties.length]
  return { code: c.code, name: c.name, bbox: c.bbox, following: worst.severity > 0 }
}
