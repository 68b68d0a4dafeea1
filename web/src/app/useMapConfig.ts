import { useEffect, useState } from 'react'
import { getJson, type ClientConfig } from '../api.ts'

/**
 * /api/config for the command map: undefined while it loads (the map waits),
 * null when it could not be had — the map still runs, offline style only —
 * and the failure goes to `onError` (the problems banner).
 */
export function useMapConfig(onError: (err: unknown) => void) {
  const [config, setConfig] = useState<ClientConfig | null | undefined>(undefined)
  useEffect(() => {
    getJson<ClientConfig>('/api/config').then(setConfig, (err) => {
      setConfig(null)
      onError(err)
    })
    // Asked once, when the map opens: a language switch does not ask again.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [])
  return config
}
