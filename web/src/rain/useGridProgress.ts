import { useMemo } from 'react'
import type { ProgressState } from '../map/colors.ts'
import { usePolled } from '../usePolled.ts'

/** A grid's 三查 state; `missed` (its storm is over, checks left undone) is counted, not coloured. */
export type GridProgressState = ProgressState | 'missed'

/** A storm event a progress answer is about (the current one of each county, unless another was chosen). */
export interface ProgressEvent { id: number; county: string; countyName: string | null; startedAt: string; overAt: string | null }

interface GridProgress {
  counts: Record<GridProgressState, number>
  events: ProgressEvent[]
  grids: { id: number; state: GridProgressState }[]
}

export interface ProgressOnMap {
  /** State per basic grid id; grids with no tasks are absent. */
  grids: Map<number, string>
  counts: Record<GridProgressState, number> | null
  events: ProgressEvent[]
}

const POLL_MS = 15_000

/**
 * 三查 progress per grid over the reader's whole area (the server's default
 * for no `unit`), of each county's current storm event, asked for only while
 * the map shows it: a city-wide answer is one row per grid with tasks.
 */
export function useGridProgress(enabled: boolean, onError: (err: unknown) => void): ProgressOnMap {
  const r = usePolled<GridProgress>(enabled ? '/api/tasks/grid-progress' : null, POLL_MS, onError)
  return useMemo(() => ({
    grids: new Map(r?.grids.map((g) => [g.id, g.state]) ?? []),
    counts: r?.counts ?? null,
    events: r?.events ?? [],
  }), [r])
}
