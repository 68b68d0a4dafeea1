import { useEffect, useState } from 'react'
import type { LiveFeed } from './useLiveFeed.ts'

/** Re-reads what the live feed says changed, at most this often (a bulk change is one event, 50 writers are 50). */
const REFRESH_MS = 500

/**
 * A counter that steps on every evacuation event, no more often than
 * REFRESH_MS: at once for an event after a quiet spell (waiting first put
 * half a second on every change a screen showed), and once at the end of the
 * gap for the events of a burst.
 */
export function useEvacTicks({ subscribe }: LiveFeed): number {
  const [tick, setTick] = useState(0)
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined
    let last = 0
    const off = subscribe((msg) => {
      if (!msg.kind.startsWith('evac.') && msg.kind !== 'reset') return
      timer ??= setTimeout(() => {
        timer = undefined
        last = Date.now()
        setTick((n) => n + 1)
      }, Math.max(0, last + REFRESH_MS - Date.now()))
    })
    return () => {
      off()
      clearTimeout(timer)
    }
  }, [subscribe])
  return tick
}
