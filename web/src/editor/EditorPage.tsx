import 'maplibre-gl/dist/maplibre-gl.css'
import './editor.css'
import { useCallback, useEffect, useRef, useState } from 'react'
import { ApiError, getJson, sendJson, type UnitSummary } from '../api.ts'
import { useAuth } from '../auth/AuthProvider.tsx'
import { useI18n } from '../i18n/index.tsx'
import { apiMessage } from '../panels/apiMessage.ts'
import { useClientConfig } from './context-layers.ts'
import { ContextToggles } from './ContextToggles.tsx'
import { GridList } from './GridList.tsx'
import { showCover, showProposal } from './cover-layers.ts'
import { bboxOf, mainPolygon } from './geometry.ts'
import { DrawHistory } from './history.ts'
import { ImportPanel } from './ImportPanel.tsx'
import { PreviewPanel } from './PreviewPanel.tsx'
import { drawPrecision, snapTarget } from './snap.ts'
import type { Change, Cover, CoverGrid, Preview, Version } from './types.ts'
import { useEditorMap } from './useEditorMap.ts'
import { VersionHistory } from './VersionHistory.tsx'

type Tool = 'reshape' | 'split' | 'add'
const EDIT_ID = 'edit'

/**
 * /editor?village=CODE: a village's grids on a map, over the command map's
 * households, hazard sites and shelters (context-layers.ts); pick one and
 * drag its vertices (terra-draw, snapping to the village edge and the other
 * grids), split it with a line, add, merge or delete; preview what the server
 * would do (households moving, counts against the guidance, problems), save
 * what was previewed, undo and redo the drawing, and restore an earlier version.
 */
export function EditorPage() {
  const { m, t, lang } = useI18n()
  const { me } = useAuth()
  const config = useClientConfig()
  const [code, setCode] = useState(() => new URLSearchParams(location.search).get('village'))
  const [noVillage, setNoVillage] = useState(false)
  const el = useRef<HTMLDivElement>(null)
  const [cover, setCover] = useState<Cover | null>(null)
  const [versions, setVersions] = useState<Version[]>([])
  const [selected, setSelected] = useState<string | null>(null)
  const [tool, setTool] = useState<Tool | null>(null)
  const [change, setChangeState] = useState<Change | null>(null)
  // The server's answer and the change it answered: only that change, previewed valid, can be saved.
  const [previewed, setPreviewed] = useState<{ change: Change; preview: Preview } | null>(null)
  // What the last action came to: a save (said plainly) or a refusal or failure (said as an error).
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null)
  const say = (text: string) => setMessage({ text, error: false })
  const [busy, setBusy] = useState(false)
  // Undo/redo of the drawing: one state of the edited polygon per finished terra-draw edit.
  const drawHistory = useRef<DrawHistory<GeoJSON.Polygon> | null>(null)
  const [, setTick] = useState(0)
  // Snapping on by default; off when a user wants a vertex exactly where they drop it.
  const [snapping, setSnapping] = useState(true)
  // When a micro-grid is picked: its grid, whose micro-grids are then snap targets too.
  const microOf = cover?.grids.find((g) => g.key === selected && g.kind === 'micro')?.parent ?? null
  const live = useRef({ cover, microOf, snapping, change })
  live.current = { cover, microOf, snapping, change }

  /** Every new or altered change drops the preview: it was of another change. */
  const setChange = useCallback((next: Change | null | ((c: Change | null) => Change | null)) => {
    setChangeState(next)
    setPreviewed(null)
  }, [])

  const base = `/api/villages/${code}/cover`
  const reload = useCallback(async () => {
    const [c, v] = await Promise.all([getJson<Cover>(base), getJson<{ versions: Version[] }>(`${base}/versions`)])
    setCover(c)
    setVersions(v.versions)
    return c
  }, [base])
  const fail = useCallback((err: unknown) => setMessage({ text: apiMessage(err, lang, m), error: true }), [lang, m])

  useEffect(() => {
    if (code) {
      reload().then((c) => {
        // ?grid=CODE (the link from a grid's record on the command map): that grid picked.
        const want = new URLSearchParams(location.search).get('grid')
        if (want && c.grids.some((g) => g.kind === 'basic' && g.key === want)) setSelected(want)
      }).catch(fail)
      return
    }
    // No village in the address: the first village of the user's own area (township staff land in their township).
    let alive = true
    firstVillage(me.user.unitCode).then((v) => {
      if (!alive) return
      if (!v) return setNoVillage(true)
      history.replaceState(null, '', `/editor?village=${v}`)
      setCode(v)
    }, () => alive && setNoVillage(true))
    return () => {
      alive = false
    }
  }, [code, reload, fail, me])

  const { mapRef, drawRef, ready: mapReady } = useEditorMap(el, !!code, config, {
    snap: (map, at) => {
      const { cover: c, snapping: on, microOf: parent } = live.current
      const p = on ? snapTarget(c, at, (q) => map.project(q), 12, parent) : undefined
      return p && drawPrecision(p)
    },
    finish: (draw, id, ctx) => {
      const f = draw.getSnapshotFeature(id)
      if (!f) return
      if (f.geometry.type === 'LineString') setChange((c) => (c?.op === 'split' ? { ...c, line: f.geometry as GeoJSON.LineString } : c))
      if (f.geometry.type === 'Polygon' && ctx.action === 'draw') {
        setChange({ op: 'add', geometry: { type: 'Polygon', coordinates: (f.geometry as GeoJSON.Polygon).coordinates } })
      }
      // Any finished edit of the grid being reshaped (a vertex dragged, inserted or deleted, the
      // polygon dragged) is one undo step. terra-draw reports each as a finish of select mode.
      if (id === EDIT_ID && ctx.action !== 'draw' && f.geometry.type === 'Polygon' && drawHistory.current) {
        const poly = structuredClone({ type: 'Polygon', coordinates: (f.geometry as GeoJSON.Polygon).coordinates }) as GeoJSON.Polygon
        if (!drawHistory.current.record(poly)) return
        setTick((n) => n + 1)
        setChange((c) => (c?.op === 'reshape' ? { ...c, geometry: poly } : c))
      }
    },
  })

  // For the browser tests: the drawing, and the editor's state.
  useEffect(() => {
    if (!mapReady || !drawRef.current) return
    ;(window as unknown as { __gridwatchEditor: unknown }).__gridwatchEditor = {
      draw: drawRef.current, ready: true,
      state: () => ({ canUndo: drawHistory.current?.canUndo ?? false, canRedo: drawHistory.current?.canRedo ?? false, change: live.current.change?.op ?? null }),
    }
  }, [mapReady, drawRef])

  // The cover on the map; fit the village once.
  const fitted = useRef(false)
  useEffect(() => {
    const map = mapRef.current
    // Waits for mapReady, not map.isStyleLoaded(): terra-draw's sources keep that false at times, and a 'load' awaited then never comes.
    if (!map || !cover || !mapReady) return
    showCover(map, cover, selected)
    if (!fitted.current) {
      map.fitBounds(bboxOf(cover.village.geom), { padding: 40, duration: 0 })
      fitted.current = true
    }
  }, [cover, selected, mapReady, mapRef])

  const preview = previewed?.preview ?? null
  useEffect(() => {
    if (mapRef.current && mapReady) showProposal(mapRef.current, preview, live.current.microOf)
  }, [preview, mapReady, mapRef])

  const clearDrawing = () => {
    const draw = drawRef.current
    if (!draw) return
    draw.clear()
    draw.setMode('select')
  }
  const pick = (g: CoverGrid) => {
    setSelected(g.key)
    setChange(null)
    setTool(null)
    clearDrawing()
  }
  const startTool = (tl: Tool) => {
    const draw = drawRef.current
    if (!draw) return
    clearDrawing()
    setTool(tl)
    setChange(null)
    drawHistory.current = null
    const g = cover?.grids.find((x) => x.key === selected)
    if (tl === 'reshape' && g) {
      const poly = mainPolygon(g.geom)
      // terra-draw keeps (and moves) the geometry it is given: hand it a copy, keep ours for undo.
      const [added] = draw.addFeatures([{ id: EDIT_ID, type: 'Feature', geometry: structuredClone(poly), properties: { mode: 'polygon' } }])
      if (!added.valid) console.warn('terra-draw refused the grid', added.reason)
      draw.selectFeature(EDIT_ID)
      drawHistory.current = new DrawHistory(poly)
      setChange({ op: 'reshape', grid: g.code, geometry: poly })
    } else if (tl === 'split' && g) {
      draw.setMode('linestring')
      setChange({ op: 'split', grid: g.code, line: null })
    } else if (tl === 'add') {
      draw.setMode('polygon')
    }
  }
  /** Puts the polygon of an undo or redo step back into terra-draw, selected for further editing. */
  const step = (direction: 'undo' | 'redo') => {
    const draw = drawRef.current
    const h = drawHistory.current
    if (!draw || !h || change?.op !== 'reshape') return
    const now = direction === 'undo' ? h.undo() : h.redo()
    if (!now) return
    draw.removeFeatures([EDIT_ID])
    const [added] = draw.addFeatures([{ id: EDIT_ID, type: 'Feature', geometry: structuredClone(now), properties: { mode: 'polygon' } }])
    if (!added.valid) console.warn('terra-draw refused the undo step', added.reason)
    draw.selectFeature(EDIT_ID)
    setChange({ ...change, geometry: now })
    setTick((n) => n + 1)
  }

  const ready = (c: Change | null): c is Change => !!c && (c.op !== 'split' || !!c.line)
  /** A reshape sends the polygon as terra-draw has it now (the drawing is the truth, not our copy). */
  const latest = (c: Change | null): Change | null => {
    const f = c?.op === 'reshape' ? drawRef.current?.getSnapshotFeature(EDIT_ID) : undefined
    return f && c?.op === 'reshape' ? { ...c, geometry: structuredClone(f.geometry) as GeoJSON.Polygon } : c
  }
  const runPreview = async (c0: Change | null = change) => {
    const c = latest(c0)
    if (!ready(c)) return
    setBusy(true)
    setMessage(null)
    // The earlier answer goes now: if this one is refused, nothing previewed is left to save.
    setPreviewed(null)
    try {
      const p = await sendJson<Preview>('POST', `${base}/preview`, { change: c })
      // Kept only while the change is still the one sent (an edit meanwhile dropped it).
      if (live.current.change === c0) setPreviewed({ change: c, preview: p })
    } catch (err) {
      fail(err)
    } finally {
      setBusy(false)
    }
  }
  /** Saves the change exactly as previewed: what the user saw is what is written. */
  const save = async () => {
    if (!previewed?.preview.valid || !cover) return
    setBusy(true)
    try {
      const r = await sendJson<{ version: number }>('POST', base, { change: previewed.change, version: cover.version })
      say(t('editor.saved', { n: r.version }))
      setChange(null)
      setTool(null)
      clearDrawing()
      await reload()
    } catch (err) {
      setPreviewed(null)
      if (err instanceof ApiError && err.status === 409) {
        const c2 = await reload()
        setMessage({ text: t('editor.conflict', { n: c2.version }), error: true })
      } else fail(err)
    } finally {
      setBusy(false)
    }
  }
  const restore = async (n: number) => {
    if (!cover) return
    setBusy(true)
    try {
      const r = await sendJson<{ version: number }>('POST', `${base}/versions/${n}/restore`, { version: cover.version })
      say(t('editor.saved', { n: r.version }))
      setChange(null)
      setTool(null)
      clearDrawing()
      await reload()
    } catch (err) {
      fail(err)
    } finally {
      setBusy(false)
    }
  }
  /** Merge and delete have nothing to draw: set and previewed at once. */
  const changeAndPreview = (c: Change) => {
    setChange(c)
    live.current.change = c
    void runPreview(c)
  }

  if (!code) return <div className="editor-page">{noVillage && <p role="alert">{m.editor.noVillage}</p>}</div>
  // The picked grid or micro-grid; its siblings are what it may merge with.
  const sel = cover?.grids.find((g) => g.key === selected)
  const siblings = (cover?.grids ?? []).filter((g) => sel && g.kind === sel.kind && g.parent === sel.parent && g.key !== sel.key)
  return (
    <div className="editor-page" data-testid="grid-editor">
      <div ref={el} className="editor-map" data-testid="editor-map" />
      <aside className="editor-panel">
        <h1>{m.editor.title}</h1>
        {cover && <p data-testid="editor-version">{cover.village.name} · {t('editor.version', { n: cover.version })}</p>}
        {message && <p role={message.error ? 'alert' : 'status'} className={message.error ? 'bad' : undefined} data-testid="editor-message">{message.text}</p>}
        <p className="hint">{m.editor.select}</p>
        <ContextToggles map={mapReady ? mapRef.current : null} hasBasemap={!!config?.basemap} />
        <GridList cover={cover} selected={selected} onPick={pick} />
        <div className="editor-tools">
          <button type="button" disabled={!sel} data-testid="tool-reshape" onClick={() => startTool('reshape')}>{m.editor.reshape}</button>
          <button type="button" disabled={!sel} data-testid="tool-split" onClick={() => startTool('split')}>{m.editor.split}</button>
          <button type="button" data-testid="tool-add" onClick={() => startTool('add')}>{m.editor.add}</button>
          <button type="button" disabled={!sel} data-testid="tool-delete" onClick={() => changeAndPreview({ op: 'delete', grid: sel!.code })}>{m.editor.remove}</button>
          {sel && (
            <label>
              {m.editor.mergeWith}
              <select data-testid="merge-with" value="" onChange={(e) => changeAndPreview({ op: 'merge', grids: [sel.code, e.target.value] })}>
                <option value="">—</option>
                {siblings.map((g) => <option key={g.key} value={g.code}>{g.name}</option>)}
              </select>
            </label>
          )}
        </div>
        {tool === 'split' && <p className="hint">{m.editor.drawLine}</p>}
        {tool === 'add' && <p className="hint">{m.editor.drawPolygon}</p>}
        <div className="editor-actions">
          <button type="button" data-testid="undo" disabled={change?.op !== 'reshape' || !drawHistory.current?.canUndo} onClick={() => step('undo')}>{m.editor.undo}</button>
          <button type="button" data-testid="redo" disabled={change?.op !== 'reshape' || !drawHistory.current?.canRedo} onClick={() => step('redo')}>{m.editor.redo}</button>
          <label className="editor-snap">
            <input type="checkbox" data-testid="snapping" checked={snapping} onChange={(e) => setSnapping(e.target.checked)} /> {m.editor.snapping}
          </label>
          <button type="button" data-testid="preview" disabled={!ready(change) || busy} onClick={() => void runPreview()}>{m.editor.preview}</button>
          <button type="button" data-testid="save" disabled={!previewed?.preview.valid || busy} onClick={() => void save()}>{m.editor.save}</button>
          <button type="button" onClick={() => { setChange(null); setTool(null); clearDrawing() }}>{m.editor.cancel}</button>
        </div>
        {previewed && cover && <PreviewPanel preview={previewed.preview} cover={cover} parent={microOf} />}
        <ImportPanel village={code} onSaved={(n) => { say(t('editor.saved', { n })); setChange(null); clearDrawing(); void reload() }} />
        <VersionHistory versions={versions} current={cover?.version} busy={busy} onRestore={(n) => void restore(n)} />
      </aside>
    </div>
  )
}

/** The first village (in code order) at or under a unit: the unit itself, else down its first children. */
async function firstVillage(unitCode: string): Promise<string | null> {
  let at = unitCode.slice(0, 12)
  for (let depth = 0; depth < 5; depth++) {
    const u = await getJson<UnitSummary>(`/api/units/${at}`)
    if (u.level === 'village') return u.code
    const next = [...u.children].sort((a, b) => a.code.localeCompare(b.code))[0]
    if (!next) return null
    at = next.code
  }
  return null
}
