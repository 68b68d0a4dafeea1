import type * as maplibregl from 'maplibre-gl'
import { useEffect, useMemo, useState } from 'react'
import type { HexagonAnswer } from '../../../core/contracts/hexagons.ts'
import { HEXAGON_MAX_ZOOM, hexagonFeatures, hexagonResAtZoom } from '../map/hexagons.ts'
import { usePolled } from '../usePolled.ts'

/** The moving figures of a cell (rain, reports, transfers) are read again this often while the view is on. */
const REFRESH_MS = 60_000

/**
 * The hexagon view of the user's area while it is switched on: the resolution
 * follows the map's zoom band (map/hexagons.ts), nothing is asked for past
 * the zooms it shows at.
 */
export function useHexagons(on: boolean, unit: string, map: maplibregl.Map | null, onError: (err: unknown) => void): GeoJSON.FeatureCollection | null {
  const [zoom, setZoom] = useState<number | null>(null)
  useEffect(() => {
    if (!map) return
    const follow = () => setZoom(map.getZoom())
    follow()
    map.on('zoomend', follow)
    return () => void map.off('zoomend', follow)
  }, [map])
  const res = zoom === null || zoom >= HEXAGON_MAX_ZOOM ? null : hexagonResAtZoom(zoom)
  const answer = usePolled<HexagonAnswer>(on && res !== null ? `/api/hexagons?unit=${unit}&res=${res}` : null, REFRESH_MS, onError)
  return useMemo(() => (answer ? hexagonFeatures(answer) : null), [answer])
}
