import { useEffect, useState } from 'react'
import type { Position } from './visit-order.ts'

/**
 * Where the phone is, for ordering the visits — only when the worker has
 * already let the app know it (patrol, a report's position): the today screen
 * never asks by itself, a prompt at every opening would be a nuisance.
 */
export function useHere(): Position | null {
  const [here, setHere] = useState<Position | null>(null)
  useEffect(() => {
    if (!('geolocation' in navigator) || !navigator.permissions) return
    let watch: number | null = null
    let stopped = false
    void navigator.permissions.query({ name: 'geolocation' }).then((p) => {
      if (stopped || p.state !== 'granted') return
      watch = navigator.geolocation.watchPosition((pos) => setHere({ lng: pos.coords.longitude, lat: pos.coords.latitude }), () => setHere(null), { maximumAge: 60_000 })
    }, () => {})
    return () => {
      stopped = true
      if (watch !== null) navigator.geolocation.clearWatch(watch)
    }
  }, [])
  return here
}
