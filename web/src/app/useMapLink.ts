import type * as maplibregl from 'maplibre-gl'
import { useState } from 'react'
import type { BBox } from '../api.ts'

/**
 * What the panels need of the map: the map itself (for an area drawn on it),
 * whether a drawing is under way (while drawing, clicks there open nothing),
 * and its current view (what a print prints).
 */
export function useMapLink() {
  const [map, setMap] = useState<maplibregl.Map | null>(null)
  const [drawing, setDrawing] = useState(false)
  const [view, setView] = useState<BBox | null>(null)
  return { map, setMap, drawing, setDrawing, view, setView }
}
