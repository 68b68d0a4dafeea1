import { useMemo } from 'react'
import type { LiveFeed } from '../live/useLiveFeed.ts'
import { useApi } from '../useApi.ts'
import { reportsGeoJson } from './geojson.ts'
import type { ReportList } from './types.ts'
import { useEvery, useReportTicks } from './useReportTicks.ts'

const empty: GeoJSON.FeatureCollection = { type: 'FeatureCollection', features: [] }

/**
 * The open reports of the user's whole area as GeoJSON for the map's reports
 * layer (web/src/map/reportsLayer.ts): read from the list endpoint (at most
 * 1000, overdue and most urgent first), again on each report event and each minute.
 */
export function useReportsOnMap(enabled: boolean, scope: string, feed: LiveFeed): GeoJSON.FeatureCollection {
  const tick = useReportTicks(feed, scope)
  const minute = useEvery(60_000)
  const list = useApi<ReportList>(enabled ? `/api/reports?unit=${scope}&state=open&limit=1000` : null, tick + minute)
  const data = list.state === 'ok' ? list.data : null
  return useMemo(() => (data ? reportsGeoJson(data) : empty), [data])
}
