import { useCallback, useEffect, useRef, useState } from 'react'
import type { WallState } from '../../../core/contracts/wall.ts'
import { ApiError, getJson } from '../api.ts'
import type { LiveFeed } from '../live/useLiveFeed.ts'

export type { WallState }

/** Fewest milliseconds between two requests for the figures: events come in bursts. */
const MIN_GAP_MS = 1000
/** Asked for again at least this often, live: the clock moves the rain hour and deadlines on. */
const REFRESH_MS = 30_000

export interface Loaded { state: WallState | null; error: string | null; loadedAt: number | null }

/**
 * Asks for the wall's figures at the moment `at()` gives when it is called
 * (null: now), never two requests at once and not more than once a second;
 * asks made meanwhile fold into one after the one in flight.
 */
function useThrottledState(unit: string | null, at: () => number | null) {
  const [loaded, setLoaded] = useState<Loaded>({ state: null, error: null, loadedAt: null })
  const busy = useRef(false)
  const again = useRef(false)
  const last = useRef(0)
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined)
  const alive = useRef(true)
  const atRef = useRef(at)
  atRef.current = at
  const request = useCallback(() => {
    if (!unit) return
    if (busy.current) return void (again.current = true)
    const wait = last.current + MIN_GAP_MS - Date.now()
    if (wait > 0) {
      clearTimeout(timer.current)
      timer.current = setTimeout(request, wait)
      return
    }
    busy.current = true
    last.current = Date.now()
    const t = atRef.current()
    const q = `/api/wall/state?unit=${unit}${t === null ? '' : `&at=${encodeURIComponent(new Date(t).toISOString())}`}`
    getJson<WallState>(q)
      .then((state) => alive.current && setLoaded({ state, error: null, loadedAt: Date.now() }))
      .catch((e: unknown) => alive.current && setLoaded((l) => ({ ...l, error: e instanceof ApiError || e instanceof Error ? e.message : String(e) })))
      .finally(() => {
        busy.current = false
        if (again.current) {
          again.current = false
          request()
        }
      })
  }, [unit])
  useEffect(() => {
    alive.current = true
    return () => {
      alive.current = false
      clearTimeout(timer.current)
    }
  }, [])
  return { loaded, request }
}

/** Live: now, again on every event of the feed, on its reconnecting, and every half minute. */
export function useLiveWall(unit: string | null, feed: LiveFeed, enabled: boolean): Loaded {
  const { loaded, request } = useThrottledState(unit, () => null)
  const subscribe = feed.subscribe
  useEffect(() => {
    if (!enabled) return
    request()
    const off = subscribe(() => request())
    const every = setInterval(request, REFRESH_MS)
    return () => {
      off()
      clearInterval(every)
    }
  }, [enabled, subscribe, request])
  // Back from a drop: what happened meanwhile came as events, but the figures may have moved on with the clock too.
  useEffect(() => {
    if (enabled && feed.state === 'live') request()
  }, [enabled, feed.state, request])
  return loaded
}

export interface StormWindow { from: string; to: string; counties: string[] }
export const SPEEDS = [1, 60, 300, 900, 3600] as const

export interface Replay {
  loaded: Loaded
  t: number
  playing: boolean
  speed: number
  setT(t: number): void
  setPlaying(p: boolean): void
  setSpeed(s: number): void
}

/**
 * Replay: a clock running through the storm's window at `speed` times real
 * time, starting over at the end (an unattended wall keeps showing it), and
 * the figures at each moment it reaches.
 */
export function useReplay(unit: string | null, window: StormWindow | null, initialSpeed: number, enabled: boolean): Replay {
  const from = window ? Date.parse(window.from) : 0
  const to = window ? Date.parse(window.to) : 0
  const [t, setTState] = useState(from)
  const [playing, setPlaying] = useState(true)
  const [speed, setSpeed] = useState(initialSpeed)
  const tRef = useRef(from)
  const { loaded, request } = useThrottledState(unit, () => tRef.current)
  const setT = useCallback((v: number) => {
    tRef.current = Math.min(to, Math.max(from, v))
    setTState(tRef.current)
    request()
  }, [from, to, request])
  useEffect(() => {
    if (enabled && window) setT(from)
  }, [enabled, window, from, setT])
  useEffect(() => {
    if (!enabled || !window || !playing) return
    const step = 250
    let before = performance.now()
    const clock = setInterval(() => {
      const now = performance.now()
      const next = tRef.current + (now - before) * speed
      before = now
      setT(next > to ? from : next)
    }, step)
    return () => clearInterval(clock)
  }, [enabled, window, playing, speed, from, to, setT])
  return { loaded, t, playing, speed, setT, setPlaying, setSpeed }
}
