import { useMemo, useRef, useState } from 'react'
import { DrawHistory } from './undo.ts'

/**
 * Undo/redo of the drawing (undo.ts) for a component: one state of the edited
 * polygon per finished terra-draw edit. The history sits in a ref because
 * terra-draw's handlers and the browser tests read it between renders; a tick
 * re-renders the undo and redo buttons whenever it moves. The returned object
 * is the same on every render.
 */
export function useDrawUndo<T>() {
  const history = useRef<DrawHistory<T> | null>(null)
  const [, setTick] = useState(0)
  return useMemo(() => {
    const moved = () => setTick((n) => n + 1)
    return {
      /** A new history starting at `initial` (a reshape begins). */
      start(initial: T) {
        history.current = new DrawHistory(initial)
      },
      /** No history: nothing is being reshaped. */
      stop() {
        history.current = null
      },
      get canUndo(): boolean {
        return history.current?.canUndo ?? false
      },
      get canRedo(): boolean {
        return history.current?.canRedo ?? false
      },
      /** A finished edit; false when there is no history or the edit left the polygon as it was. */
      record(state: T): boolean {
        if (!history.current?.record(state)) return false
        moved()
        return true
      },
      /** The state an undo or redo goes to, or undefined when there is none. */
      step(direction: 'undo' | 'redo'): T | undefined {
        const h = history.current
        const now = direction === 'undo' ? h?.undo() : h?.redo()
        if (now) moved()
        return now
      },
    }
  }, [])
}

export type DrawUndo<T> = ReturnType<typeof useDrawUndo<T>>
