import { useMemo } from 'react'
import { noRain, type RainOnMap } from '../map/rainStates.ts'
import { usePolled } from '../usePolled.ts'

/** How old the rain is, as the server says it for every screen (core/rules/rain-current.ts rainAsOf). */
export interface RainAge {
  asOf: string | null
  current: boolean
  ageMinutes: number | null
}

interface RainState extends RainAge {
  units: { kind: 'grid' | 'site'; id: number; colour: string | null; onAlert: boolean; current: boolean; lastColour: string | null }[]
}

/** How often the map asks for rain. */
const POLL_MS = 15_000

/**
 * Signal colours and site alerts inside `unit`, refreshed every POLL_MS.
 * Only current rain is live: a grid whose rain is stale is drawn grey
 * ('stale'), a site on stale rain gets no halo.
 */
export function useRainOnMap(unit: string, onError: (err: unknown) => void): { rain: RainOnMap; age: RainAge | null } {
  const r = usePolled<RainState>(`/api/rain/state?unit=${unit}&alert=true`, POLL_MS, onError)
  return useMemo(() => {
    if (!r) return { rain: noRain, age: null }
    const grids = new Map<number, string>()
    const sites = new Set<number>()
    for (const u of r.units) {
      if (u.kind === 'grid' && u.current && u.colour) grids.set(u.id, u.colour)
      if (u.kind === 'grid' && !u.current && u.lastColour) grids.set(u.id, 'stale')
      if (u.kind === 'site' && u.current && u.onAlert) sites.add(u.id)
    }
    return { rain: { grids, sites }, age: { asOf: r.asOf, current: r.current, ageMinutes: r.ageMinutes } }
  }, [r])
}
