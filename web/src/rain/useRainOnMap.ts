import { useMemo } from 'react'
import { noRain, type RainOnMap } from '../map/rainStates.ts'
import { usePolled } from '../usePolled.ts'

interface RainState {
  asOf: string | null
  units: { kind: 'grid' | 'site'; id: number; colour: string | null; onAlert: boolean }[]
}

/** How often the map asks for rain. */
const POLL_MS = 15_000

/** Signal colours and site alerts inside `unit`, refreshed every POLL_MS. */
export function useRainOnMap(unit: string, onError: (err: unknown) => void): { rain: RainOnMap; asOf: string | null } {
  const r = usePolled<RainState>(`/api/rain/state?unit=${unit}&alert=true`, POLL_MS, onError)
  return useMemo(() => {
    if (!r) return { rain: noRain, asOf: null }
    const grids = new Map<number, string>()
    const sites = new Set<number>()
    for (const u of r.units) {
      if (u.kind === 'grid' && u.colour) grids.set(u.id, u.colour)
      if (u.kind === 'site' && u.onAlert) sites.add(u.id)
    }
    return { rain: { grids, sites }, asOf: r.asOf }
  }, [r])
}
