import { useEffect, useState } from 'react'
import type { Map as MapLibreMap } from 'maplibre-gl'
import { ApiError, getJson } from '../api.ts'
import { format, useI18n } from '../i18n/index.tsx'
import { beijingToday, when } from '../i18n/when.ts'
import { showTrack } from '../map/trackLayer.ts'
import { useApi } from '../useApi.ts'

interface Patrols {
  day: string
  workers: { id: number; name: string; points: number; first: string; last: string }[]
  phases: { phase: 'before' | 'during' | 'after'; from: string; to: string; tasks: number; points: number; walked: boolean }[]
}

const clock: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit' }


/**
 * A grid's patrols in its record, for the staff up the worker's chain (issue
 * #19): whether each 三查 phase of the current storm was walked, and the grid
 * workers with a track on a chosen day, each drawn on the map on demand.
 */
export function PatrolSection({ grid, map }: { grid: string; map: MapLibreMap | null }) {
  const { m, lang } = useI18n()
  const [day, setDay] = useState(beijingToday)
  const [shown, setShown] = useState<number | null>(null)
  const [error, setError] = useState<string | null>(null)
  const patrols = useApi<Patrols>(`/api/field/patrols?grid=${grid}&day=${day}`)
  // The track leaves the map with the record (or another grid).
  useEffect(() => () => void (map && showTrack(map, null)), [map, grid])
  const errorText = (e: unknown) => (e instanceof ApiError ? (lang === 'zh' ? e.zh : e.en) : String(e))

  async function toggle(id: number) {
    if (!map) return
    setError(null)
    if (shown === id) {
      showTrack(map, null)
      return setShown(null)
    }
    try {
      const t = await getJson<{ points: { lon: number; lat: number }[] }>(`/api/field/tracks?user=${id}&day=${day}`)
      showTrack(map, t.points)
      setShown(id)
    } catch (e) {
      setError(errorText(e))
    }
  }

  return (
    <section className="patrols" data-testid="patrols">
      <h3>{m.patrol.title}</h3>
      <label className="patrol-day">
        {m.patrol.day}
        <input type="date" value={day} max={beijingToday()} onChange={(e) => {
          if (map) showTrack(map, null)
          setShown(null)
          if (/^\d{4}-\d{2}-\d{2}$/.test(e.target.value)) setDay(e.target.value)
        }} />
      </label>
      {patrols.state === 'error' && <p className="error" role="alert">{errorText(patrols.error)}</p>}
      {patrols.state === 'ok' && (
        <>
          {patrols.data.phases.length > 0 && (
            <ul className="patrol-phases" data-testid="patrol-phases">
              {patrols.data.phases.map((p) => (
                <li key={p.phase} data-walked={p.walked}>
                  <span className={`walked ${p.walked ? 'yes' : 'no'}`}>{p.walked ? '✓' : '✗'}</span>
                  {format(p.walked ? m.patrol.walked : m.patrol.notWalked, { phase: m.checks.phases[p.phase] })}
                  <span className="small">{format(m.patrol.window, { from: when(p.from, lang), to: when(p.to, lang) })}</span>
                </li>
              ))}
            </ul>
          )}
          {patrols.data.workers.length === 0
            ? <p className="small">{m.patrol.none}</p>
            : (
              <ul className="patrol-workers">
                {patrols.data.workers.map((w) => (
                  <li key={w.id}>
                    <span>{format(m.patrol.worker, { name: w.name, n: w.points, from: when(w.first, lang, clock), to: when(w.last, lang, clock) })}</span>
                    <button data-testid={`patrol-show-${w.id}`} disabled={!map} aria-pressed={shown === w.id} onClick={() => void toggle(w.id)}>
                      {shown === w.id ? m.patrol.hide : m.patrol.show}
                    </button>
                  </li>
                ))}
              </ul>
            )}
          {error && <p className="error" role="alert">{error}</p>}
        </>
      )}
    </section>
  )
}
