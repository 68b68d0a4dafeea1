import { act } from './state.ts'

/** A position a minute while on patrol; sent five at a time (and what is left when the patrol ends). */
const EVERY_MS = 60_000
const PER_ACTION = 5

let watch: number | null = null
let lastAt = 0
let points: { at: string; lon: number; lat: number; accuracy?: number }[] = []

async function send() {
  if (!points.length) return
  const batch = points
  points = []
  await act({ kind: 'track', points: batch })
}

export function patrolling() {
  return watch !== null
}

/** Starts recording; `onError` when the phone will not say where it is. */
export function startPatrol(onError: () => void) {
  if (watch !== null || !('geolocation' in navigator)) return onError()
  watch = navigator.geolocation.watchPosition(
    (p) => {
      if (p.timestamp - lastAt < EVERY_MS - 5000) return
      lastAt = p.timestamp
      points.push({ at: new Date(p.timestamp).toISOString(), lon: p.coords.longitude, lat: p.coords.latitude, accuracy: Math.round(p.coords.accuracy) })
      if (points.length >= PER_ACTION) void send()
    },
    () => onError(),
    { enableHighAccuracy: true, maximumAge: 30_000 },
  )
}

export async function stopPatrol() {
  if (watch !== null) navigator.geolocation.clearWatch(watch)
  watch = null
  lastAt = 0
  await send()
}
