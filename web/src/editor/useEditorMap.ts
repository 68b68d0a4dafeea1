import * as maplibregl from 'maplibre-gl'
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?worker&url'
import { useEffect, useRef, useState, type RefObject } from 'react'
import { TerraDraw, TerraDrawLineStringMode, TerraDrawPolygonMode, TerraDrawSelectMode } from 'terra-draw'
import { TerraDrawMapLibreGLAdapter } from 'terra-draw-maplibre-gl-adapter'
import type { ClientConfig } from '../api.ts'
import { fontStack } from '../map/style.ts'
import { addContextIcons, editorStyle } from './context-layers.ts'
import { addCoverLayers } from './cover-layers.ts'
import { resolveRelativeUrls } from '../map/resolve-url.ts'
import { mapLocale } from '../map/locale.ts'
import type { Messages } from '../i18n/zh.ts'

maplibregl.setWorkerUrl(workerUrl)

type Position = [number, number]
export interface FinishContext { action: string }

export interface EditorMapHandlers {
  /** Where a vertex being dragged or drawn at `at` lands (a snap target), or undefined to keep it where the pointer is. */
  snap(map: maplibregl.Map, at: Position): GeoJSON.Position | undefined
  /** terra-draw finished a drawing or an edit of feature `id`. */
  finish(draw: TerraDraw, id: string, ctx: FinishContext): void
}

/**
 * The editor's map and terra-draw: made once there is a village (the map's
 * element is rendered only then) and the basemap setting is known; `ready`
 * once the map has loaded and the cover's sources exist. Handlers are read
 * through a ref, so the page may pass new closures on each render.
 */
export function useEditorMap(el: RefObject<HTMLDivElement | null>, enabled: boolean, config: ClientConfig | null | undefined, m: Messages, handlers: EditorMapHandlers) {
  const mapRef = useRef<maplibregl.Map | null>(null)
  const drawRef = useRef<TerraDraw | null>(null)
  const [ready, setReady] = useState(false)
  const on = useRef(handlers)
  on.current = handlers
  // MapLibre's control texts are set when the map is made; a language switch reloads the editor's map only with a new village.
  const words = useRef(m)
  words.current = m

  useEffect(() => {
    if (!el.current || !enabled || config === undefined) return
    const map = new maplibregl.Map({
      container: el.current,
      transformRequest: resolveRelativeUrls,
      style: editorStyle(location.origin, config),
      center: [103.7, 27.3], zoom: 9, maxPitch: 0,
      attributionControl: config?.basemap ? { compact: true } : false,
      localIdeographFontFamily: fontStack.join(', '), locale: mapLocale(words.current),
    })
    addContextIcons(map)
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'bottom-right')
    map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left')
    mapRef.current = map
    window.__gridwatch = { ...window.__gridwatch, map }
    map.on('load', () => {
      addCoverLayers(map)
      let ids = 0
      const snap = (e: { lng: number; lat: number }) => on.current.snap(map, [e.lng, e.lat])
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
                    // Vertices snap to the village's and the other grids' vertices, else their edges.
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
      draw.on('finish', (id, ctx) => on.current.finish(draw, String(id), ctx))
      drawRef.current = draw
      setReady(true)
    })
    return () => {
      drawRef.current?.stop()
      drawRef.current = null
      mapRef.current = null
      setReady(false)
      map.remove()
    }
  }, [el, enabled, config])

  return { mapRef, drawRef, ready }
}
