import { useEffect, useState } from 'react'
import { inScope } from '../../../core/units.ts'
import { useFeedTicks } from '../live/useFeedTicks.ts'
import type { LiveFeed } from '../live/useLiveFeed.ts'

/** A counter that steps when a report in `area` changes (a `report` event at a grid inside it) or the feed says to reload everything. */
export function useReportTicks(feed: LiveFeed, area: string): number {
  return useFeedTicks(feed, (msg) => msg.kind === 'report' && inScope(area, String(msg.data.unitCode ?? '')), area)
}

/** A counter that steps every `ms`: lists re-read their clocks (a report turns overdue with no event at the top level). */
export function useEvery(ms: number): number {
  const [n, setN] = useState(0)
  useEffect(() => {
    const id = setInterval(() => setN((x) => x + 1), ms)
    return () => clearInterval(id)
  }, [ms])
  return n
}
