import { useEffect, useState } from 'react'
import { getJson } from '../api.ts'
import type { ProgressState } from '../map/colors.ts'

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
const none: ProgressOnMap = { grids: new Map(), counts: null }

/**
 * 三查 progress per grid over the reader's whole area (the server's default
 * for no `unit`), asked for only while the map shows it: a city-wide answer
 * is one row per grid with tasks.
 */
export function useGridProgress(enabled: boolean, onError: (err: unknown) => void): ProgressOnMap {
  const [state, setState] = useState<ProgressOnMap>(none)
  useEffect(() => {
    if (!enabled) return
    let stopped = false
    const load = () =>
      getJson<GridProgress>('/api/tasks/grid-progress').then((r) => {
        if (!stopped) setState({ grids: new Map(r.grids.map((g) => [g.id, g.state])), counts: r.counts })
      }, onError)
    void load()
    const timer = setInterval(load, POLL_MS)
    return () => {
      stopped = true
      clearInterval(timer)
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [enabled])
  return state
}
