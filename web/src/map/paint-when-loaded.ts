import type * as maplibregl from 'maplibre-gl'

/** Longest the first paint waits for the first view's tiles, from the map's making: past it, what has come is painted as it comes. */
export const FIRST_PAINT_WAIT_MS = 4000

/** The wait, which a browser test may set (window.__gridwatchFirstPaintWaitMs) so that it holds on a busy machine. */
function firstPaintWait(): number {
  const set = (window as unknown as { __gridwatchFirstPaintWaitMs?: unknown }).__gridwatchFirstPaintWaitMs
  return typeof set === 'number' && set >= 0 ? set : FIRST_PAINT_WAIT_MS
}

interface Painter {
  render(...args: unknown[]): void
}

/**
 * Until the first view's tiles are all in (or FIRST_PAINT_WAIT_MS has passed), frames are worked out but not
 * painted. MapLibre paints a frame each time a tile arrives; on software WebGL (SwiftShader, a command-room PC
 * without a GPU driver) a 1920×1080 frame costs 150–300 ms of both cores, so the dozen half-drawn frames of a
 * first load took the CPU the tiles' parsing needed, and the complete map came seconds later. Tiles are still
 * asked for, parsed and placed as before (that work is done outside the painter); only the painting waits, and
 * the frame in which the last tile is in is painted whole. Only the first view: later moves paint as they go.
 */
export function paintWhenLoaded(map: maplibregl.Map, waitMs = firstPaintWait()): void {
  const painter = (map as unknown as { painter?: Painter }).painter
  if (!painter || typeof painter.render !== 'function') return
  const render = painter.render
  const until = performance.now() + waitMs
  let done = false
  const restore = (repaint: boolean) => {
    if (done) return
    done = true
    painter.render = render
    // On load the frame that fired it was painted whole: another would cost a full software-GL frame for nothing.
    if (repaint) map.triggerRepaint()
  }
  painter.render = function (this: Painter, ...args: unknown[]) {
    // A frame while anything is still loading is skipped; one with everything in (or nothing asked yet) is painted.
    if (performance.now() < until && !map.isStyleLoaded()) return
    render.apply(this, args)
  }
  whenLoaded(map, () => restore(false))
  // Past the wait with nothing arriving to ask for a frame: one is asked for, so what is in shows.
  setTimeout(() => restore(true), waitMs)
}

/**
 * Calls `done` after the first frame in which the map's style and every tile it asked for are in: the test
 * MapLibre's 'load' makes, in the same place (right after the frame's 'render'), but for the style the map has
 * now. A map made in advance (MapView's spare) has had its 'load' already, with the empty style it was made with.
 */
export function whenLoaded(map: maplibregl.Map, done: () => void): void {
  const check = () => {
    if (!map.loaded()) return
    map.off('render', check)
    done()
  }
  map.on('render', check)
}
