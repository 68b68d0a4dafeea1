import 'maplibre-gl/dist/maplibre-gl.css'
import './editor.css'
import { useEffect, useRef, useState } from 'react'
import { useI18n } from '../i18n/index.tsx'
import { useClientConfig } from './context-layers.ts'
import { ContextToggles } from './ContextToggles.tsx'
import { EditorToolbar } from './EditorToolbar.tsx'
import { GridList } from './GridList.tsx'
import { showCover, showProposal } from './cover-layers.ts'
import { bboxOf } from './geometry.ts'
import { ImportPanel } from './ImportPanel.tsx'
import { PreviewPanel } from './PreviewPanel.tsx'
import { drawPrecision, snapTarget } from './snap.ts'
import type { CoverGrid } from './types.ts'
import { readyChange, useCoverChange } from './useCoverChange.ts'
import { useDrawUndo } from './useDrawUndo.ts'
import { useEditorMap } from './useEditorMap.ts'
import { useEditorMessage } from './useEditorMessage.ts'
import { useVillageCover } from './useVillageCover.ts'
import { VersionHistory } from './VersionHistory.tsx'

/**
 * /editor?village=CODE: a village's grids on a map, over the command map's
 * households, hazard sites and shelters (context-layers.ts); pick one and
 * drag its vertices (terra-draw, snapping to the village edge and the other
 * grids), split it with a line, add, merge or delete; preview what the server
 * would do (households moving, counts against the guidance, problems), save
 * what was previewed, undo and redo the drawing, and restore an earlier version.
 * The village and its cover come from useVillageCover, the change being made
 * from useCoverChange, its drawing's undo from useDrawUndo.
 */
export function EditorPage() {
  const { m, t } = useI18n()
  const config = useClientConfig()
  const said = useEditorMessage()
  const [selected, setSelected] = useState<string | null>(null)
  const { code, noVillage, cover, versions, base, reload } = useVillageCover(said.fail, setSelected)
  const el = useRef<HTMLDivElement>(null)
  const undo = useDrawUndo<GeoJSON.Polygon>()
  // Snapping on by default; off when a user wants a vertex exactly where they drop it.
  const [snapping, setSnapping] = useState(true)
  // When a micro-grid is picked: its grid, whose micro-grids are then snap targets too.
  const microOf = cover?.grids.find((g) => g.key === selected && g.kind === 'micro')?.parent ?? null
  const live = useRef({ cover, microOf, snapping })
  live.current = { cover, microOf, snapping }

  const { mapRef, drawRef, ready: mapReady } = useEditorMap(el, !!code, config, m, {
    snap: (map, at) => {
      const { cover: c, snapping: on, microOf: parent } = live.current
      const p = on ? snapTarget(c, at, (q) => map.project(q), 12, parent) : undefined
      return p && drawPrecision(p)
    },
    // Called by terra-draw after this render is done, when `edit` below is set.
    finish: (draw, id, ctx) => edit.drawn(draw, id, ctx),
  })
  const edit = useCoverChange({ base, cover, selected, reload, drawRef, undo, said })
  const { change, changeRef, previewed } = edit

  // For the browser tests: the drawing, and the editor's state.
  useEffect(() => {
    if (!mapReady || !drawRef.current) return
    ;(window as unknown as { __gridwatchEditor: unknown }).__gridwatchEditor = {
      draw: drawRef.current, ready: true,
      state: () => ({ canUndo: undo.canUndo, canRedo: undo.canRedo, change: changeRef.current?.op ?? null }),
    }
  }, [mapReady, drawRef, undo, changeRef])

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

  const pick = (g: CoverGrid) => {
    setSelected(g.key)
    edit.cancel()
  }

  const { message } = said
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
        <EditorToolbar
          sel={sel}
          siblings={siblings}
          tool={edit.tool}
          onTool={edit.startTool}
          onChange={edit.changeAndPreview}
          canUndo={change?.op === 'reshape' && undo.canUndo}
          canRedo={change?.op === 'reshape' && undo.canRedo}
          onStep={edit.step}
          snapping={snapping}
          onSnapping={setSnapping}
          canPreview={readyChange(change) && !edit.busy}
          onPreview={() => void edit.runPreview()}
          canSave={!!previewed?.preview.valid && !edit.busy}
          onSave={() => void edit.save()}
          onCancel={edit.cancel}
        />
        {previewed && cover && <PreviewPanel preview={previewed.preview} cover={cover} parent={microOf} />}
        <ImportPanel village={code} onSaved={edit.imported} />
        <VersionHistory versions={versions} current={cover?.version} busy={edit.busy} onRestore={(n) => void edit.restore(n)} />
      </aside>
    </div>
  )
}
