import { useEffect, useState } from 'react'
import type { LiveFeed } from './useLiveFeed.ts'

/** Re-reads what the live feed says changed, at most this often (a bulk change is one event, 50 writers are 50). */
const REFRESH_MS = 500

/** A counter that steps on every evacuation event, no more often than REFRESH_MS. */
export function useEvacTicks({ subscribe }: LiveFeed): number {
  const [tick, setTick] = useState(0)
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const off = subscribe((msg) => {
      if (!msg.kind.startsWith('evac.') && msg.kind !== 'reset') return
      timer ??= setTimeout(() => {
        timer = undefined
        setTick((n) => n + 1)
      }, REFRESH_MS)
    })
    return () => {
      off()
      clearTimeout(timer)
    }
  }, [subscribe])
  return tick
}
