import { useMemo } from 'react'
import type { ProgressState } from '../map/colors.ts'
import { usePolled } from '../usePolled.ts'

interface GridProgress {
  counts: Record<ProgressState, number>
  grids: { id: number; state: ProgressState }[]
}

export interface ProgressOnMap {
  /** State per basic grid id; grids with no tasks are absent. */
  grids: Map<number, ProgressState>
  counts: Record<ProgressState, number> | null
}

const POLL_MS = 15_000

/**
 * 三查 progress per grid over the reader's whole area (the server's default
 * for no `unit`), asked for only while the map shows it: a city-wide answer
 * is one row per grid with tasks.
 */
export function useGridProgress(enabled: boolean, onError: (err: unknown) => void): ProgressOnMap {
  const r = usePolled<GridProgress>(enabled ? '/api/tasks/grid-progress' : null, POLL_MS, onError)
  return useMemo(() => ({ grids: new Map(r?.grids.map((g) => [g.id, g.state]) ?? []), counts: r?.counts ?? null }), [r])
}
