import { useEffect, useState } from 'react'
import { getJson } from './api.ts'

/**
 * A JSON path asked for now and every `everyMs` while `path` is set (null
 * stops it); an answer that comes after the path changed is dropped.
 */
export function usePolled<T>(path: string | null, everyMs: number, onError: (err: unknown) => void): T | null {
  const [data, setData] = useState<T | null>(null)
  useEffect(() => {
    if (!path) return setData(null)
    let stopped = false
    const load = () => getJson<T>(path).then((r) => void (stopped || setData(r)), onError)
    void load()
    const timer = setInterval(load, everyMs)
    return () => {
      stopped = true
      clearInterval(timer)
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [path, everyMs])
  return data
}
