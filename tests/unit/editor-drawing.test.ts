/**
 * The grid editor's drawing helpers: the undo/redo history of the polygon
 * being reshaped, and where a dropped vertex snaps (vertex first, else a
 * point exactly on an edge, within the pixel radius; nothing when too far).
 */
import { describe, expect, it } from 'vitest'
import { DrawHistory } from '../../web/src/editor/undo.ts'
import { snapTarget } from '../../web/src/editor/snap.ts'
import type { Cover } from '../../web/src/editor/types.ts'

describe('DrawHistory', () => {
  it('records finished edits, undoes and redoes them, and an edit after an undo drops the redo', () => {
    const h = new DrawHistory({ v: 0 })
    expect([h.canUndo, h.canRedo]).toEqual([false, false])
    expect(h.undo()).toBeUndefined()
    expect(h.record({ v: 1 })).toBe(true)
    expect(h.record({ v: 2 })).toBe(true)
    expect(h.undo()).toEqual({ v: 1 })
    expect(h.undo()).toEqual({ v: 0 })
    expect(h.undo()).toBeUndefined()
    expect(h.redo()).toEqual({ v: 1 })
    expect(h.current).toEqual({ v: 1 })
    expect(h.record({ v: 3 })).toBe(true)
    expect(h.canRedo).toBe(false)
    expect(h.redo()).toBeUndefined()
    expect(h.undo()).toEqual({ v: 1 })
  })

  it('does not record an edit that left the polygon as it was (a click on a vertex without moving it)', () => {
    const h = new DrawHistory({ v: 0 })
    expect(h.record({ v: 0 })).toBe(false)
    expect(h.canUndo).toBe(false)
  })
})

describe('snapTarget', () => {
  // 1 degree = 1000 px, y down: a plain projection is enough to test the geometry.
  const project = ([x, y]: [number, number]) => ({ x: x * 1000, y: -y * 1000 })
  const square = (x0: number, y0: number, s: number) => ({ type: 'Polygon' as const, coordinates: [[[x0, y0], [x0 + s, y0], [x0 + s, y0 + s], [x0, y0 + s], [x0, y0]]] })
  const cover = {
    village: { id: 1, code: '530602001001', name: 'v', geom: { type: 'MultiPolygon', coordinates: [square(0, 0, 1).coordinates] } },
    version: 0,
    grids: [
      { key: 'a', code: 'a', name: 'a', kind: 'basic', parent: null, households: 0, geom: square(0, 0, 0.5) },
      // Micro-grids are not snap targets: they follow their grid on the server.
      { key: 'a/m', code: 'm', name: 'm', kind: 'micro', parent: 'a', households: 0, geom: square(0.1, 0.1, 0.2) },
    ],
  } as unknown as Cover

  it('snaps to a vertex within the radius, before an edge', () => {
    expect(snapTarget(cover, [0.505, 0.497], project, 12)).toEqual([0.5, 0.5])
  })

  it('snaps onto an edge, at a point that lies exactly on the edge in lon/lat', () => {
    const p = snapTarget(cover, [0.25, 0.506], project, 12)!
    expect(p[1]).toBe(0.5)
    expect(p[0]).toBeCloseTo(0.25, 12)
    // The village's outer edge: x = 1.
    const q = snapTarget(cover, [0.992, 0.73], project, 12)!
    expect(q[0]).toBe(1)
    expect(q[1]).toBeCloseTo(0.73, 12)
  })

  it('keeps the pointer (no target) beyond the radius, and ignores micro-grids', () => {
    expect(snapTarget(cover, [0.25, 0.52], project, 12)).toBeUndefined()
    expect(snapTarget(cover, [0.302, 0.2], project, 12)).toBeUndefined()
    expect(snapTarget(null, [0.5, 0.5], project, 12)).toBeUndefined()
  })

  it('snaps to the micro-grids of a grid while one of its micro-grids is edited', () => {
    const p = snapTarget(cover, [0.302, 0.2], project, 12, 'a')!
    expect(p[0]).toBeCloseTo(0.3, 12)
    expect(p[1]).toBeCloseTo(0.2, 12)
    expect(snapTarget(cover, [0.302, 0.2], project, 12, 'b')).toBeUndefined()
  })
})
