import { useMemo } from 'react'
import type { HexagonAnswer, HexagonResolution } from '../../../core/contracts/hexagons.ts'
import { scopeLevel } from '../../../core/units.ts'
import { hexagonFeatures } from '../map/hexagons.ts'
import { usePolled } from '../usePolled.ts'

/** The wall's map does not zoom by hand: the resolution follows the area it shows (cells some 20–40 px on a 1080p wall). */
const resOf = { city: 6, county: 7, township: 8, village: 8, grid: 8 } as const satisfies Record<ReturnType<typeof scopeLevel>, HexagonResolution>
const REFRESH_MS = 60_000

/** The wall's area per H3 cell, read again every minute (counts move little; a failed read keeps the last). */
export function useWallHexagons(unit: string): GeoJSON.FeatureCollection | null {
  const answer = usePolled<HexagonAnswer>(`/api/hexagons?unit=${unit}&res=${resOf[scopeLevel(unit)]}`, REFRESH_MS, () => {})
  return useMemo(() => (answer ? hexagonFeatures(answer) : null), [answer])
}
