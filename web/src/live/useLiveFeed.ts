import { useCallback, useEffect, useMemo, useRef, useState } from 'react'

export interface LiveMessage {
  id: number
  kind: string
  data: Record<string, unknown>
}
export type FeedState = 'connecting' | 'live' | 'down'

export interface LiveFeed {
  state: FeedState
  /** Id of the latest event heard (0 before any). */
  lastId: number
  /** Time of the latest message or reconnect, for "data as of". */
  lastAt: number | null
  subscribe(fn: (m: LiveMessage) => void): () => void
}

/** Event kinds the server sends on /api/events (api/routes/events.ts and its writers). */
const KINDS = ['evac.order', 'evac.status', 'rain.update', 'task.item', 'report', 'reset'] as const

/**
 * One EventSource per page on /api/events. The browser reconnects by itself
 * and sends Last-Event-ID, so nothing is missed across a drop; a `reset`
 * (the gap was too long to replay) tells listeners to reload everything.
 */
export function useLiveFeed(enabled = true): LiveFeed {
  const [state, setState] = useState<FeedState>('connecting')
  const [lastId, setLastId] = useState(0)
  const [lastAt, setLastAt] = useState<number | null>(null)
  const [attempt, setAttempt] = useState(0)
  const lastIdRef = useRef(0)
  const listeners = useMemo(() => new Set<(m: LiveMessage) => void>(), [])
  useEffect(() => {
    if (!enabled) return
    // A new EventSource does not send Last-Event-ID: say where we were.
    const es = new EventSource(lastIdRef.current ? `/api/events?after=${lastIdRef.current}` : '/api/events')
    let retry: ReturnType<typeof setTimeout> | undefined
    es.addEventListener('open', () => setState('live'))
    es.addEventListener('hello', () => {
      setState('live')
      setLastAt(Date.now())
    })
    es.addEventListener('error', () => {
      if (es.readyState !== EventSource.CLOSED) return setState('connecting')
      // The browser gives up on an error status (server restarting behind a proxy…): start again ourselves.
      setState('down')
      retry = setTimeout(() => setAttempt((n) => n + 1), 5000)
    })
    for (const kind of KINDS) {
      es.addEventListener(kind, (e) => {
        const ev = e as MessageEvent<string>
        const m: LiveMessage = { id: Number(ev.lastEventId || 0), kind, data: JSON.parse(ev.data) as Record<string, unknown> }
        if (m.id) {
          lastIdRef.current = m.id
          setLastId(m.id)
        }
        setLastAt(Date.now())
        for (const fn of listeners) fn(m)
      })
    }
    return () => {
      clearTimeout(retry)
      es.close()
    }
  }, [enabled, listeners, attempt])
  // Stable across renders: a subscriber's effect must not be torn down (and its timers lost) by each event.
  const subscribe = useCallback((fn: (m: LiveMessage) => void) => {
    listeners.add(fn)
    return () => void listeners.delete(fn)
  }, [listeners])
  return useMemo(() => ({ state, lastId, lastAt, subscribe }), [state, lastId, lastAt, subscribe])
}
