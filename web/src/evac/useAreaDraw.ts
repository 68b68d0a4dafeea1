import type * as maplibregl from 'maplibre-gl'
import { useCallback, useEffect, useRef, useState } from 'react'
import { TerraDraw, TerraDrawPolygonMode } from 'terra-draw'
import { TerraDrawMapLibreGLAdapter } from 'terra-draw-maplibre-gl-adapter'
import { whenStyleReady } from '../map/when-style.ts'

/** What the browser test reads: the drawing on the command map, while one is open. */
export interface AreaDrawProbe {
  draw: TerraDraw
}
declare global {
  interface Window {
    __gridwatchAreaDraw?: AreaDrawProbe
  }
}

/**
 * An order's area drawn on the command map while `active`: terra-draw's
 * polygon mode (click the corners, click the first one to close; the corners
 * can be dragged afterwards). One polygon at a time: a new one replaces the
 * old. The drawing leaves the map when `active` ends or the form closes.
 */
export function useAreaDraw(map: maplibregl.Map | null, active: boolean) {
  const [area, setArea] = useState<GeoJSON.Polygon | null>(null)
  const drawRef = useRef<TerraDraw | null>(null)

  useEffect(() => {
    if (!map || !active) return
    let draw: TerraDraw | null = null
    const start = () => {
      draw = new TerraDraw({
        adapter: new TerraDrawMapLibreGLAdapter({ map }),
        modes: [new TerraDrawPolygonMode({ editable: true, styles: { fillColor: '#ffab00', fillOpacity: 0.18, outlineColor: '#ffab00', outlineWidth: 2 } })],
      })
      draw.start()
      draw.setMode('polygon')
      const d = draw
      d.on('finish', (id, ctx) => {
        const f = d.getSnapshotFeature(id)
        if (!f || f.geometry.type !== 'Polygon') return
        if (ctx.action === 'draw') {
          const older = d.getSnapshot().filter((x) => x.id !== id && x.geometry.type === 'Polygon').map((x) => x.id!)
          if (older.length) d.removeFeatures(older)
        }
        setArea(structuredClone(f.geometry) as GeoJSON.Polygon)
      })
      drawRef.current = d
      window.__gridwatchAreaDraw = { draw: d }
    }
    // terra-draw adds its sources to the style, which needs the style (not every tile) loaded.
    whenStyleReady(map, start)
    return () => {
      map.off('idle', start)
      draw?.stop()
      drawRef.current = null
      delete window.__gridwatchAreaDraw
      setArea(null)
    }
  }, [map, active])

  /** Starts again: the polygon goes, the next click begins a new one. */
  const clear = useCallback(() => {
    const d = drawRef.current
    if (!d) return
    d.clear()
    d.setMode('polygon')
    setArea(null)
  }, [])

  return { area, clear }
}
