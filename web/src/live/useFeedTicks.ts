import { useEffect, useState } from 'react'
import type { LiveFeed, LiveMessage } from './useLiveFeed.ts'

/** Re-reads what the live feed says changed, at most this often (a bulk change is one event, an escalation pass of 100 reports is 100). */
const REFRESH_MS = 500

/**
 * A counter that steps on every live event `matches` accepts (and on a
 * `reset`), no more often than REFRESH_MS: at once for an event after a quiet
 * spell (waiting first put half a second on every change a screen showed),
 * and once at the end of the gap for the events of a burst. `matches` is read
 * again only when `key` changes.
 */
export function useFeedTicks({ subscribe }: LiveFeed, matches: (msg: LiveMessage) => boolean, key: string): number {
  const [tick, setTick] = useState(0)
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined
    let last = 0
    const off = subscribe((msg) => {
      if (msg.kind !== 'reset' && !matches(msg)) return
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
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `key` stands for what `matches` depends on
  }, [subscribe, key])
  return tick
}
