import { useEffect, useState } from 'react'
import { ApiError, getJson } from './api.ts'

export type Loaded<T> = { state: 'idle' } | { state: 'loading' } | { state: 'ok'; data: T } | { state: 'error'; error: ApiError }

/** Loads a JSON path; a newer path cancels the older request so a slow answer never overwrites a newer one. */
export function useApi<T>(path: string | null, retryKey = 0): Loaded<T> {
  const [result, setResult] = useState<Loaded<T>>({ state: 'idle' })
  useEffect(() => {
    if (!path) return setResult({ state: 'idle' })
    const ctrl = new AbortController()
    setResult({ state: 'loading' })
    getJson<T>(path, ctrl.signal).then(
      (data) => setResult({ state: 'ok', data }),
      (error: unknown) => {
        if ((error as Error).name !== 'AbortError') setResult({ state: 'error', error: error as ApiError })
      },
    )
    return () => ctrl.abort()
  }, [path, retryKey])
  return result
}
