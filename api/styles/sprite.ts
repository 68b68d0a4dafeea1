/**
 * The published style's sprite: the map's icons (core/map-style/icons.ts)
 * painted into one PNG, side by side, with the JSON index MapLibre and QGIS
 * read (name → x, y, width, height, pixelRatio), at 1× and 2×.
 *
 * The painter does what the web map's canvas does with the same shapes:
 * fill each polygon, stroke its edges centred on them, later parts over
 * earlier ones; 4 × 4 samples a pixel smooth the edges.
 */
import { mapIcons, type IconPart, type IconShape, type Point } from '../../core/map-style/icons.ts'
import { encodePng } from './png.ts'

export type SpriteIndex = Record<string, { x: number; y: number; width: number; height: number; pixelRatio: number }>
export interface Sprite {
  index: SpriteIndex
  png: Buffer
}

const SAMPLES = 4
/** Between icons on the sheet, so that a client's bilinear sampling never bleeds one into the next. */
const GAP = 2

const rgb = (hex: string): [number, number, number] => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number]

/** Even-odd rule, as a canvas fills a simple polygon. */
function inside(points: readonly Point[], x: number, y: number): boolean {
  let hit = false
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const [xi, yi] = points[i]
    const [xj, yj] = points[j]
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) hit = !hit
  }
  return hit
}

function distanceToEdges(points: readonly Point[], x: number, y: number): number {
  let best = Infinity
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const [ax, ay] = points[j]
    const [bx, by] = points[i]
    const dx = bx - ax
    const dy = by - ay
    const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy || 1)))
    best = Math.min(best, Math.hypot(x - (ax + t * dx), y - (ay + t * dy)))
  }
  return best
}

/** The colour of the topmost part under a point, or none. */
function colourAt(parts: readonly IconPart[], x: number, y: number): string | null {
  let colour: string | null = null
  for (const p of parts) {
    if (inside(p.points, x, y)) colour = p.fill
    if (p.stroke && distanceToEdges(p.points, x, y) <= p.stroke.width / 2) colour = p.stroke.color
  }
  return colour
}

/** One icon at `ratio` device pixels per CSS pixel, written into the sheet at column `left`. */
function paint(icon: IconShape, ratio: number, sheet: Uint8Array, sheetWidth: number, left: number) {
  const side = icon.size * ratio
  for (let py = 0; py < side; py++) {
    for (let px = 0; px < side; px++) {
      let r = 0, g = 0, b = 0, a = 0
      for (let sy = 0; sy < SAMPLES; sy++) {
        for (let sx = 0; sx < SAMPLES; sx++) {
          const c = colourAt(icon.parts, (px + (sx + 0.5) / SAMPLES) / ratio, (py + (sy + 0.5) / SAMPLES) / ratio)
          if (!c) continue
          const [cr, cg, cb] = rgb(c)
          r += cr; g += cg; b += cb; a += 1
        }
      }
      if (!a) continue
      const o = (py * sheetWidth + left + px) * 4
      // Colour averaged over the covered samples (PNG is not premultiplied), alpha by coverage.
      sheet[o] = Math.round(r / a)
      sheet[o + 1] = Math.round(g / a)
      sheet[o + 2] = Math.round(b / a)
      sheet[o + 3] = Math.round((255 * a) / (SAMPLES * SAMPLES))
    }
  }
}

export function drawSprite(ratio: 1 | 2, icons: readonly IconShape[] = mapIcons): Sprite {
  const width = icons.reduce((w, i) => w + i.size * ratio + GAP, 0) - GAP
  const height = Math.max(...icons.map((i) => i.size * ratio))
  const rgba = new Uint8Array(width * height * 4)
  const index: SpriteIndex = {}
  let left = 0
  for (const icon of icons) {
    paint(icon, ratio, rgba, width, left)
    index[icon.name] = { x: left, y: 0, width: icon.size * ratio, height: icon.size * ratio, pixelRatio: ratio }
    left += icon.size * ratio + GAP
  }
  return { index, png: encodePng(width, height, rgba) }
}

const drawn = new Map<number, Sprite>()
/** The sprite at 1× or 2×, painted once per process (the icons are fixed at build time). */
export function sprite(ratio: 1 | 2): Sprite {
  let s = drawn.get(ratio)
  if (!s) drawn.set(ratio, (s = drawSprite(ratio)))
  return s
}
