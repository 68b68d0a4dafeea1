import { useEffect, useMemo, useState } from 'react'
import { getJson } from '../api.ts'
import { useAuth } from '../auth/AuthProvider.tsx'
import { format, useI18n } from '../i18n/index.tsx'
import { useLiveFeed } from '../live/useLiveFeed.ts'
import { rainColor } from '../map/colors.ts'
import { WallFigures, WallBottom } from './WallPanels.tsx'
import { WallMap } from './WallMap.tsx'
import { useWallHexagons } from './useWallHexagons.ts'
import { gridFill } from '../map/colors.ts'
import { chooseFocus } from './focus.ts'
import { beijing, rainNote, useWallText } from '../i18n/wall.ts'
import { SPEEDS, useLiveWall, useReplay, type StormWindow, type WallState } from './useWallState.ts'
import { ServerWorkNote } from '../app/ServerWorkNote.tsx'
import './wall.css'

/** Seconds the wall stays on one county before it moves to the worst (or the next). */
const DEFAULT_ROTATE_S = 40

/**
 * /screen: the command wall. Live by default; `?replay` (the latest storm) or
 * `?replay=<from ISO>` plays a past storm, `&speed=` 1–3600. `?unit=` a
 * smaller area than the reader's own, `?rotate=` seconds per county.
 * Needs no mouse: it follows the worst county, or rotates, by itself.
 */
export function WallPage() {
  const me = useAuth().me!
  const t = useWallText()
  const { lang, setLang, m } = useI18n()
  const params = useMemo(() => new URLSearchParams(location.search), [])
  const unit = params.get('unit') ?? me.user.unitCode.slice(0, 12)
  const replayAsked = params.has('replay')
  const speedAsked = Number(params.get('speed') ?? 600)
  const rotateS = Math.max(5, Number(params.get('rotate')) || DEFAULT_ROTATE_S)

  const [storms, setStorms] = useState<StormWindow[] | null>(null)
  useEffect(() => {
    if (replayAsked) getJson<{ storms: StormWindow[] }>(`/api/wall/storms?unit=${unit}`).then((r) => setStorms(r.storms), () => setStorms([]))
  }, [replayAsked, unit])
  const storm = useMemo(() => {
    if (!storms?.length) return null
    const from = params.get('replay')
    return storms.find((s) => from && Date.parse(s.from) <= Date.parse(from) && Date.parse(from) < Date.parse(s.to)) ?? storms[0]
  }, [storms, params])

  const feed = useLiveFeed(!replayAsked)
  const live = useLiveWall(unit, feed, !replayAsked)
  const replay = useReplay(unit, storm, clampSpeed(speedAsked), replayAsked)
  const loaded = replayAsked ? replay.loaded : live
  const state = loaded.state

  const focus = useFocus(state, rotateS)
  const hexagons = useWallHexagons(unit)
  const [clock, setClock] = useState(Date.now())
  useEffect(() => {
    const tick = setInterval(() => setClock(Date.now()), 1000)
    return () => clearInterval(tick)
  }, [])

  const banner = replayAsked
    ? (storms && !storms.length ? t.noStorms : loaded.error ? format(t.loadFailed, { msg: loaded.error }) : null)
    : feed.state === 'down' || (feed.state === 'connecting' && live.loadedAt !== null)
      ? format(t.feedDown, { time: live.loadedAt ? beijing(live.loadedAt) : '—' })
      : loaded.error ? format(t.loadFailed, { msg: loaded.error }) : null

  return (
    <div className={`wall ${replayAsked ? 'is-replay' : 'is-live'}`} data-testid="wall" lang={lang === 'zh' ? 'zh-CN' : 'en'}>
      {!replayAsked && <ServerWorkNote />}
      <header className="wall-head">
        <h1>{state?.unit.name ?? ''}{t.title}</h1>
        <span className={`wall-mode ${replayAsked ? 'replay' : feed.state}`} data-testid="wall-mode">
          {replayAsked ? t.replay : t.live}
        </span>
        <span className="wall-focus" data-testid="wall-focus">
          {focus ? format(focus.following ? t.following : t.rotating, { name: focus.name }) : ''}
        </span>
        <span className="wall-clock" data-testid="wall-clock">{beijing(replayAsked ? (state?.at ?? replay.t) : clock)}</span>
        <button className="wall-lang" onClick={() => setLang(lang === 'zh' ? 'en' : 'zh')}>{m.switchLanguage}</button>
      </header>
      {banner && <div className="wall-banner" role="alert" data-testid="wall-banner">{banner}</div>}
      <WallFigures state={state} side="left" />
      <main className="wall-center">
        <WallMap state={state} focus={focus?.bbox ?? null} hexagons={hexagons} />
        <div className={`wall-map-note${state && !state.rain.current ? ' stale' : ''}`} data-testid="wall-rain-as-of">
          {state && rainNote(t, state.rain)}
          <span className="wall-swatch" style={{ background: state && !state.rain.current ? rainColor.stale : rainColor.alert }} /> {t.sites}
          {hexagons && <><span className="wall-swatch hex" style={{ background: gridFill.red }} /> {t.hexagons}</>}
        </div>
        {replayAsked && storm && (
          <div className="wall-replay" data-testid="wall-replay">
            <button onClick={() => replay.setPlaying(!replay.playing)}>{replay.playing ? t.pause : t.play}</button>
            <input type="range" aria-label="time" min={Date.parse(storm.from)} max={Date.parse(storm.to)} step={60_000} value={replay.t}
                   onChange={(e) => replay.setT(Number(e.target.value))} />
            <label>{t.speed}
              <select value={replay.speed} onChange={(e) => replay.setSpeed(Number(e.target.value))}>
                {SPEEDS.concat(SPEEDS.includes(replay.speed as never) ? [] : [replay.speed as never]).map((s) => <option key={s} value={s}>{s}×</option>)}
              </select>
            </label>
            <span>{format(t.storm, { from: beijing(storm.from).slice(0, 11), to: beijing(storm.to).slice(0, 11) })}</span>
          </div>
        )}
      </main>
      <WallFigures state={state} side="right" />
      <WallBottom state={state} />
    </div>
  )
}

const clampSpeed = (s: number) => (Number.isFinite(s) ? Math.min(3600, Math.max(1, Math.round(s))) : 600)

/**
 * Which county the map shows: the one where things are worst, or, when all
 * is calm, each in turn; reconsidered every `rotateS` seconds so the map
 * does not jump with each event.
 */
function useFocus(state: WallState | null, rotateS: number) {
  const [turn, setTurn] = useState(0)
  useEffect(() => {
    const t = setInterval(() => setTurn((n) => n + 1), rotateS * 1000)
    return () => clearInterval(t)
  }, [rotateS])
  const counties = state?.counties
  const hasCounties = !!counties?.length
  // Not on every new state: the map moves once a turn at most.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  return useMemo(() => chooseFocus(counties ?? [], turn), [turn, hasCounties])
}
