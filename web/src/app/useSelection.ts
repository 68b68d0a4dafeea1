import { useCallback, useEffect, useMemo, useState } from 'react'
import { CITY_CODE, recordPath, type BBox, type RecordKind, type RecordTypes, type UnitSummary } from '../api.ts'
import type { Highlight } from '../map/overlay.ts'
import type { RecordRef, UrlState } from '../urlState.ts'
import { useApi } from '../useApi.ts'

/** Where a record sits, for the highlight and the "zoom to" button. */
function recordGeometry(kind: RecordKind, r: RecordTypes[RecordKind]): { geometry: GeoJSON.Geometry; bbox: BBox } {
  if (kind === 'grid') {
    const g = r as RecordTypes['grid']
    return { geometry: g.outline, bbox: g.bbox }
  }
  const p = r as { lon: number; lat: number }
  const d = 0.002
  return { geometry: { type: 'Point', coordinates: [p.lon, p.lat] }, bbox: [p.lon - d, p.lat - d, p.lon + d, p.lat + d] }
}

/**
 * The command map's selection: the chosen area and the open record (both
 * loaded, `retry` loads them again), their highlight, and where the map goes
 * (`target`): to an area once it is chosen, to a record once it is opened
 * from another, to a point a panel asks for. `home` is the area shown when
 * the address names none.
 */
export function useSelection(initial: UrlState, home: string, homeBbox?: BBox) {
  const [unitCode, setUnitCode] = useState(initial.unit ?? home)
  const [recordRef, setRecordRef] = useState<RecordRef | null>(initial.record)
  const [retryCount, setRetry] = useState(0)
  // Opening on the user's own area, whose box came with the login (/api/auth/me's `home`): the map is made there
  // at once, while the area's summary (panel, outline) is still on its way.
  const atHome = initial.record === null && (initial.unit ?? home) === home && home !== CITY_CODE && homeBbox !== undefined
  const [target, setTarget] = useState<{ bbox: BBox; maxZoom?: number } | null>(atHome ? { bbox: homeBbox, maxZoom: 14 } : null)
  // What the map goes to once it has loaded: the area just chosen, or the record just opened (a shared link
  // naming a record opens on it). One at a time: with a record open, choosing an area flew to the record.
  const [flyOnLoad, setFlyOnLoad] = useState<'unit' | 'record' | null>(
    initial.record !== null ? 'record' : !atHome && (initial.unit !== null || home !== CITY_CODE) ? 'unit' : null,
  )

  // Whether the first view is known: until the area or record the map opens on has loaded (or failed), the
  // map is not made, so that its first tiles are that view's — not the whole city's, then a flight.
  const [placed, setPlaced] = useState(flyOnLoad === null)

  const unit = useApi<UnitSummary>(`/api/units/${unitCode}`, retryCount)
  const record = useApi<RecordTypes[RecordKind]>(recordRef ? `/api/${recordPath[recordRef.kind]}/${recordRef.id}` : null, retryCount)

  // A unit chosen from the panel (or given in the URL) flies the map there once it has loaded.
  // useApi answers only for the path asked for, so these never fly to the area or record chosen before.
  useEffect(() => {
    if (flyOnLoad === 'unit' && unit.state === 'ok') {
      setTarget({ bbox: unit.data.bbox, maxZoom: 14 })
      setFlyOnLoad(null)
    }
    if (flyOnLoad === 'unit' && unit.state !== 'loading') setPlaced(true)
  }, [flyOnLoad, unit])
  useEffect(() => {
    if (flyOnLoad === 'record' && record.state === 'ok' && recordRef) {
      setTarget({ bbox: recordGeometry(recordRef.kind, record.data).bbox, maxZoom: 16 })
      setFlyOnLoad(null)
    }
    if (flyOnLoad === 'record' && record.state !== 'loading') setPlaced(true)
  }, [flyOnLoad, record, recordRef])

  const selectUnit = useCallback((code: string) => {
    setUnitCode(code)
    setFlyOnLoad('unit')
  }, [])
  const openRecord = useCallback((kind: RecordKind, id: number, fly = false) => {
    setRecordRef({ kind, id })
    if (fly) setFlyOnLoad('record')
  }, [])
  const retry = useCallback(() => setRetry((n) => n + 1), [])

  const highlight = useMemo<Highlight>(
    () => ({
      area: unit.state === 'ok' && unit.data.level !== 'city' ? unit.data.outline : null,
      record: record.state === 'ok' && recordRef ? { geometry: recordGeometry(recordRef.kind, record.data).geometry } : null,
    }),
    [unit, record, recordRef],
  )

  return {
    unitCode, unit, recordRef, record, highlight, target, placed,
    selectUnit, openRecord, retry,
    closeRecord: () => setRecordRef(null),
    /** A point a panel names (an order's household, a report's place), close up. */
    flyToPoint: (lon: number, lat: number) => setTarget({ bbox: [lon - 0.002, lat - 0.002, lon + 0.002, lat + 0.002], maxZoom: 16 }),
    /** The open record, from its panel's "zoom to" button. */
    flyToRecord: () => record.state === 'ok' && recordRef && setTarget({ bbox: recordGeometry(recordRef.kind, record.data).bbox, maxZoom: 16 }),
  }
}
