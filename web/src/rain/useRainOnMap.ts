import { useEffect, useState } from 'react'
import { getJson } from '../api.ts'
import { noRain, type RainOnMap } from '../map/rainStates.ts'

interface RainState {
  asOf: string | null
  units: { kind: 'grid' | 'site'; id: number; colour: string | null; onAlert: boolean }[]
}

/** How often the map asks for rain until the live feed (SSE) carries it. */
const POLL_MS = 15_000

/** Signal colours and site alerts inside `unit`, refreshed every minute. */
export function useRainOnMap(unit: string, onError: (err: unknown) => void): { rain: RainOnMap; asOf: string | null } {
  const [state, setState] = useState<{ rain: RainOnMap; asOf: string | null }>({ rain: noRain, asOf: null })
  useEffect(() => {
    let stopped = false
    const load = () =>
      getJson<RainState>(`/api/rain/state?unit=${unit}&alert=true`).then((r) => {
        if (stopped) return
        const grids = new Map<number, string>()
        const sites = new Set<number>()
        for (const u of r.units) {
          if (u.kind === 'grid' && u.colour) grids.set(u.id, u.colour)
          if (u.kind === 'site' && u.onAlert) sites.add(u.id)
        }
        setState({ rain: { grids, sites }, asOf: r.asOf })
      }, onError)
    void load()
    const timer = setInterval(load, POLL_MS)
    return () => {
      stopped = true
      clearInterval(timer)
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [unit])
  return state
}
