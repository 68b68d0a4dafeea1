import { useFeedTicks } from './useFeedTicks.ts'
import type { LiveFeed, LiveMessage } from './useLiveFeed.ts'

const isEvac = (msg: LiveMessage) => msg.kind.startsWith('evac.')

/** A counter that steps on every evacuation event (useFeedTicks: at once after a quiet spell, once at the end of a burst). */
export function useEvacTicks(feed: LiveFeed): number {
  return useFeedTicks(feed, isEvac, 'evac')
}
