import { useCallback, useRef, useState, type RefObject } from 'react'
import type { TerraDraw } from 'terra-draw'
import { ApiError, sendJson } from '../api.ts'
import { useI18n } from '../i18n/index.tsx'
import type { FinishContext } from './useEditorMap.ts'
import { mainPolygon } from './geometry.ts'
import type { Change, Cover, Preview } from './types.ts'
import type { DrawUndo } from './useDrawUndo.ts'
import type { EditorMessages } from './useEditorMessage.ts'

export type Tool = 'reshape' | 'split' | 'add'
/** terra-draw's id of the grid being reshaped. */
export const EDIT_ID = 'edit'

/** A change the server can be asked about: a split needs its line drawn first. */
export const readyChange = (c: Change | null): c is Change => !!c && (c.op !== 'split' || !!c.line)

interface Options {
  /** The village's cover route, /api/villages/{code}/cover. */
  base: string
  cover: Cover | null
  /** The picked grid's key. */
  selected: string | null
  reload(): Promise<Cover>
  drawRef: RefObject<TerraDraw | null>
  undo: DrawUndo<GeoJSON.Polygon>
  said: EditorMessages
}

/**
 * The change being made to the cover: the tool in hand, the change drawn
 * with it, the server's preview of it, and the actions on it (start a tool,
 * take in what terra-draw finished, step undo/redo, preview, save, restore a
 * version, cancel). Only the change the preview answered, previewed valid,
 * can be saved.
 */
export function useCoverChange({ base, cover, selected, reload, drawRef, undo, said }: Options) {
  const { t } = useI18n()
  const [tool, setTool] = useState<Tool | null>(null)
  const [change, setChangeState] = useState<Change | null>(null)
  // The server's answer and the change it answered: only that change, previewed valid, can be saved.
  const [previewed, setPreviewed] = useState<{ change: Change; preview: Preview } | null>(null)
  const [busy, setBusy] = useState(false)
  // The change as of now, for a preview answered after the user edited on, and for the browser tests.
  const changeRef = useRef(change)
  changeRef.current = change

  /** Every new or altered change drops the preview: it was of another change. */
  const setChange = useCallback((next: Change | null | ((c: Change | null) => Change | null)) => {
    setChangeState(next)
    setPreviewed(null)
  }, [])

  const clearDrawing = () => {
    const draw = drawRef.current
    if (!draw) return
    draw.clear()
    draw.setMode('select')
  }
  /** Nothing in hand: no change, no tool, nothing drawn. */
  const cancel = () => {
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
    undo.stop()
    const g = cover?.grids.find((x) => x.key === selected)
    if (tl === 'reshape' && g) {
      const poly = mainPolygon(g.geom)
      // terra-draw keeps (and moves) the geometry it is given: hand it a copy, keep ours for undo.
      const [added] = draw.addFeatures([{ id: EDIT_ID, type: 'Feature', geometry: structuredClone(poly), properties: { mode: 'polygon' } }])
      if (!added.valid) console.warn('terra-draw refused the grid', added.reason)
      draw.selectFeature(EDIT_ID)
      undo.start(poly)
      setChange({ op: 'reshape', grid: g.code, geometry: poly })
    } else if (tl === 'split' && g) {
      draw.setMode('linestring')
      setChange({ op: 'split', grid: g.code, line: null })
    } else if (tl === 'add') {
      draw.setMode('polygon')
    }
  }

  /** terra-draw finished a line, a polygon or an edit: it becomes (part of) the change. */
  const drawn = (draw: TerraDraw, id: string, ctx: FinishContext) => {
    const f = draw.getSnapshotFeature(id)
    if (!f) return
    if (f.geometry.type === 'LineString') setChange((c) => (c?.op === 'split' ? { ...c, line: f.geometry as GeoJSON.LineString } : c))
    if (f.geometry.type === 'Polygon' && ctx.action === 'draw') {
      setChange({ op: 'add', geometry: { type: 'Polygon', coordinates: (f.geometry as GeoJSON.Polygon).coordinates } })
    }
    // Any finished edit of the grid being reshaped (a vertex dragged, inserted or deleted, the
    // polygon dragged) is one undo step. terra-draw reports each as a finish of select mode.
    if (id === EDIT_ID && ctx.action !== 'draw' && f.geometry.type === 'Polygon') {
      const poly = structuredClone({ type: 'Polygon', coordinates: (f.geometry as GeoJSON.Polygon).coordinates }) as GeoJSON.Polygon
      if (!undo.record(poly)) return
      setChange((c) => (c?.op === 'reshape' ? { ...c, geometry: poly } : c))
    }
  }

  /** Puts the polygon of an undo or redo step back into terra-draw, selected for further editing. */
  const step = (direction: 'undo' | 'redo') => {
    const draw = drawRef.current
    if (!draw || change?.op !== 'reshape') return
    const now = undo.step(direction)
    if (!now) return
    draw.removeFeatures([EDIT_ID])
    const [added] = draw.addFeatures([{ id: EDIT_ID, type: 'Feature', geometry: structuredClone(now), properties: { mode: 'polygon' } }])
    if (!added.valid) console.warn('terra-draw refused the undo step', added.reason)
    draw.selectFeature(EDIT_ID)
    setChange({ ...change, geometry: now })
  }

  /** A reshape sends the polygon as terra-draw has it now (the drawing is the truth, not our copy). */
  const latest = (c: Change | null): Change | null => {
    const f = c?.op === 'reshape' ? drawRef.current?.getSnapshotFeature(EDIT_ID) : undefined
    return f && c?.op === 'reshape' ? { ...c, geometry: structuredClone(f.geometry) as GeoJSON.Polygon } : c
  }
  const runPreview = async (c0: Change | null = change) => {
    const c = latest(c0)
    if (!readyChange(c)) return
    setBusy(true)
    said.clear()
    // The earlier answer goes now: if this one is refused, nothing previewed is left to save.
    setPreviewed(null)
    try {
      const p = await sendJson<Preview>('POST', `${base}/preview`, { change: c })
      // Kept only while the change is still the one sent (an edit meanwhile dropped it).
      if (changeRef.current === c0) setPreviewed({ change: c, preview: p })
    } catch (err) {
      said.fail(err)
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
      said.say(t('editor.saved', { n: r.version }))
      cancel()
      await reload()
    } catch (err) {
      setPreviewed(null)
      if (err instanceof ApiError && err.status === 409) {
        const c2 = await reload()
        said.warn(t('editor.conflict', { n: c2.version }))
      } else said.fail(err)
    } finally {
      setBusy(false)
    }
  }
  const restore = async (n: number) => {
    if (!cover) return
    setBusy(true)
    try {
      const r = await sendJson<{ version: number }>('POST', `${base}/versions/${n}/restore`, { version: cover.version })
      said.say(t('editor.saved', { n: r.version }))
      cancel()
      await reload()
    } catch (err) {
      said.fail(err)
    } finally {
      setBusy(false)
    }
  }
  /** Merge and delete have nothing to draw: set and previewed at once. */
  const changeAndPreview = (c: Change) => {
    setChange(c)
    changeRef.current = c
    void runPreview(c)
  }
  /** Grids came from a file (ImportPanel) and were saved as version n. */
  const imported = (n: number) => {
    said.say(t('editor.saved', { n }))
    setChange(null)
    clearDrawing()
    void reload()
  }

  return {
    tool, change, changeRef, previewed, busy,
    cancel, startTool, drawn, step, runPreview, save, restore, changeAndPreview, imported,
  }
}
