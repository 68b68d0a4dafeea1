import { useEffect, useState } from 'react'
import { getJson, type ClientConfig } from '../api.ts'

let asked: Promise<ClientConfig> | null = null

/**
 * /api/config, asked once a page: the map is made only once it is here, so it is asked for as soon as
 * this module runs — while the login form is shown (the screen's chunk is fetched then, routes.tsx; the
 * route needs no login) — and not once the map opens after the login. A failure is asked again next time.
 */
export function mapConfig(): Promise<ClientConfig> {
  asked ??= getJson<ClientConfig>('/api/config')
  asked.catch(() => (asked = null))
  return asked
}
void mapConfig().catch(() => {})

/**
 * /api/config for the command map: undefined while it loads (the map waits),
 * null when it could not be had — the map still runs, offline style only —
 * and the failure goes to `onError` (the problems banner).
 */
export function useMapConfig(onError: (err: unknown) => void) {
  const [config, setConfig] = useState<ClientConfig | null | undefined>(undefined)
  useEffect(() => {
    let current = true
    mapConfig().then((c) => current && setConfig(c), (err) => {
      if (!current) return
      setConfig(null)
      onError(err)
    })
    return () => {
      current = false
    }
    // Asked once, when the map opens: a language switch does not ask again.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [])
  return config
}
