import 'maplibre-gl/dist/maplibre-gl.css'
import './editor.css'
import * as maplibregl from 'maplibre-gl'
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?worker&url'
import { useCallback, useEffect, useRef, useState } from 'react'
import { TerraDraw, TerraDrawLineStringMode, TerraDrawPolygonMode, TerraDrawSelectMode } from 'terra-draw'
import { TerraDrawMapLibreGLAdapter } from 'terra-draw-maplibre-gl-adapter'
import { ApiError, getJson, sendJson, type UnitSummary } from '../api.ts'
import { useAuth } from '../auth/AuthProvider.tsx'
import { useI18n } from '../i18n/index.tsx'
import { apiMessage } from '../panels/apiMessage.ts'
import { DrawHistory } from './history.ts'
import { ImportPanel } from './ImportPanel.tsx'
import { drawPrecision, snapTarget } from './snap.ts'
import type { Change, Cover, CoverGrid, Preview, Version } from './types.ts'
import { when } from '../i18n/when.ts'
import { resolveRelativeUrls } from '../map/resolve-url.ts'

maplibregl.setWorkerUrl(workerUrl)

type Tool = 'reshape' | 'split' | 'add'
const EDIT_ID = 'edit'

/** Outer ring of the largest polygon of a (Multi)Polygon: what the user drags. */
function mainPolygon(g: GeoJSON.Polygon | GeoJSON.MultiPolygon): GeoJSON.Polygon {
  const round = (r: GeoJSON.Position[]) => r.map(drawPrecision)
  if (g.type === 'Polygon') return { type: 'Polygon', coordinates: [round(g.coordinates[0])] }
  const area = (r: GeoJSON.Position[]) => Math.abs(r.reduce((a, p, i) => a + (i ? (r[i - 1][0] * p[1] - p[0] * r[i - 1][1]) : 0), 0))
  const best = [...g.coordinates].sort((a, b) => area(b[0]) - area(a[0]))[0]
  return { type: 'Polygon', coordinates: [round(best[0])] }
}

const bboxOf = (g: GeoJSON.Geometry): [number, number, number, number] => {
  const b = [180, 90, -180, -90]
  const walk = (c: unknown): void => {
    if (typeof (c as number[])[0] === 'number') {
      const [x, y] = c as number[]
      b[0] = Math.min(b[0], x); b[1] = Math.min(b[1], y); b[2] = Math.max(b[2], x); b[3] = Math.max(b[3], y)
    } else (c as unknown[]).forEach(walk)
  }
  walk((g as GeoJSON.Polygon).coordinates)
  return b as [number, number, number, number]
}

/**
 * /editor?village=CODE: a village's grids on a map; pick one and drag its
 * vertices (terra-draw, snapping to the village edge and the other grids),
 * split it with a line, add, merge or delete; preview what the server would
 * do (households moving, counts against the guidance, problems), save, undo
 * and redo the drawing, and restore an earlier version.
 */
export function EditorPage() {
  const { m, t, lang } = useI18n()
  const { me } = useAuth()
  const [code, setCode] = useState(() => new URLSearchParams(location.search).get('village'))
  const [noVillage, setNoVillage] = useState(false)
  const el = useRef<HTMLDivElement>(null)
  const mapRef = useRef<maplibregl.Map | null>(null)
  const drawRef = useRef<TerraDraw | null>(null)
  const coverRef = useRef<Cover | null>(null)
  const [cover, setCover] = useState<Cover | null>(null)
  const [versions, setVersions] = useState<Version[]>([])
  const [selected, setSelected] = useState<string | null>(null)
  // When a micro-grid is picked: its grid, whose micro-grids are then snap targets too.
  const microOfRef = useRef<string | null>(null)
  const [tool, setTool] = useState<Tool | null>(null)
  const [change, setChange] = useState<Change | null>(null)
  const [preview, setPreview] = useState<Preview | null>(null)
  const [message, setMessage] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  // The map's sources exist (set once, on the map's load event).
  const [mapReady, setMapReady] = useState(false)
  // Undo/redo of the drawing: one state of the edited polygon per finished terra-draw edit.
  const drawHistory = useRef<DrawHistory<GeoJSON.Polygon> | null>(null)
  const [, setTick] = useState(0)
  // Snapping on by default; off when a user wants a vertex exactly where they drop it.
  const [snapping, setSnapping] = useState(true)
  const snappingRef = useRef(true)
  snappingRef.current = snapping
  coverRef.current = cover
  microOfRef.current = cover?.grids.find((g) => g.key === selected && g.kind === 'micro')?.parent ?? null
  const changeRef = useRef<Change | null>(null)
  changeRef.current = change

  const base = `/api/villages/${code}/cover`
  const reload = useCallback(async () => {
    const [c, v] = await Promise.all([getJson<Cover>(base), getJson<{ versions: Version[] }>(`${base}/versions`)])
    setCover(c)
    setVersions(v.versions)
    return c
  }, [base])
  const fail = useCallback((err: unknown) => setMessage(apiMessage(err, lang, m)), [lang, m])

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
    let live = true
    firstVillage(me.user.unitCode).then((v) => {
      if (!live) return
      if (!v) return setNoVillage(true)
      history.replaceState(null, '', `/editor?village=${v}`)
      setCode(v)
    }, () => live && setNoVillage(true))
    return () => {
      live = false
    }
  }, [code, reload, fail, me])

  // The map and terra-draw, once there is a village (the map's element is rendered only then).
  const haveVillage = !!code
  useEffect(() => {
    if (!el.current || !haveVillage) return
    const map = new maplibregl.Map({
      container: el.current,
      transformRequest: resolveRelativeUrls,
      style: { version: 8, sources: {}, layers: [{ id: 'bg', type: 'background', paint: { 'background-color': '#eef1f4' } }] },
      center: [103.7, 27.3], zoom: 9, attributionControl: false, maxPitch: 0,
    })
    mapRef.current = map
    window.__gridwatch = { ...window.__gridwatch, map }
    map.on('load', () => {
      const empty: GeoJSON.FeatureCollection = { type: 'FeatureCollection', features: [] }
      for (const id of ['village', 'grids', 'micro', 'proposed']) map.addSource(id, { type: 'geojson', data: empty })
      map.addLayer({ id: 'grids-fill', type: 'fill', source: 'grids', paint: { 'fill-color': ['match', ['get', 'size'], 'low', '#9ecae1', 'high', '#fdae6b', '#c7e9c0'], 'fill-opacity': ['case', ['get', 'selected'], 0.2, 0.55] } })
      map.addLayer({ id: 'micro-line', type: 'line', source: 'micro', paint: { 'line-color': ['case', ['get', 'selected'], '#d7301f', '#888'], 'line-width': ['case', ['get', 'selected'], 2, 0.6], 'line-dasharray': [2, 2] } })
      map.addLayer({ id: 'grids-line', type: 'line', source: 'grids', paint: { 'line-color': '#2b5c8a', 'line-width': 1.5 } })
      map.addLayer({ id: 'proposed-line', type: 'line', source: 'proposed', paint: { 'line-color': '#d7301f', 'line-width': 2, 'line-dasharray': [3, 1] } })
      map.addLayer({ id: 'village-line', type: 'line', source: 'village', paint: { 'line-color': '#222', 'line-width': 2.5 } })
      let ids = 0
      const snap = (e: { lng: number; lat: number }) => {
        const p = snappingRef.current ? snapTarget(coverRef.current, [e.lng, e.lat], (p) => map.project(p), 12, microOfRef.current) : undefined
        return p && drawPrecision(p)
      }
      const draw = new TerraDraw({
        adapter: new TerraDrawMapLibreGLAdapter({ map }),
        // Our own ids: the grid being edited is always 'edit' (the default strategy accepts UUIDs only).
        idStrategy: { isValidId: (id) => typeof id === 'string' && id.length > 0, getId: () => `f${++ids}` },
        modes: [
          new TerraDrawSelectMode({
            flags: {
              polygon: {
                feature: {
                  coordinates: {
                    draggable: true, midpoints: true, deletable: true,
                    // Vertices snap to the village's and the other grids' vertices, else their edges, within 12 px.
                    snappable: { toCustom: snap },
                  },
                },
              },
            },
          }),
          new TerraDrawLineStringMode(),
          new TerraDrawPolygonMode({ snapping: { toCustom: snap } }),
        ],
      })
      draw.start()
      draw.on('finish', (id, ctx) => {
        const f = draw.getSnapshotFeature(id)
        if (!f) return
        if (f.geometry.type === 'LineString') setChange((c) => (c?.op === 'split' ? { ...c, line: f.geometry as GeoJSON.LineString } : c))
        if (f.geometry.type === 'Polygon' && ctx.action === 'draw') {
          setChange({ op: 'add', geometry: { type: 'Polygon', coordinates: (f.geometry as GeoJSON.Polygon).coordinates } })
          setPreview(null)
        }
        // Any finished edit of the grid being reshaped (a vertex dragged, inserted or deleted, the
        // polygon dragged) is one undo step. terra-draw reports each as a finish of select mode.
        if (id === EDIT_ID && ctx.action !== 'draw' && f.geometry.type === 'Polygon' && drawHistory.current) {
          const poly = structuredClone({ type: 'Polygon', coordinates: (f.geometry as GeoJSON.Polygon).coordinates }) as GeoJSON.Polygon
          if (!drawHistory.current.record(poly)) return
          setTick((n) => n + 1)
          setChange((c) => (c?.op === 'reshape' ? { ...c, geometry: poly } : c))
          setPreview(null)
        }
      })
      drawRef.current = draw
      setMapReady(true)
      // For the browser tests: the drawing, and the editor's state.
      ;(window as unknown as { __gridwatchEditor: unknown }).__gridwatchEditor = {
        draw, ready: true,
        state: () => ({ canUndo: drawHistory.current?.canUndo ?? false, canRedo: drawHistory.current?.canRedo ?? false, change: changeRef.current?.op ?? null }),
      }
    })
    return () => {
      drawRef.current?.stop()
      map.remove()
    }
  }, [haveVillage])

  // The cover on the map; fit the village once.
  const fitted = useRef(false)
  useEffect(() => {
    const map = mapRef.current
    // Waits for mapReady, not map.isStyleLoaded(): terra-draw's sources keep that false at times, and a 'load' awaited then never comes.
    if (!map || !cover || !mapReady) return
    const apply = () => {
      const counts = new Map(cover.grids.map((g) => [g.key, g.households]))
      const fc = (kind: 'basic' | 'micro'): GeoJSON.FeatureCollection => ({
        type: 'FeatureCollection',
        features: cover.grids.filter((g) => g.kind === kind).map((g) => ({
          type: 'Feature', geometry: g.geom, properties: { key: g.key, selected: g.key === selected, households: counts.get(g.key) ?? 0, size: sizeOf(g) },
        })),
      })
      ;(map.getSource('grids') as maplibregl.GeoJSONSource).setData(fc('basic'))
      ;(map.getSource('micro') as maplibregl.GeoJSONSource).setData(fc('micro'))
      ;(map.getSource('village') as maplibregl.GeoJSONSource).setData({ type: 'Feature', geometry: cover.village.geom, properties: {} })
      if (!fitted.current) {
        map.fitBounds(bboxOf(cover.village.geom), { padding: 40, duration: 0 })
        fitted.current = true
      }
    }
    apply()
  }, [cover, selected, mapReady])

  // The server's proposed cover, drawn over the current one: the basic grids, or for a change of
  // micro-grids those of their grid (the basic grids do not move then).
  useEffect(() => {
    const src = mapRef.current?.getSource('proposed') as maplibregl.GeoJSONSource | undefined
    const parent = microOfRef.current
    const shown = (preview?.grids ?? []).filter((g) => (parent ? g.kind === 'micro' && g.parent === parent : g.kind === 'basic'))
    src?.setData({ type: 'FeatureCollection', features: shown.map((g) => ({ type: 'Feature', geometry: g.geom, properties: {} })) })
  }, [preview])

  const clearDrawing = () => {
    const draw = drawRef.current
    if (!draw) return
    draw.clear()
    draw.setMode('select')
  }
  const pick = (g: CoverGrid) => {
    setSelected(g.key)
    setPreview(null)
    setChange(null)
    setTool(null)
    clearDrawing()
  }
  const startTool = (tl: Tool) => {
    const draw = drawRef.current
    if (!draw) return
    clearDrawing()
    setTool(tl)
    setPreview(null)
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
      setChange(null)
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
    setPreview(null)
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
    try {
      setPreview(await sendJson<Preview>('POST', `${base}/preview`, { change: c }))
    } catch (err) {
      fail(err)
    } finally {
      setBusy(false)
    }
  }
  const save = async (c0: Change | null = change) => {
    const c = latest(c0)
    if (!ready(c) || !cover) return
    setBusy(true)
    try {
      const r = await sendJson<{ version: number }>('POST', base, { change: c, version: cover.version })
      setMessage(t('editor.saved', { n: r.version }))
      setPreview(null)
      setChange(null)
      setTool(null)
      clearDrawing()
      await reload()
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        const c2 = await reload()
        setMessage(t('editor.conflict', { n: c2.version }))
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
      setMessage(t('editor.saved', { n: r.version }))
      clearDrawing()
      await reload()
    } catch (err) {
      fail(err)
    } finally {
      setBusy(false)
    }
  }

  if (!code) return <div className="editor-page">{noVillage && <p role="alert">{m.editor.noVillage}</p>}</div>
  const basic = cover?.grids.filter((g) => g.kind === 'basic') ?? []
  // The picked grid or micro-grid; its siblings are what it may merge with.
  const sel = cover?.grids.find((g) => g.key === selected)
  const siblings = (cover?.grids ?? []).filter((g) => sel && g.kind === sel.kind && g.parent === sel.parent && g.key !== sel.key)
  const openGrid = sel?.kind === 'micro' ? sel.parent : sel?.key
  const micros = (cover?.grids ?? []).filter((g) => g.kind === 'micro' && g.parent === openGrid)
  return (
    <div className="editor-page" data-testid="grid-editor">
      <div ref={el} className="editor-map" data-testid="editor-map" />
      <aside className="editor-panel">
        <h1>{m.editor.title}</h1>
        {cover && <p data-testid="editor-version">{cover.village.name} · {t('editor.version', { n: cover.version })}</p>}
        {message && <p role="status" data-testid="editor-message">{message}</p>}
        <p className="hint">{m.editor.select}</p>
        <h2>{m.editor.grids}</h2>
        <ul className="editor-grids">
          {basic.map((g) => (
            <li key={g.key}>
              <button type="button" aria-pressed={g.key === selected} data-testid={`grid-${g.code}`} onClick={() => pick(g)}>
                {g.name} · {t('editor.households', { n: g.households })}
              </button>
              {g.key === openGrid && (
                <ul className="editor-micros" aria-label={m.editor.micros}>
                  {micros.map((mg) => (
                    <li key={mg.key}>
                      <button type="button" aria-pressed={mg.key === selected} data-testid={`grid-${mg.code}`} className={sizeOf(mg)} onClick={() => pick(mg)}>
                        {mg.name} · {t('editor.households', { n: mg.households })}
                      </button>
                    </li>
                  ))}
                </ul>
              )}
            </li>
          ))}
        </ul>
        <div className="editor-tools">
          <button type="button" disabled={!sel} data-testid="tool-reshape" onClick={() => startTool('reshape')}>{m.editor.reshape}</button>
          <button type="button" disabled={!sel} data-testid="tool-split" onClick={() => startTool('split')}>{m.editor.split}</button>
          <button type="button" data-testid="tool-add" onClick={() => startTool('add')}>{m.editor.add}</button>
          <button type="button" disabled={!sel} data-testid="tool-delete" onClick={() => { const c: Change = { op: 'delete', grid: sel!.code }; setChange(c); void runPreview(c) }}>{m.editor.remove}</button>
          {sel && (
            <label>
              {m.editor.mergeWith}
              <select data-testid="merge-with" value="" onChange={(e) => { const c: Change = { op: 'merge', grids: [sel.code, e.target.value] }; setChange(c); void runPreview(c) }}>
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
          <button type="button" data-testid="save" disabled={!ready(change) || busy || (preview !== null && !preview.valid)} onClick={() => void save()}>{m.editor.save}</button>
          <button type="button" onClick={() => { setChange(null); setPreview(null); setTool(null); clearDrawing() }}>{m.editor.cancel}</button>
        </div>
        {preview && <PreviewPanel preview={preview} cover={cover!} />}
        <ImportPanel village={code} onSaved={(n) => { setMessage(t('editor.saved', { n })); clearDrawing(); void reload() }} />
        <h2>{m.editor.history}</h2>
        <ol className="editor-history" data-testid="editor-history">
          {versions.map((v) => (
            <li key={v.version}>
              {t('editor.version', { n: v.version })} · {when(v.at, lang)} · {v.actor} · {v.operation.op}
              {v.version !== cover?.version && <button type="button" disabled={busy} onClick={() => void restore(v.version)}>{m.editor.restore}</button>}
            </li>
          ))}
          {versions.length > 0 && <li>{m.editor.original} <button type="button" disabled={busy} onClick={() => void restore(0)}>{m.editor.restore}</button></li>}
        </ol>
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

/** Colour by the default guidance; the preview shows the server's figures. */
function sizeOf(g: CoverGrid): 'low' | 'ok' | 'high' {
  const [min, max] = g.kind === 'basic' ? [60, 100] : [10, 30]
  return g.households < min ? 'low' : g.households > max ? 'high' : 'ok'
}

function PreviewPanel({ preview, cover }: { preview: Preview; cover: Cover }) {
  const { m, t, lang } = useI18n()
  const name = (key: string) => cover.grids.find((g) => g.key === key)?.name ?? preview.grids.find((g) => g.key === key)?.name ?? key
  const g = preview.guidance
  return (
    <section className="editor-preview" data-testid="editor-preview">
      <p data-testid="preview-verdict" className={preview.valid ? 'ok' : 'bad'}>{preview.valid ? m.editor.valid : m.editor.invalid}</p>
      {preview.problems.map((p, i) => <p key={i} className="bad">{lang === 'zh' ? p.zh : p.en}</p>)}
      <h3>{m.editor.moves}</h3>
      {preview.flows.length === 0 ? <p>{m.editor.noMoves}</p> : (
        <ul data-testid="preview-flows">
          {preview.flows.map((f) => <li key={`${f.from}>${f.to}`}>{t('editor.flow', { from: name(f.from), to: name(f.to), n: f.households })}</li>)}
        </ul>
      )}
      <h3>{t('editor.counts', { bmin: g.basic.min, bmax: g.basic.max, mmin: g.micro.min, mmax: g.micro.max })}</h3>
      <table>
        <tbody>
          {preview.counts.filter((c) => c.before !== c.after).map((c) => (
            <tr key={c.key}><td>{name(c.key)}</td><td>{c.before} → {c.after}</td><td className={c.size}>{m.editor[c.size]}</td></tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}
