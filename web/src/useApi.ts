import { useEffect, useState } from 'react'
import { ApiError, getJson } from './api.ts'

export type Loaded<T> = { state: 'idle' } | { state: 'loading' } | { state: 'ok'; data: T } | { state: 'error'; error: ApiError }

/**
 * Loads a JSON path; a newer path cancels the older request so a slow answer never overwrites a newer one.
 *
 * An answer is only ever returned for the path it was asked for: in the render where the path changes
 * the hook already says `loading`, not the previous path's data (the map flew to the area chosen before
 * because the new code was paired with the old unit's box for one render). A reload of the same path
 * (`retryKey`) keeps showing what it had until the new answer comes, so lists do not blink away and back.
 * A late answer to a request already replaced is dropped, even when it beats its abort.
 */
const idle: Loaded<never> = { state: 'idle' }
const loading: Loaded<never> = { state: 'loading' }

export function useApi<T>(path: string | null, retryKey = 0): Loaded<T> {
  const [result, setResult] = useState<{ path: string | null; loaded: Loaded<T> }>({ path: null, loaded: idle })
  useEffect(() => {
    if (!path) return setResult({ path, loaded: idle })
    const ctrl = new AbortController()
    let live = true
    setResult((r) => (r.path === path && r.loaded.state === 'ok' ? r : { path, loaded: loading }))
    getJson<T>(path, ctrl.signal).then(
      (data) => live && setResult({ path, loaded: { state: 'ok', data } }),
      (error: unknown) => {
        if (live && (error as Error).name !== 'AbortError') setResult({ path, loaded: { state: 'error', error: error as ApiError } })
      },
    )
    return () => {
      live = false
      ctrl.abort()
    }
  }, [path, retryKey])
  if (!path) return idle
  return result.path === path ? result.loaded : loading
}
